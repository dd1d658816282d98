"""督政议事: topics proposed by deputies or the standing committee, the meetings held on
them (议事会, 专题询问) with their participants, questions put to named departments (each
answered as a core case), the deputies' satisfaction votes and the follow-up cases of
the meeting's decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core.cases.models import Rating


class ProposerKind(models.TextChoices):
    DEPUTY = "deputy", _("人大代表")
    COMMITTEE = "committee", _("人大常委会")


class TopicState(models.TextChoices):
    PROPOSED = "proposed", _("待审议")
    ACCEPTED = "accepted", _("已采纳")
    REJECTED = "rejected", _("未采纳")


class Topic(models.Model):
    """A matter proposed for oversight (督政议题)."""

    title = models.CharField(_("议题"), max_length=200)
    description = models.TextField(_("议题说明"))
    proposer_kind = models.CharField(_("提出方"), max_length=16, choices=ProposerKind.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("提出人"),
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=TopicState.choices, default=TopicState.PROPOSED
    )
    decision_note = models.TextField(_("审议意见"), blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审议时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提出时间"))

    class Meta:
        verbose_name = _("督政议题")
        verbose_name_plural = _("督政议题")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class MeetingKind(models.TextChoices):
    DELIBERATION = "deliberation", _("议事会")
    INQUIRY = "inquiry", _("专题询问")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    VOTING = "voting", _("满意度测评中")
    CLOSED = "closed", _("测评结束")


class Meeting(models.Model):
    """A 督政议事会 or 专题询问 on an accepted topic."""

    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("议题")
    )
    kind = models.CharField(_("会议形式"), max_length=16, choices=MeetingKind.choices)
    title = models.CharField(_("会议名称"), max_length=200)
    held_at = models.DateTimeField(_("会议时间"))
    place = models.CharField(_("会议地点"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    minutes = models.TextField(_("会议纪要"), blank=True, default="")
    minute_files = models.ManyToManyField(
        "attachments.Attachment", blank=True, related_name="+", verbose_name=_("纪要附件")
    )
    # What the public summary says besides the questions, answers and votes.
    summary = models.TextField(_("公开摘要"), blank=True, default="")
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("督政议事会议")
        verbose_name_plural = _("督政议事会议")
        ordering = ["-held_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class ParticipantKind(models.TextChoices):
    DEPUTY = "deputy", _("人大代表")
    DEPARTMENT = "department", _("部门")


class Participant(models.Model):
    """A deputy (by account) or a department (a unit, with who represents it) at a
    meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(_("类型"), max_length=16, choices=ParticipantKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("代表"),
    )
    unit = models.ForeignKey(
        "units.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("部门"),
    )
    # The office of whoever answers for the department (分管副局长), not a name.
    representative = models.CharField(_("出席人职务"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("参会人员")
        verbose_name_plural = _("参会人员")
        ordering = ["kind", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="oversight_one_deputy_seat"),
            models.UniqueConstraint(fields=["meeting", "unit"], name="oversight_one_unit_seat"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="deputy", user__isnull=False, unit__isnull=True)
                    | models.Q(kind="department", unit__isnull=False, user__isnull=True)
                ),
                name="oversight_participant_names_one",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.kind}"


class Question(models.Model):
    """A question a participating deputy put to a department; its answer is `case`."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("提问代表"),
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("答复部门")
    )
    text = models.TextField(_("问题"))
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("答复事项")
    )
    created_at = models.DateTimeField(_("提出时间"))

    class Meta:
        verbose_name = _("询问问题")
        verbose_name_plural = _("询问问题")
        ordering = ["meeting_id", "pk"]

    def __str__(self) -> str:
        return self.text[:40]


class Vote(models.Model):
    """One participating deputy's rating of one department's answers at one meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="votes")
    unit = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("测评"), max_length=16, choices=Rating.choices)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("满意度测评票")
        verbose_name_plural = _("满意度测评票")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "unit", "voter"], name="oversight_one_vote_each"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.unit_id}:{self.choice}"


class FollowUp(models.Model):
    """A decision of the meeting followed up as a case held by the responsible unit."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="follow_ups")
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位")
    )
    decision = models.TextField(_("决定事项"))
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("跟踪督办事项")
        verbose_name_plural = _("跟踪督办事项")
        ordering = ["meeting_id", "pk"]

    def __str__(self) -> str:
        return self.decision[:40]
