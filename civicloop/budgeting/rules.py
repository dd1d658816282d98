"""Ballot rules and outcome rules on plain data, wrapping pabutools.

Nothing here touches the database: the services turn stored ballots into ``ProjectData`` and
``BallotData`` and call these functions, so the same code runs in tests, the API and the bench.

Ballot kinds (``BallotKind``):

- ``approval``: tick any projects (optionally capped by a total cost, ``max_cost``);
- ``choose_k``: tick at most ``k`` projects (approval with a length limit);
- ``scoring``: give each project 0–10 points (cardinal);
- ``cumulative``: spread at most ``total_points`` points over the projects.

Outcome rules (``Rule``):

- ``greedy``: pabutools ``greedy_utilitarian_welfare``. Approval ballots use ``Cost_Sat`` so the
  ratio satisfaction/cost is the number of supporters: projects are funded by vote count, as in
  ordinary participatory budgeting. Scoring/cumulative ballots use ``Cost_Weighted_Score_Sat``
  (score × cost) so projects are funded by total score, like the town funding down its list.
- ``mes``: pabutools ``method_of_equal_shares`` (approval: cost satisfaction, the variant used by
  equalshares.net; scores: additive cardinal satisfaction), completed in two steps with
  ``completion_by_rule_combination``: first the iterated MES (``voter_budget_increment``, the
  "Add1" completion used in real MES elections such as Wieliczka 2023: raise every voter's
  virtual budget by 5 % of the equal share until the outcome would overspend the real budget,
  keep the last feasible outcome), then ``greedy`` on what is left, so money is not left
  unspent. Plain MES alone often spends only about half the budget (bench: 48 %). The step is
  5 % rather than equalshares.net's one currency unit because each step reruns MES: on 50
  projects and 10,000 ballots ``exhaustion_by_budget_increase`` at its default 1 % took 30 s and
  the 1 % voter increment 25 s; at 5 % it is a few seconds (bench/budgeting.py). The outcome is
  computed once when the vote closes and stored, so pages and the API only read it.
- ``phragmen``: pabutools ``sequential_phragmen``, which is defined for approval ballots only.
  Scoring ballots are mapped to approval by approving projects scored at least
  ``PHRAGMEN_SCORE_THRESHOLD`` (6, i.e. above the midpoint of the 0–10 scale); cumulative ballots
  approve every project given at least one point.

Ties are broken by pabutools' default lexicographic order of project ids, so outcomes are
deterministic.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _
from pabutools.election import (
    AbstractCardinalBallot,
    AdditiveSatisfaction,
    ApprovalBallot,
    ApprovalProfile,
    CardinalBallot,
    CardinalProfile,
    Cost_Sat,
    CumulativeBallot,
    CumulativeProfile,
    Instance,
    Project,
)
from pabutools.election.profile import AbstractProfile
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
)

from civicloop.budgeting.ballot_errors import BallotError, BallotErrorCode

PHRAGMEN_SCORE_THRESHOLD = 6
SCORING_MAX_POINTS = 10  # 泽国 deliberative poll: every project rated 0–10


class BallotKind(enum.StrEnum):
    APPROVAL = "approval"
    CHOOSE_K = "choose_k"
    SCORING = "scoring"
    CUMULATIVE = "cumulative"


class Rule(enum.StrEnum):
    GREEDY = "greedy"
    MES = "mes"
    PHRAGMEN = "phragmen"


RULE_LABELS = {
    Rule.GREEDY: "贪心功利规则",
    Rule.MES: "平等份额法（含补足）",
    Rule.PHRAGMEN: "序贯 Phragmén 法",
}


def _refuse(reason: str) -> BallotError:
    """A ballot breaks the rules of its vote; the message says which rule, in words for the voter."""
    return BallotError(BallotErrorCode.RULES, reason, field="choices")


@dataclass(frozen=True)
class ProjectData:
    id: str
    cost: int
    name: str = ""
    category: str = ""


@dataclass(frozen=True)
class BallotData:
    voter_id: str
    # project id -> points; approval kinds use 1 for a tick.
    choices: Mapping[str, int]
    age: int | None = None
    sex: str | None = None


@dataclass(frozen=True)
class BallotRules:
    kind: BallotKind
    k: int | None = None  # choose_k: most projects a voter may tick
    max_points: int = SCORING_MAX_POINTS  # scoring: most points per project
    total_points: int | None = None  # cumulative: most points in all
    max_cost: int | None = None  # approval: ticked projects may cost at most this


def ballot_check(
    *, rules: BallotRules, projects: Sequence[ProjectData], choices: Mapping[str, int]
) -> None:
    """Raise ``BallotRuleError`` with the reason if ``choices`` break ``rules``; return otherwise."""
    by_id = {p.id: p for p in projects}
    unknown = sorted(set(choices) - set(by_id))
    if unknown:
        raise _refuse(_("未知项目：%(ids)s") % {"ids": "、".join(unknown)})
    if any(v < 0 for v in choices.values()):
        raise _refuse(_("分数不能为负。"))
    picked = [pid for pid, v in choices.items() if v > 0]
    if not picked:
        raise _refuse(_("选票是空的：请至少选择一个项目。"))
    if rules.kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K):
        if any(v != 1 for v in choices.values() if v):
            raise _refuse(_("赞成票只能勾选项目，不能打分。"))
        if rules.kind == BallotKind.CHOOSE_K and rules.k is not None and len(picked) > rules.k:
            raise _refuse(
                _("选了 %(n)d 个项目，超过上限 %(k)d 个。") % {"n": len(picked), "k": rules.k}
            )
        if rules.max_cost is not None:
            cost = sum(by_id[pid].cost for pid in picked)
            if cost > rules.max_cost:
                raise _refuse(
                    _("所选项目合计 %(cost)s 元，超过预算上限 %(max)s 元。")
                    % {"cost": f"{cost:,}", "max": f"{rules.max_cost:,}"}
                )
    elif rules.kind == BallotKind.SCORING:
        over = sorted(pid for pid, v in choices.items() if v > rules.max_points)
        if over:
            raise _refuse(
                _("每个项目最多 %(max)d 分：%(ids)s 超出。")
                % {"max": rules.max_points, "ids": "、".join(over)}
            )
    elif rules.kind == BallotKind.CUMULATIVE:
        total = sum(choices.values())
        if rules.total_points is not None and total > rules.total_points:
            raise _refuse(
                _("共分配 %(total)d 分，超过上限 %(max)d 分。")
                % {"total": total, "max": rules.total_points}
            )


def _cost_weighted_score(
    instance: Instance,
    profile: AbstractProfile,
    ballot: Any,
    project: Project,
    precomputed_values: dict,
) -> Fraction:
    return Fraction(ballot.get(project, 0)) * Fraction(project.cost)


class Cost_Weighted_Score_Sat(AdditiveSatisfaction):
    """Score × cost: greedy's ratio satisfaction/cost is then the total score of a project."""

    def __init__(
        self, instance: Instance, profile: AbstractProfile, ballot: AbstractCardinalBallot
    ) -> None:
        AdditiveSatisfaction.__init__(self, instance, profile, ballot, _cost_weighted_score)


