"""民生实事项目代表票决制: a yearly cycle, its candidates, the secret ballot, and the
chosen projects' delivery (milestones, progress, delays, supervision visits).

The secret ballot keeps two kinds of row that nothing joins:
- `VoterRecord` (cycle, user, voted_at): who voted, so nobody votes twice;
- `Ballot` (cycle, receipt hash, choices): what was voted, with a random primary key,
  no user, no time, so neither a column nor the order of keys ties it to a voter.
Both are written in one transaction; the receipt is shown once to the deputy and only
its hash is kept."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CycleState(models.TextChoices):
    COLLECTING = "collecting", _("项目征集")
    SCREENING = "screening", _("审查筛选")
    VOTING = "voting", _("代表票决")
    CLOSED = "closed", _("票决未通过（不足法定人数）")
    PUBLISHED = "published", _("票决结果已公布")
    DELIVERY = "delivery", _("项目实施")
    EVALUATING = "evaluating", _("满意度测评")
    EVALUATED = "evaluated", _("测评结果已公布")


class VoteMode(models.TextChoices):
    APPROVE = "approve", _("逐项表决（赞成/反对/弃权）")
    K_OF_N = "k_of_n", _("差额选择（限选若干项）")


class MajorityBase(models.TextChoices):
    ROLL = "roll", _("全体代表过半数赞成")
    VOTERS = "voters", _("参加投票代表过半数赞成")


class Cycle(models.Model):
    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    title = models.CharField(_("名称"), max_length=120)
    mode = models.CharField(
        _("票决方式"), max_length=16, choices=VoteMode.choices, default=VoteMode.APPROVE
    )
    places = models.PositiveSmallIntegerField(_("确定项目数"), default=10)
    # k_of_n: how many a deputy may choose at most (0: as many as there are places).
    max_choices = models.PositiveSmallIntegerField(_("每票限选项数"), default=0)
    majority_base = models.CharField(
        _("当选条件"), max_length=16, choices=MajorityBase.choices, default=MajorityBase.ROLL
    )
    # The ballot is valid when more than this share (percent) of the roll voted.
    quorum_percent = models.PositiveSmallIntegerField(
        _("法定人数（超过代表总数的百分比）"), default=50
    )
    state = models.CharField(
        _("阶段"), max_length=16, choices=CycleState.choices, default=CycleState.COLLECTING
    )
    roll_size = models.PositiveIntegerField(_("应到代表数"), default=0)
    voting_opened_at = models.DateTimeField(_("票决开始时间"), null=True, blank=True)
    voting_closed_at = models.DateTimeField(_("票决结束时间"), null=True, blank=True)
    voters_count = models.PositiveIntegerField(_("实到投票代表数"), default=0)
    # Why nothing was published (no quorum), in the words shown on the results page.
    outcome_note = models.TextField(_("票决说明"), blank=True, default="")
    evaluation_roll_size = models.PositiveIntegerField(_("测评应到代表数"), default=0)
    evaluation_voters_count = models.PositiveIntegerField(_("测评实到代表数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("民生实事年度票决")
        verbose_name_plural = _("民生实事年度票决")
        ordering = ["-year"]

    def __str__(self) -> str:
        return self.title

    @property
    def choose_at_most(self) -> int:
        return self.max_choices or self.places


class CandidateSource(models.TextChoices):
    PUBLIC = "public", _("群众征集")
    DEPUTY = "deputy", _("代表提出")
    DEPARTMENT = "department", _("部门申报")
    PROMOTED = "promoted", _("由民意或建议转入")


class Candidate(models.Model):
    """A proposed project; once chosen, the project itself (delivery hangs on it). Its
    core case (channel "project") carries the links to what it came from."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="candidates", verbose_name=_("年度")
    )
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("事项")
    )
    title = models.CharField(_("项目名称"), max_length=120)
    description = models.TextField(_("项目内容"))
    source = models.CharField(_("来源"), max_length=16, choices=CandidateSource.choices)
    budget_wan = models.DecimalField(
        _("预算（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    lead_unit = models.ForeignKey(
        "units.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("牵头单位"),
    )
    timeline = models.CharField(_("实施周期"), max_length=120, blank=True, default="")
    shortlisted = models.BooleanField(_("列入候选"), default=False)
    # Its place on the ballot paper (1, 2, ...), set when voting opens.
    ballot_number = models.PositiveSmallIntegerField(_("票上序号"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("赞成票"), default=0)
    votes_against = models.PositiveIntegerField(_("反对票"), default=0)
    votes_abstain = models.PositiveIntegerField(_("弃权票"), default=0)
    chosen = models.BooleanField(_("当选"), default=False)
    rank = models.PositiveSmallIntegerField(_("得票排名"), null=True, blank=True)
    progress_percent = models.PositiveSmallIntegerField(_("完成进度（%）"), default=0)
    spent_wan = models.DecimalField(
        _("已完成投资（万元）"), max_digits=12, decimal_places=2, default=0
    )
    satisfied = models.PositiveIntegerField(_("满意"), default=0)
    basically = models.PositiveIntegerField(_("基本满意"), default=0)
    unsatisfied = models.PositiveIntegerField(_("不满意"), default=0)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("民生实事候选项目")
        verbose_name_plural = _("民生实事候选项目")
        ordering = ["cycle", "ballot_number", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def satisfaction_total(self) -> int:
        return self.satisfied + self.basically + self.unsatisfied

    @property
    def satisfaction_rate(self) -> float | None:
        total = self.satisfaction_total
        return (self.satisfied + self.basically) / total if total else None


class BallotKind(models.TextChoices):
    SELECTION = "selection", _("项目票决")
    SATISFACTION = "satisfaction", _("满意度测评")


class RollEntry(models.Model):
    """A deputy on the voter roll of a cycle's vote, fixed when the vote opens."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="roll")
    kind = models.CharField(max_length=16, choices=BallotKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("投票代表名单")
        verbose_name_plural = _("投票代表名单")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind", "user"], name="unique_roll_entry")
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.kind}/{self.user_id}"


class VoterRecord(models.Model):
    """That a deputy voted (never how). Unique per cycle and vote: a second ballot of the
    same deputy fails on this row, in the transaction that would store it."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="voter_records")
    kind = models.CharField(max_length=16, choices=BallotKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    voted_at = models.DateTimeField(_("投票时间"))

    class Meta:
        verbose_name = _("已投票代表")
        verbose_name_plural = _("已投票代表")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "kind", "user"], name="unique_voter_record")
        ]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.kind}/{self.user_id}"


