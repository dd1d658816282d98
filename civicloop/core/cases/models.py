"""The case: one thing a citizen, a camera or a member raised, on any channel.

A case is driven by its channel's workflow template (`civicloop.core.cases.workflow`).
Only `civicloop.core.cases.services.transition` changes its state; every change appends a
hash-chained `TimelineEntry` in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import EncryptedTextField
from civicloop.core.accounts.masking import mask_name, mask_phone


class Grade(models.TextChoices):
    TOWN = "town", _("镇级")
    CITY = "city", _("市级")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Case(models.Model):
    number = models.CharField(_("编号"), max_length=32, unique=True)
    channel = models.CharField(_("渠道"), max_length=32, db_index=True)
    workflow = models.CharField(_("流程模板"), max_length=64)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    category = models.CharField(_("类别"), max_length=64, blank=True, default="")
    area = models.ForeignKey(
        "areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    area_path = models.CharField(max_length=255, blank=True, default="", db_index=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True, default="")

    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submitted_cases",
    )
    contact_name = EncryptedTextField(_("联系人"), blank=True, default="")
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    contact_phone_digest = models.CharField(max_length=64, blank=True, default="", db_index=True)
    anonymous = models.BooleanField(_("对办理单位匿名"), default=False)

    state = models.CharField(_("状态"), max_length=32, db_index=True)
    owner_unit = models.ForeignKey(
        "units.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_cases",
        verbose_name=_("受理单位"),
    )
    holder_unit = models.ForeignKey(
        "units.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="held_cases",
        verbose_name=_("当前办理单位"),
    )
    # The unit the case was dispatched to: it keeps this while the receiving unit rates
    # its result, and after closing, so "what my unit handled" is one indexed column.
    assignee_unit = models.ForeignKey(
        "units.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
        verbose_name=_("承办单位"),
    )
    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="held_cases",
    )
    due_at = models.DateTimeField(_("办理时限"), null=True, blank=True)
    due_provisional = models.BooleanField(
        _("时限暂定"),
        default=False,
        help_text=_("时限按尚未确认的年度节假日安排暂算，确认后自动重算"),
    )
    grade = models.CharField(
        _("分级"), max_length=16, choices=Grade.choices, blank=True, default=""
    )
    rating = models.CharField(
        _("评价"), max_length=16, choices=Rating.choices, blank=True, default=""
    )
    rating_comment = models.TextField(_("评价意见"), blank=True, default="")
    round = models.PositiveSmallIntegerField(_("不满意轮次"), default=0)
    result = models.TextField(_("办理结果"), blank=True, default="")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases"
    )
    source = models.CharField(_("来源"), max_length=32, blank=True, default="web")
    data = models.JSONField(default=dict, blank=True)
    # A client-chosen key: the same submission sent twice creates one case.
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # The head of the timeline chain and the step counter, kept on the (locked) case row
    # so appending never has to read the last entry back.
    timeline_seq = models.PositiveIntegerField(default=0, editable=False)
    timeline_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    step_seq = models.PositiveIntegerField(default=0, editable=False)

    # Set by the services (which take an explicit `now`), not by auto_now.
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["holder_unit", "state", "due_at"], name="case_holder_state_due"),
            models.Index(fields=["holder_unit", "due_at"], name="case_holder_due"),
            models.Index(fields=["owner_unit", "closed_at"], name="case_owner_closed"),
            models.Index(fields=["assignee_unit", "closed_at"], name="case_assignee_closed"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            models.Index(fields=["channel", "created_at"], name="case_channel_created"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def masked_contact_name(self) -> str:
        return mask_name(self.contact_name)

    @property
    def masked_contact_phone(self) -> str:
        return mask_phone(self.contact_phone)


class CaseStep(models.Model):
    """One holder's turn with a case, with its deadline. Performance figures
    (按期结案率, 返工率) are computed from steps, not from the case's current state."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField()
    state = models.CharField(max_length=32)
    started_by = models.CharField(max_length=32, help_text="the action that opened this step")
    unit = models.ForeignKey(
        "units.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(
        null=True, blank=True, help_text="when an overdue step goes up to the supervising unit"
    )
    # What the deadline was counted with, so it can be counted again when the calendar
    # of a year it crosses is confirmed: the limit ("15wd") and the moment it counts from
    # (this step's start, or an earlier step's for a kept deadline). Blank for a deadline
    # given as a date (an approved extension) or none.
    sla = models.CharField(max_length=8, blank=True, default="")
    sla_from = models.DateTimeField(null=True, blank=True)
    due_provisional = models.BooleanField(
        default=False,
        help_text="its due, remind or escalate time crosses a year not confirmed yet",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=32, blank=True, default="")
    overdue = models.BooleanField(default=False)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="unique_step_seq")]
        indexes = [
            models.Index(fields=["ended_at", "remind_at"], name="step_open_remind"),
            models.Index(fields=["ended_at", "due_at"], name="step_open_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.state}"


class TimelineEntry(models.Model):
    """An append-only, hash-chained record of one thing that happened to a case.

    `hash` is SHA-256 over a canonical encoding of the entry including `prev_hash`, so
    editing or deleting any row breaks every hash after it (`manage.py verify_chains`).
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="timeline")
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=32, blank=True, default="")
    to_state = models.CharField(max_length=32, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True, default="")
    unit = models.ForeignKey(
        "units.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    attachments = models.ManyToManyField("attachments.Attachment", blank=True, related_name="+")
    attachment_digests = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="unique_entry_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Timeline entries are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Timeline entries are append-only.")


class CaseCounter(models.Model):
    """The last number given per prefix and year (MY-2026-000123)."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="unique_counter")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.value}"


# The rollups live in their own file; imported here so Django finds them.
from civicloop.core.cases.rollup_models import CaseFact, CaseRollup, RollupState  # noqa: E402

__all__ = [
    "Case",
    "CaseCounter",
    "CaseFact",
    "CaseRollup",
    "CaseStep",
    "Grade",
    "Rating",
    "RollupState",
    "TimelineEntry",
]