@dataclass
class Election:
    instance: Instance
    profile: AbstractProfile
    kind: BallotKind
    projects: dict[str, Project] = field(default_factory=dict)


def election_build(
    *,
    projects: Sequence[ProjectData],
    ballots: Iterable[BallotData],
    budget: int,
    rules: BallotRules,
    meta: Mapping[str, str] | None = None,
) -> Election:
    """Build the pabutools instance and profile for these projects, ballots and budget."""
    instance = Instance(budget_limit=Fraction(budget))
    by_id: dict[str, Project] = {}
    for p in projects:
        project = Project(p.id, Fraction(p.cost))
        instance.add(project)
        by_id[p.id] = project
        instance.project_meta[project] = {"name": p.name} if p.name else {}
        if p.category:
            project.categories = {p.category}
    instance.meta.update(meta or {})
    instance.meta["budget"] = str(budget)
    profile: AbstractProfile
    approval = rules.kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K)
    if approval:
        profile = ApprovalProfile(instance=instance)
    elif rules.kind == BallotKind.SCORING:
        profile = CardinalProfile(instance=instance)
    else:
        profile = CumulativeProfile(instance=instance)
    for b in ballots:
        meta_b: dict[str, str] = {"voter_id": b.voter_id}
        if b.age is not None:
            meta_b["age"] = str(b.age)
        if b.sex:
            meta_b["sex"] = b.sex
        if approval:
            ballot: Any = ApprovalBallot([by_id[pid] for pid, v in b.choices.items() if v > 0])
        else:
            ballot = CardinalBallot() if rules.kind == BallotKind.SCORING else CumulativeBallot()
            for pid, v in b.choices.items():
                if v > 0:
                    ballot[by_id[pid]] = Fraction(v)
        ballot.meta = meta_b
        profile.append(ballot)
    if rules.kind == BallotKind.CHOOSE_K and rules.k:
        profile.legal_max_length = rules.k
    if approval and rules.max_cost:
        profile.legal_max_cost = Fraction(rules.max_cost)
    if rules.kind == BallotKind.SCORING:
        profile.legal_min_score = 0
        profile.legal_max_score = rules.max_points
    if rules.kind == BallotKind.CUMULATIVE and rules.total_points:
        profile.legal_max_total_score = rules.total_points
    return Election(instance=instance, profile=profile, kind=rules.kind, projects=by_id)


