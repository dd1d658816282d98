"""政协委员工作室: studios, members, the 协商在线 thread messages, 社情民意 reports with their
adoptions and 批示, and 民生议事堂 sessions with their opinion round.

A studio is also a core handling unit (Unit of kind "studio", supervised by the CPPCC
office): a consultation is a core Case owned by that unit; its messages live here."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_slug() -> str:
    """A short, unguessable, URL-safe slug for the studio's printed code."""
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")


def new_token() -> str:
    """The citizen's access token of a thread (the link sent by SMS): unguessable."""
    return secrets.token_urlsafe(24)


class StudioKind(models.TextChoices):
    TOWN = "town", _("镇（街道）工作室")
    SECTOR = "sector", _("界别工作室")


class Studio(models.Model):
    unit = models.OneToOneField(
        "units.Unit", on_delete=models.PROTECT, related_name="studio", verbose_name=_("对应单位")
    )
    slug = models.CharField(max_length=16, unique=True, default=new_slug)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=StudioKind.choices)
    town = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在镇（街道）")
    )
    sector = models.CharField(_("界别"), max_length=50, blank=True, default="")
    fields = models.JSONField(_("领域"), default=list, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    office_hours = models.CharField(_("接待时间"), max_length=200, blank=True, default="")
    # Which member is on duty which weekday: [{"weekday": 3, "member": <id>}], 1 = Monday.
    rota = models.JSONField(_("值班安排"), default=list, blank=True)
    reply_days = models.PositiveSmallIntegerField(_("首次答复时限（工作日）"), default=3)
    head = models.ForeignKey(
        "Member",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("工作室负责人"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("委员工作室")
        verbose_name_plural = _("委员工作室")
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cppcc_member",
        verbose_name=_("登录账号"),
    )
    name = models.CharField(_("姓名"), max_length=50)
    sector = models.CharField(_("界别"), max_length=50)
    studio = models.ForeignKey(
        Studio, on_delete=models.PROTECT, related_name="members", verbose_name=_("所在工作室")
    )
    standing = models.BooleanField(_("常委"), default=False)
    profile = models.TextField(_("简介"), blank=True, default="")
    photo = models.ForeignKey(
        "attachments.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("照片"),
    )
    is_active = models.BooleanField(_("在任"), default=True)

    class Meta:
        verbose_name = _("政协委员")
        verbose_name_plural = _("政协委员")
        ordering = ["studio_id", "pk"]

    def __str__(self) -> str:
        return self.name


class Thread(models.Model):
    """The 协商在线 side of a consultation case: the studio, the member addressed."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="thread")
    studio = models.ForeignKey(Studio, on_delete=models.PROTECT, related_name="threads")
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads"
    )
    # The access token of the citizen's tracking link (sent by SMS).
    token = models.CharField(max_length=40, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)
    first_reply_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["studio", "-created_at"]),
            # The office's inbox: every thread, newest first.
            models.Index(fields=["-created_at", "-id"], name="studios_thread_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.studio_id}:{self.case_id}"


class Side(models.TextChoices):
    CITIZEN = "citizen", _("群众")
    MEMBER = "member", _("委员")
    UNIT = "unit", _("承办单位")


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    side = models.CharField(max_length=8, choices=Side.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True, default="")
    attachments = models.ManyToManyField("attachments.Attachment", blank=True, related_name="+")
    # A second tap sends the same key: one message.
    key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.side}: {self.text[:20]}"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报送")
    EDITED = "edited", _("已编辑")
    FORWARDED = "forwarded", _("已上报")


class Report(models.Model):
    """社情民意信息: one matter, title / situation / analysis / suggestion."""

    title = models.CharField(_("标题"), max_length=120)
    situation = models.TextField(_("基本情况"))
    analysis = models.TextField(_("原因分析"))
    suggestion = models.TextField(_("意见建议"))
    # The information office's edit, kept beside the member's original.
    edited = models.JSONField(_("编辑稿"), default=dict, blank=True)
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    authors = models.ManyToManyField(Member, related_name="reports")
    threads = models.ManyToManyField(Thread, blank=True, related_name="reports")
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default="draft")
    year = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("社情民意信息")
        verbose_name_plural = _("社情民意信息")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class Level(models.TextChoices):
    WENLING = "wenling", _("温岭市")
    TAIZHOU = "taizhou", _("台州市")
    PROVINCE = "province", _("浙江省")
    NATIONAL = "national", _("全国政协")


class Adoption(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="adoptions")
    level = models.CharField(max_length=10, choices=Level.choices)
    body = models.CharField(_("采用单位"), max_length=100)
    adopted_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "level"], name="studios_adoption_level")
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.body}"


class Instruction(models.Model):
    """A leader's 批示 on a report."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="instructions")
    leader = models.CharField(_("批示领导"), max_length=100)
    level = models.CharField(max_length=10, choices=Level.choices)
    given_on = models.DateField()
    text = models.TextField(_("批示内容"))

    def __str__(self) -> str:
        return f"{self.leader} {self.given_on}"


class TallyRules(models.Model):
    """The office's points table and quotas for one year's tallies. A year without its own
    row uses the latest earlier year's (then the defaults below), so last year's table
    carries over until the office changes it."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    points_wenling = models.PositiveSmallIntegerField(_("温岭市采用"), default=5)
    points_taizhou = models.PositiveSmallIntegerField(_("台州市采用"), default=10)
    points_province = models.PositiveSmallIntegerField(_("浙江省采用"), default=30)
    points_national = models.PositiveSmallIntegerField(_("全国政协采用"), default=50)
    points_instruction = models.PositiveSmallIntegerField(_("领导批示"), default=10)
    quota_standing = models.PositiveSmallIntegerField(_("常委应报篇数"), default=3)
    quota_other = models.PositiveSmallIntegerField(_("其他委员应报篇数"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("计分与应报标准")
        verbose_name_plural = _("计分与应报标准")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)

    @classmethod
    def label(cls, name: str) -> str:
        """A field's label, for the form and for a refusal that names it."""
        field = cls._meta.get_field(name)
        assert isinstance(field, models.Field)
        return str(field.verbose_name)

    def level_points(self) -> dict[str, int]:
        return {
            Level.WENLING: self.points_wenling,
            Level.TAIZHOU: self.points_taizhou,
            Level.PROVINCE: self.points_province,
            Level.NATIONAL: self.points_national,
        }


class Session(models.Model):
    """民生议事堂: a topic, its online opinion round, minutes and recommendations."""

    slug = models.CharField(max_length=16, unique=True, default=new_slug)
    studio = models.ForeignKey(Studio, on_delete=models.PROTECT, related_name="sessions")
    topic = models.CharField(_("议题"), max_length=200)
    background = models.TextField(_("背景材料"), blank=True, default="")
    held_at = models.DateTimeField(_("时间"))
    place = models.CharField(_("地点"), max_length=200)
    minutes = models.TextField(_("会议纪要"), blank=True, default="")
    # The online opinion round before the meeting: participants post and vote while open.
    round_open = models.BooleanField(_("网上意见征集进行中"), default=True)
    published = models.BooleanField(_("已公开"), default=False)

    class Meta:
        verbose_name = _("民生议事堂")
        verbose_name_plural = _("民生议事堂")
        ordering = ["-held_at", "-pk"]

    def __str__(self) -> str:
        return self.topic


class ParticipantKind(models.TextChoices):
    PUBLIC = "public", _("群众")
    MEMBER = "member", _("委员")
    OFFICIAL = "official", _("部门代表")


class Participant(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField(_("称呼"), max_length=50)
    kind = models.CharField(_("身份"), max_length=10, choices=ParticipantKind.choices)
    # The participant's own link to the opinion round (handed out or sent by SMS).
    token = models.CharField(max_length=40, unique=True, default=new_token)

    def __str__(self) -> str:
        return self.name


class Statement(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="statements")
    author = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="statements")
    text = models.CharField(max_length=280)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text


class Vote(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="votes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField()  # 1 agree, -1 disagree, 0 pass

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["statement", "participant"], name="studios_vote_once")
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.statement_id} {self.value}"


class Recommendation(models.Model):
    """An agreed recommendation of a session, followed as a case of the unit it went to."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="recommendations")
    text = models.TextField(_("建议"))
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:40]
