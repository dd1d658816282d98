"""参与式预算 (participatory budgeting, the 泽国 deliberative poll): the process and its
phases, the projects, the sampling frame and the panel drawn from it, the T1/T2
questionnaires, the small groups and the plenary questions. Ballots, votes, outcomes and
the congress part live in ballot_models.py / congress_models.py, imported at the end so
Django sees one models module.

Personal data: a frame row's name and phone are encrypted at rest (core's
EncryptedTextField) with a lookup digest of the phone beside them; a panel member is
reached only through their frame row; nothing here is shown in full to the public.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import EncryptedTextField

# 泽国镇 deliberative poll: every project is rated on a 0–10 scale at T1 and T2.
RATING_MAX = 10


class Phase(models.TextChoices):
    """The phases of a process, in order (温岭 参与式预算 / 泽国 民主恳谈)."""

    COLLECTING = "collecting", _("征集")
    SCREENING = "screening", _("初审")
    SAMPLING = "sampling", _("抽样")
    DELIBERATION = "deliberation", _("恳谈/审议")
    VOTING = "voting", _("投票")
    CONGRESS = "congress", _("人代会审议")
    EXECUTION = "execution", _("执行监督")
    PUBLISHED = "published", _("公开")


PHASE_ORDER: tuple[str, ...] = tuple(Phase.values)


class BudgetProcess(models.Model):
    code = models.SlugField(_("编码"), max_length=50, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    year = models.PositiveSmallIntegerField(_("年度"))
    town = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="budget_processes",
        verbose_name=_("镇街"),
    )
    total_budget = models.BigIntegerField(_("预算总额（元）"))
    description = models.TextField(_("说明"), blank=True)
    phase = models.CharField(
        _("阶段"), max_length=16, choices=Phase.choices, default=Phase.COLLECTING
    )
    # The panel: how many seats, how many reserves, the share of seats filled by
    # designated participants (村干部, 企业代表 ...) rather than by lot, and the strata the
    # quotas are set on (frame columns) with their quotas (list of {feature, value, min, max};
    # empty: proportional to the frame, see services.quotas_proportional).
    panel_size = models.PositiveIntegerField(_("抽选人数"), default=275)
    panel_reserve = models.PositiveIntegerField(_("候补人数"), default=30)
    designated_share = models.PositiveSmallIntegerField(_("指定代表比例（%）"), default=0)
    panel_features = models.JSONField(_("分层字段"), default=list, blank=True)
    panel_quotas = models.JSONField(_("配额"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "code"]

    def __str__(self) -> str:
        return self.title

    @property
    def phase_index(self) -> int:
        return PHASE_ORDER.index(self.phase)


class PhaseSchedule(models.Model):
    """The planned dates of one phase of a process."""

    process = models.ForeignKey(BudgetProcess, on_delete=models.CASCADE, related_name="schedule")
    phase = models.CharField(_("阶段"), max_length=16, choices=Phase.choices)
    starts_on = models.DateField(_("开始"))
    ends_on = models.DateField(_("结束"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "phase"], name="budget_phase_once"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="budget_phase_dates"
            ),
        ]
        ordering = ["process", "starts_on"]

    def __str__(self) -> str:
        return f"{self.process_id} {self.phase}"


class BudgetProject(models.Model):
    class Source(models.TextChoices):
        PUBLIC = "public", _("群众")
        DEPUTY = "deputy", _("人大代表")
        DEPARTMENT = "department", _("政府部门")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待初审")
        ACCEPTED = "accepted", _("通过初审")
        REJECTED = "rejected", _("未通过初审")
        MERGED = "merged", _("已合并")

    process = models.ForeignKey(BudgetProcess, on_delete=models.CASCADE, related_name="projects")
    title = models.CharField(_("项目名称"), max_length=200)
    description = models.TextField(_("项目内容"), blank=True)
    cost = models.BigIntegerField(_("估算造价（元）"))
    category = models.CharField(_("类别"), max_length=50, blank=True)
    location = models.CharField(_("地点"), max_length=200, blank=True)
    source = models.CharField(_("提出方"), max_length=12, choices=Source.choices)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_name = EncryptedTextField(_("联系人"), blank=True, default="")
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )
    screening_reason = models.TextField(_("初审意见"), blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    screened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["process", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def name(self) -> str:
        return self.title


class FrameRow(models.Model):
    """One resident in the sampling frame (抽样框) of a process: an id from the file, the
    strata values (feature -> value) the quotas are set on, and the contact encrypted."""

    process = models.ForeignKey(BudgetProcess, on_delete=models.CASCADE, related_name="frame")
    frame_id = models.CharField(_("编号"), max_length=40)
    strata = models.JSONField(_("分层"))
    age = models.PositiveSmallIntegerField(_("年龄"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, blank=True)
    name = EncryptedTextField(_("姓名"), blank=True, default="")
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_digest = models.CharField(max_length=64, blank=True, db_index=True)
    # Marked in the file's ``designated`` column (e.g. 人大代表, 村干部): a person the staff
    # may seat as a designated member; never drawn by lot.
    designated_as = models.CharField(_("指定身份"), max_length=50, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "frame_id"], name="budget_frame_id_once")
        ]
        ordering = ["process", "frame_id"]

    def __str__(self) -> str:
        return self.frame_id


class PanelDraw(models.Model):
    """One draw of the panel: reproducible from the frame (its digest is kept), the quotas,
    the size and the seed. A re-draw is a new row with a new seed and a reason; the latest
    is the process's panel."""

    process = models.ForeignKey(BudgetProcess, on_delete=models.CASCADE, related_name="draws")
    seed = models.BigIntegerField(_("随机种子"))
    size = models.PositiveIntegerField(_("抽选人数"))
    reserve = models.PositiveIntegerField(_("候补人数"))
    designated_share = models.PositiveSmallIntegerField(_("指定代表比例（%）"), default=0)
    quotas = models.JSONField(_("配额"))
    frame_digest = models.CharField(max_length=64)
    frame_size = models.PositiveIntegerField()
    reason = models.TextField(_("重新抽样理由"), blank=True)
    published = models.BooleanField(_("已公开"), default=False)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "seed"], name="budget_draw_seed_once")
        ]
        ordering = ["process", "pk"]

    def __str__(self) -> str:
        return f"{self.process_id} #{self.seed}"