def _approval_profile(election: Election) -> ApprovalProfile:
    """Phragmén needs approval ballots; see the module docstring for the mapping."""
    if election.kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K):
        return election.profile  # type: ignore[return-value]
    threshold = PHRAGMEN_SCORE_THRESHOLD if election.kind == BallotKind.SCORING else 1
    mapped = ApprovalProfile(instance=election.instance)
    for ballot in election.profile:
        mapped.append(ApprovalBallot([p for p, v in ballot.items() if v >= threshold]))
    return mapped


def _sat_class(election: Election, rule: Rule) -> type:
    approval = election.kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K)
    if approval:
        return Cost_Sat
    if rule == Rule.GREEDY:
        return Cost_Weighted_Score_Sat
    from pabutools.election import Additive_Cardinal_Sat

    return Additive_Cardinal_Sat


MES_INCREMENT_SHARE = Fraction(1, 20)  # 5 %: see the module docstring


def mes_completion_params(election: Election) -> tuple[list[Any], list[dict[str, Any]]]:
    """The rule sequence and parameters of completed MES (see the module docstring): the
    iterated "Add1" MES that raises every voter's budget by 5 % of the equal share until the
    outcome would overspend, then greedy on what is left. Public so tests call pabutools with
    exactly the same parameters."""
    voters = max(election.profile.num_ballots(), 1)
    increment = Fraction(election.instance.budget_limit) / voters * MES_INCREMENT_SHARE
    return (
        [method_of_equal_shares, greedy_utilitarian_welfare],
        [
            {"sat_class": _sat_class(election, Rule.MES), "voter_budget_increment": increment},
            {"sat_class": _sat_class(election, Rule.GREEDY)},
        ],
    )


def outcome_compute(*, election: Election, rule: Rule | str) -> list[str]:
    """The ids of the projects ``rule`` funds, in pabutools' selection order."""
    try:
        rule = Rule(rule)
    except ValueError:
        raise BallotError(
            BallotErrorCode.UNKNOWN_RULE,
            _("未知规则 %(rule)s，可选：%(rules)s")
            % {"rule": rule, "rules": ", ".join(r.value for r in Rule)},
            field="rule",
        ) from None
    instance, profile = election.instance, election.profile
    if rule == Rule.GREEDY:
        result = greedy_utilitarian_welfare(instance, profile, sat_class=_sat_class(election, rule))
    elif rule == Rule.MES:
        result = completion_by_rule_combination(instance, profile, *mes_completion_params(election))
    else:
        result = sequential_phragmen(instance, _approval_profile(election))
    return [p.name for p in result]


@dataclass(frozen=True)
class ProjectComparison:
    project: ProjectData
    supporters: int  # ballots giving the project any points
    score: int  # total points (approval: = supporters)
    funded_by: dict[str, bool]
    reason: str  # why the rules disagree, empty when they agree


