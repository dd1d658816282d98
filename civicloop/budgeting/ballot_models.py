"""Ballots, votes and outcomes of a budget process (imported at the end of models.py).

A voter is known only by ``voter_key``: ``sms:<lookup digest of the phone>`` for a resident
verified by SMS code, ``panel:<member id>`` for a panel member with a ticket. The unique
constraint on (ballot, voter_key) is what makes "one voter, one ballot" hold under concurrent
requests, not a check in Python.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.budgeting.rules import RULE_LABELS, BallotKind, Rule

BALLOT_KIND_LABELS = {
    BallotKind.APPROVAL: _("赞成投票（可多选）"),
    BallotKind.CHOOSE_K: _("限选 k 项"),
    BallotKind.SCORING: _("0–10 分打分"),
    BallotKind.CUMULATIVE: _("累积计分"),
}


class Ballot(models.Model):
    process = models.ForeignKey(
        "budgeting.BudgetProcess", on_delete=models.CASCADE, related_name="ballots"
    )
    title = models.CharField(_("标题"), max_length=200)
    kind = models.CharField(
        _("投票方式"), max_length=16, choices=[(k.value, v) for k, v in BALLOT_KIND_LABELS.items()]
    )
    k = models.PositiveSmallIntegerField(_("最多选几项"), null=True, blank=True)
    max_points = models.PositiveSmallIntegerField(_("每项最高分"), default=10)
    total_points = models.PositiveIntegerField(_("总分上限"), null=True, blank=True)
    max_cost = models.BigIntegerField(_("所选项目合计上限（元）"), null=True, blank=True)
    projects = models.ManyToManyField("budgeting.BudgetProject", related_name="ballots")
    opens_at = models.DateTimeField(_("开始"))
    closes_at = models.DateTimeField(_("截止"))
    rule = models.CharField(
        _("采用的计票规则"),
        max_length=16,
        choices=[(r.value, _(label)) for r, label in RULE_LABELS.items()],
        default=Rule.MES.value,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at"]

    def __str__(self) -> str:
        return self.title


class Vote(models.Model):
    class VoterKind(models.TextChoices):
        PANEL = "panel", _("抽选代表")
        PUBLIC = "public", _("群众")

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="votes")
    voter_key = models.CharField(max_length=80)
    voter_kind = models.CharField(max_length=8, choices=VoterKind.choices)
    # project id (str of BudgetProject pk) -> points; approval kinds store 1.
    choices = models.JSONField()
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    cast_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "voter_key"], name="budget_vote_once")
        ]
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.ballot_id}/{self.voter_kind}-{self.pk}"


class Outcome(models.Model):
    """One rule's result on a closed ballot, stored so pages and the API only read it."""

    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="outcomes")
    rule = models.CharField(max_length=16, choices=[(r.value, r.value) for r in Rule])
    project_ids = models.JSONField()  # BudgetProject pks, in the rule's order
    total_cost = models.BigIntegerField()
    reasons = models.JSONField(default=dict)  # project pk -> why the rules disagree on it
    votes_counted = models.PositiveIntegerField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "rule"], name="budget_outcome_rule_once")
        ]

    def __str__(self) -> str:
        return f"{self.ballot_id}/{self.rule}"


from civicloop.budgeting.congress_models import *  # noqa: E402, F403 (one models module for Django)