class Ballot(models.Model):
    """One cast ballot. No user, no time, a random key: see the module docstring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="ballots")
    kind = models.CharField(max_length=16, choices=BallotKind.choices)
    # SHA-256 of the receipt the deputy was shown once.
    receipt_hash = models.CharField(max_length=64, unique=True)
    # approve: {"<candidate id>": "for" | "against" | "abstain"}; k_of_n: {"chosen": [ids]};
    # satisfaction: {"<candidate id>": "satisfied" | "basically" | "unsatisfied"}.
    choices = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")
        # Never by key or insertion: listing order must not follow casting order.
        ordering = ["receipt_hash"]

    def __str__(self) -> str:
        return f"{self.cycle_id}/{self.kind}"


class Milestone(models.Model):
    """A delivery step of a chosen project; its core case (channel "project_milestone")
    is owned by the lead unit and due on `due_date`."""

    project = models.ForeignKey(
        Candidate, on_delete=models.PROTECT, related_name="milestones", verbose_name=_("项目")
    )
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("事项")
    )
    title = models.CharField(_("节点名称"), max_length=120)
    due_date = models.DateField(_("计划完成日期"))
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("实施节点")
        verbose_name_plural = _("实施节点")
        ordering = ["project", "due_date", "pk"]

    def __str__(self) -> str:
        return self.title


class ProgressReport(models.Model):
    project = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="reports")
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    percent = models.PositiveSmallIntegerField(_("完成进度（%）"))
    spent_wan = models.DecimalField(_("累计完成投资（万元）"), max_digits=12, decimal_places=2)
    note = models.TextField(_("进展情况"))
    photos = models.ManyToManyField("attachments.Attachment", blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("报送时间"))

    class Meta:
        verbose_name = _("进度报送")
        verbose_name_plural = _("进度报送")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.percent}%"


class Delay(models.Model):
    project = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="delays")
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="delays")
    reason = models.TextField(_("延期原因"))
    expected_date = models.DateField(_("预计完成日期"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("报告时间"))

    class Meta:
        verbose_name = _("延期报告")
        verbose_name_plural = _("延期报告")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.expected_date}"


class SupervisionGroup(models.Model):
    """A deputies' supervision group (代表监督小组) following one project."""

    project = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(_("小组名称"), max_length=100)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("组长"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("成员")
    )

    class Meta:
        verbose_name = _("代表监督小组")
        verbose_name_plural = _("代表监督小组")
        ordering = ["project", "pk"]

    def __str__(self) -> str:
        return self.name


class Visit(models.Model):
    group = models.ForeignKey(SupervisionGroup, on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField(_("视察日期"))
    summary = models.TextField(_("视察情况"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("视察记录")
        verbose_name_plural = _("视察记录")
        ordering = ["-visited_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.group_id} {self.visited_on}"


class Finding(models.Model):
    """A problem a visit found: a core case (channel "project_finding") for the lead
    unit, linked from the project's case."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="findings")
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("视察发现问题")
        verbose_name_plural = _("视察发现问题")

    def __str__(self) -> str:
        return f"{self.visit_id} {self.case_id}"