@dataclass(frozen=True)
class OutcomeComparison:
    outcomes: dict[str, list[str]]
    total_cost: dict[str, int]
    projects: list[ProjectComparison]

    @property
    def differing(self) -> list[ProjectComparison]:
        return [p for p in self.projects if p.reason]


def outcomes_compare(*, election: Election, projects: Sequence[ProjectData]) -> OutcomeComparison:
    """Run every rule and explain, project by project, where the rules disagree."""
    outcomes = {r.value: outcome_compute(election=election, rule=r) for r in Rule}
    cost = {p.id: p.cost for p in projects}
    supporters = dict.fromkeys(cost, 0)
    score = dict.fromkeys(cost, 0)
    for ballot in election.profile:
        for project in ballot:
            supporters[project.name] += 1
            score[project.name] += int(ballot[project]) if hasattr(ballot, "items") else 1
    budget = int(election.instance.budget_limit)
    greedy_ids = set(outcomes[Rule.GREEDY])
    greedy_left = budget - sum(cost[i] for i in greedy_ids)
    served = dict.fromkeys(cost, 0)
    for ballot in election.profile:
        if any(project.name in greedy_ids for project in ballot):
            for project in ballot:
                served[project.name] += 1
    rows = []
    order = sorted(projects, key=lambda p: (-score[p.id], p.id))
    for p in order:
        funded = {r: p.id in ids for r, ids in outcomes.items()}
        reason = ""
        if len(set(funded.values())) > 1:
            reason = _project_reason(
                p,
                funded,
                supporters[p.id],
                len(election.profile),
                budget,
                served[p.id] / supporters[p.id] if supporters[p.id] else 0.0,
                greedy_left,
            )
        rows.append(
            ProjectComparison(
                project=p,
                supporters=supporters[p.id],
                score=score[p.id],
                funded_by=funded,
                reason=reason,
            )
        )
    return OutcomeComparison(
        outcomes=outcomes,
        total_cost={r: sum(cost[i] for i in ids) for r, ids in outcomes.items()},
        projects=rows,
    )


def _project_reason(
    p: ProjectData,
    funded: dict[str, bool],
    supporters: int,
    voters: int,
    budget: int,
    served: float,
    greedy_left: int,
) -> str:
    """Why the rules disagree on ``p``; ``served`` is the share of its supporters who get at least
    one project under greedy, ``greedy_left`` the money greedy leaves unspent."""
    share = budget * supporters / voters if voters else 0
    params = {
        "n": supporters,
        "share": f"{share:,.0f}",
        "cost": f"{p.cost:,}",
        "left": f"{greedy_left:,}",
    }
    if funded[Rule.GREEDY] and not funded[Rule.MES]:
        if share < p.cost:
            return (
                _(
                    "贪心规则按票数/总分选中；但其 %(n)d 位支持者按平等份额只能凑出约 %(share)s 元，"
                    "不足造价 %(cost)s 元，平等份额法不选。"
                )
                % params
            )
        return (
            _("贪心规则按票数/总分选中；平等份额法中其支持者的份额已用于他们更偏好的项目。")
            % params
        )
    if funded[Rule.MES] and not funded[Rule.GREEDY]:
        if served < 0.5:
            return (
                _(
                    "平等份额法选中：%(n)d 位支持者在贪心结果中大多没有任何项目，他们的份额（约 %(share)s 元）"
                    "足以支付 %(cost)s 元；贪心规则只剩 %(left)s 元。"
                )
                % params
            )
        return (
            _(
                "平等份额法选中：贪心规则把预算用在了更贵的高票项目上，只剩 %(left)s 元，不够 %(cost)s 元。"
            )
            % params
        )
    if funded[Rule.PHRAGMEN] and not funded[Rule.GREEDY]:
        return _("Phragmén 法把费用均摊到支持者身上，选中了支持者负担较轻的这个项目。") % params
    if funded[Rule.GREEDY] and not funded[Rule.PHRAGMEN]:
        return _("Phragmén 法中其支持者已分担其他项目的费用，轮到它时预算已不足。") % params
    return _("各规则取舍不同（造价 %(cost)s 元，%(n)d 位支持者）。") % params
