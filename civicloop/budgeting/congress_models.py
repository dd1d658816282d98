"""The budget in the town's people's congress (新河 model), imported by ballot_models.py.

A draft budget (``BudgetDraft`` version 1) is published with its lines; deputies table budget
amendment motions (预算修正议案) that change one line by an amount, signed by at least
``BUDGET_MOTION_MIN_SIGNERS`` deputies; each motion is debated and voted (for / against /
abstain); the adopted motions give the revised budget (the next version); execution is then
tracked per line by the 财经小组's reviews between sessions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# 新河镇: a budget amendment motion needs five deputies' signatures (温岭市新河镇预算民主恳谈实施办法).
BUDGET_MOTION_MIN_SIGNERS = 5


class BudgetDraft(models.Model):
    class Kind(models.TextChoices):
        DRAFT = "draft", _("预算草案")
        REVISED = "revised", _("预算修正案")

    process = models.ForeignKey(
        "budgeting.BudgetProcess", on_delete=models.CASCADE, related_name="drafts"
    )
    version = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    note = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "version"], name="budget_draft_version_once")
        ]
        ordering = ["process", "version"]

    def __str__(self) -> str:
        return f"{self.process_id} v{self.version}"


class BudgetLine(models.Model):
    draft = models.ForeignKey(BudgetDraft, on_delete=models.CASCADE, related_name="lines")
    code = models.CharField(_("科目编码"), max_length=20)
    title = models.CharField(_("科目"), max_length=200)
    amount = models.BigIntegerField(_("金额（元）"))
    project = models.ForeignKey(
        "budgeting.BudgetProject",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="budget_lines",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["draft", "code"], name="budget_line_code_once")
        ]
        ordering = ["draft", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class AmendmentMotion(models.Model):
    class State(models.TextChoices):
        SIGNING = "signing", _("征集联名")
        TABLED = "tabled", _("已提交")
        ADOPTED = "adopted", _("通过")
        REJECTED = "rejected", _("未通过")

    process = models.ForeignKey(
        "budgeting.BudgetProcess", on_delete=models.CASCADE, related_name="motions"
    )
    line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="motions")
    title = models.CharField(_("议案标题"), max_length=200)
    delta = models.BigIntegerField(_("调整金额（元，负数为核减）"))
    reason = models.TextField(_("理由"))
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.SIGNING)
    votes_for = models.PositiveIntegerField(null=True, blank=True)
    votes_against = models.PositiveIntegerField(null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(null=True, blank=True)
    debate_note = models.TextField(_("审议记录"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class MotionSignature(models.Model):
    motion = models.ForeignKey(AmendmentMotion, on_delete=models.CASCADE, related_name="signatures")
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["motion", "deputy"], name="budget_motion_sign_once")
        ]

    def __str__(self) -> str:
        return f"{self.motion_id}/{self.deputy_id}"


class ExecutionReview(models.Model):
    """The 财经小组's review of one budget line between sessions."""

    line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField(_("审查日期"))
    spent = models.BigIntegerField(_("已支出（元）"))
    progress = models.PositiveSmallIntegerField(_("进度（%）"))
    finding = models.TextField(_("审查意见"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["line", "reviewed_on"]

    def __str__(self) -> str:
        return f"{self.line_id} {self.reviewed_on}"