class PanelMember(models.Model):
    class Rsvp(models.TextChoices):
        PENDING = "pending", _("未回复")
        YES = "yes", _("参加")
        NO = "no", _("不参加")

    draw = models.ForeignKey(PanelDraw, on_delete=models.CASCADE, related_name="members")
    # Null for a designated participant, who is not drawn from the frame.
    frame_row = models.ForeignKey(
        FrameRow, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    designated = models.BooleanField(_("指定代表"), default=False)
    designated_name = EncryptedTextField(_("姓名"), blank=True, default="")
    designated_as = models.CharField(_("指定身份"), max_length=50, blank=True)
    reserve = models.BooleanField(_("候补"), default=False)
    reserve_rank = models.PositiveIntegerField(_("候补顺位"), null=True, blank=True)
    # A reserve called up (递补) for a member who declined: who it replaces, when, by whom.
    # It stays ``reserve=True`` (the record of where it came from) and sits on the panel.
    replaces = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name=_("递补"),
    )
    called_at = models.DateTimeField(_("递补时间"), null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.CharField(max_length=43, unique=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    rsvp = models.CharField(_("回复"), max_length=8, choices=Rsvp.choices, default=Rsvp.PENDING)
    rsvp_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(_("出席"), default=False)
    group = models.ForeignKey(
        "budgeting.SmallGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )

    class Meta:
        ordering = ["draw", "reserve", "reserve_rank", "pk"]

    def __str__(self) -> str:
        return f"{self.draw_id}/{self.pk}"

    @property
    def on_panel(self) -> bool:
        """Holds a seat: drawn, designated, or a reserve called up."""
        return not self.reserve or self.called_at is not None

    @property
    def age(self) -> int | None:
        return self.frame_row.age if self.frame_row_id else None  # type: ignore[union-attr]

    @property
    def sex(self) -> str:
        return self.frame_row.sex if self.frame_row_id else ""  # type: ignore[union-attr]


class Wave(models.TextChoices):
    T1 = "t1", _("T1（恳谈前）")
    T2 = "t2", _("T2（恳谈后）")


class Questionnaire(models.Model):
    """One version of the questionnaire: T1 before the deliberation, T2 after it. Both
    rate every accepted project 0–10 and carry the same knowledge items, so answers pair up
    member by member."""

    process = models.ForeignKey(
        BudgetProcess, on_delete=models.CASCADE, related_name="questionnaires"
    )
    wave = models.CharField(_("轮次"), max_length=2, choices=Wave.choices)
    title = models.CharField(_("标题"), max_length=200)
    # [{"id": "k1", "text": "...", "options": ["...", ...], "answer": 0}, ...]
    knowledge_items = models.JSONField(_("知识题"), default=list, blank=True)
    opens_at = models.DateTimeField(_("开始"), null=True, blank=True)
    closes_at = models.DateTimeField(_("截止"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["process", "wave"], name="budget_questionnaire_wave_once"
            )
        ]
        ordering = ["process", "wave"]

    def __str__(self) -> str:
        return self.title


class QuestionnaireResponse(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="responses"
    )
    member = models.ForeignKey(PanelMember, on_delete=models.CASCADE, related_name="responses")
    # item id -> the option index chosen
    knowledge_answers = models.JSONField(default=dict)
    knowledge_score = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "member"], name="budget_response_once")
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire_id}/{self.member_id}"


class ProjectRating(models.Model):
    response = models.ForeignKey(
        QuestionnaireResponse, on_delete=models.CASCADE, related_name="ratings"
    )
    project = models.ForeignKey(BudgetProject, on_delete=models.CASCADE, related_name="ratings")
    score = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "project"], name="budget_rating_once"),
            models.CheckConstraint(
                condition=models.Q(score__lte=RATING_MAX), name="budget_rating_scale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.project_id}={self.score}"


class SmallGroup(models.Model):
    """A small group (小组讨论) of the deliberation day, with its facilitator (主持人)."""

    process = models.ForeignKey(BudgetProcess, on_delete=models.CASCADE, related_name="groups")
    number = models.PositiveSmallIntegerField(_("组号"))
    facilitator = models.CharField(_("主持人"), max_length=50, blank=True)
    room = models.CharField(_("地点"), max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "number"], name="budget_group_number_once")
        ]
        ordering = ["process", "number"]

    def __str__(self) -> str:
        return str(_("第%(n)d组") % {"n": self.number})


class PlenaryQuestion(models.Model):
    """A question a small group brings to the plenary (大会), and the answer given there by
    officials or experts."""

    process = models.ForeignKey(
        BudgetProcess, on_delete=models.CASCADE, related_name="plenary_questions"
    )
    group = models.ForeignKey(
        SmallGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions"
    )
    project = models.ForeignKey(
        BudgetProject, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions"
    )
    text = models.TextField(_("问题"))
    answer = models.TextField(_("回答"), blank=True)
    answered_by = models.CharField(_("回答人"), max_length=100, blank=True)
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["process", "pk"]

    def __str__(self) -> str:
        return self.text[:40]


from civicloop.budgeting.ballot_models import *  # noqa: E402,F403
