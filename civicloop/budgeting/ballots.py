"""Ballots: open a vote, cast votes on a phone (SMS code or panel ticket), compute outcomes.

Writes here, reads in the ``*_data`` / ``*_for`` helpers the API, pages and exports share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.budgeting.ballot_errors import BallotError, BallotErrorCode
from civicloop.budgeting.ballot_models import Ballot, Outcome, Vote
from civicloop.budgeting.models import BudgetProcess, BudgetProject
from civicloop.budgeting.pabulib import pabulib_write
from civicloop.budgeting.rules import (
    BallotData,
    BallotKind,
    BallotRules,
    Election,
    OutcomeComparison,
    ProjectData,
    Rule,
    ballot_check,
    election_build,
    outcomes_compare,
)
from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.accounts.services import sms_code_bind, sms_code_consume

SMS_PURPOSE = "budget_vote"


def _budget_of(process: BudgetProcess) -> int:
    return int(process.total_budget)


def ballot_open(
    *,
    process: BudgetProcess,
    title: str,
    kind: BallotKind | str,
    opens_at: datetime,
    closes_at: datetime,
    projects: list[BudgetProject] | None = None,
    k: int | None = None,
    total_points: int | None = None,
    max_cost: int | None = None,
    rule: Rule | str = Rule.MES,
) -> Ballot:
    """Create a vote on the process's accepted projects (or ``projects``); checks its rules make sense."""
    kind = BallotKind(kind)
    if kind == BallotKind.CHOOSE_K and not k:
        raise BallotError(
            BallotErrorCode.INVALID, _("限选投票必须给出最多可选的项目数。"), field="k"
        )
    if kind == BallotKind.CUMULATIVE and not total_points:
        raise BallotError(
            BallotErrorCode.INVALID, _("累积计分投票必须给出总分上限。"), field="total_points"
        )
    if closes_at <= opens_at:
        raise BallotError(
            BallotErrorCode.INVALID, _("截止时间必须晚于开始时间。"), field="closes_at"
        )
    with transaction.atomic():
        ballot = Ballot.objects.create(
            process=process,
            title=title,
            kind=kind.value,
            k=k,
            total_points=total_points,
            max_cost=max_cost,
            opens_at=opens_at,
            closes_at=closes_at,
            rule=Rule(rule).value,
        )
        if projects is None:
            projects = list(process.projects.filter(status=BudgetProject.Status.ACCEPTED))
        ballot.projects.set(projects)
    return ballot


def ballot_rules(ballot: Ballot) -> BallotRules:
    return BallotRules(
        kind=BallotKind(ballot.kind),
        k=ballot.k,
        max_points=ballot.max_points,
        total_points=ballot.total_points,
        max_cost=ballot.max_cost,
    )


def ballot_projects(ballot: Ballot) -> list[ProjectData]:
    return [
        ProjectData(id=str(p.pk), cost=int(p.cost), name=p.title, category=p.category or "")
        for p in ballot.projects.order_by("pk")
    ]


def _clean_choices(raw: Mapping[str, Any]) -> dict[str, int]:
    try:
        return {str(k): int(v) for k, v in raw.items() if v not in ("", None) and int(v) != 0}
    except (TypeError, ValueError):
        raise BallotError(BallotErrorCode.RULES, _("分数必须是整数。"), field="choices") from None


def vote_cast(
    *,
    ballot: Ballot,
    voter_key: str,
    voter_kind: str,
    choices: Mapping[str, Any],
    age: int | None = None,
    sex: str = "",
    now: datetime | None = None,
) -> Vote:
    """Store one voter's ballot if it keeps the vote's rules and the voter has not voted.
    The unique constraint (ballot, voter_key) refuses a second vote even when two arrive at once."""
    now = now or timezone.now()
    if not (ballot.opens_at <= now < ballot.closes_at):
        raise BallotError(BallotErrorCode.CLOSED)
    clean = _clean_choices(choices)
    ballot_check(rules=ballot_rules(ballot), projects=ballot_projects(ballot), choices=clean)
    if Vote.objects.filter(ballot=ballot, voter_key=voter_key).exists():
        raise BallotError(BallotErrorCode.ALREADY_VOTED)
    try:
        with transaction.atomic():
            return Vote.objects.create(
                ballot=ballot,
                voter_key=voter_key,
                voter_kind=voter_kind,
                choices=clean,
                age=age,
                sex=sex,
            )
    except IntegrityError:
        raise BallotError(BallotErrorCode.ALREADY_VOTED) from None


def vote_cast_by_sms(
    *,
    ballot: Ballot,
    phone: str,
    code: str,
    submission_key: str,
    choices: Mapping[str, Any],
    now: datetime | None = None,
) -> Vote:
    """A resident's vote, verified by SMS code: the code is checked and bound to this form
    (a wrong try counts), then used up in the same transaction that stores the vote, so a
    refused ballot leaves the code good for the corrected one."""
    if not submission_key:
        raise BallotError(BallotErrorCode.NOT_VERIFIED)
    phone = sms_code_bind(phone=phone, code=code, purpose=SMS_PURPOSE, bind=submission_key)
    bind = submission_key
    with transaction.atomic():
        vote = vote_cast(
            ballot=ballot,
            voter_key="sms:" + lookup_digest(phone),
            voter_kind=Vote.VoterKind.PUBLIC,
            choices=choices,
            now=now,
        )
        sms_code_consume(phone=phone, purpose=SMS_PURPOSE, bind=bind)
    return vote


def vote_cast_by_ticket(
    *,
    ballot: Ballot,
    member_id: int,
    choices: Mapping[str, Any],
    age: int | None = None,
    sex: str = "",
    now: datetime | None = None,
) -> Vote:
    """A panel member's vote; the caller has resolved the member from their ticket."""
    return vote_cast(
        ballot=ballot,
        voter_key=f"panel:{member_id}",
        voter_kind=Vote.VoterKind.PANEL,
        choices=choices,
        age=age,
        sex=sex,
        now=now,
    )


def ballot_votes_data(ballot: Ballot) -> list[BallotData]:
    return [
        BallotData(
            voter_id=f"{v.voter_kind}-{v.pk}", choices=v.choices, age=v.age, sex=v.sex or None
        )
        for v in ballot.votes.order_by("pk")
    ]


def ballot_election(ballot: Ballot) -> tuple[Election, list[ProjectData]]:
    projects = ballot_projects(ballot)
    election = election_build(
        projects=projects,
        ballots=ballot_votes_data(ballot),
        budget=_budget_of(ballot.process),
        rules=ballot_rules(ballot),
    )
    return election, projects


def outcomes_compute(*, ballot: Ballot) -> OutcomeComparison:
    """Compute every rule on the ballot's votes and store the results (idempotent: the same
    votes give the same rows)."""
    election, projects = ballot_election(ballot)
    comparison = outcomes_compare(election=election, projects=projects)
    reasons = {row.project.id: row.reason for row in comparison.differing}
    with transaction.atomic():
        for rule, ids in comparison.outcomes.items():
            Outcome.objects.update_or_create(
                ballot=ballot,
                rule=rule,
                defaults={
                    "project_ids": [int(i) for i in ids],
                    "total_cost": comparison.total_cost[rule],
                    "reasons": reasons,
                    "votes_counted": len(election.profile),
                },
            )
    return comparison


@dataclass(frozen=True)
class OutcomeView:
    rule: str
    project_ids: list[int]
    total_cost: int


def process_ballot(process: BudgetProcess) -> Ballot | None:
    """The process's current (latest) ballot."""
    return process.ballots.order_by("-opens_at", "-pk").first()


def outcome_for(*, process: BudgetProcess, rule: str) -> OutcomeView | None:
    """The stored outcome of ``rule`` on the process's ballot, computed now if missing."""
    try:
        rule = Rule(rule).value
    except ValueError:
        raise BallotError(
            BallotErrorCode.UNKNOWN_RULE,
            _("未知规则 %(rule)s，可选：%(rules)s")
            % {"rule": rule, "rules": ", ".join(r.value for r in Rule)},
            field="rule",
        ) from None
    ballot = process_ballot(process)
    if ballot is None:
        return None
    row = ballot.outcomes.filter(rule=rule).first()
    if row is None or row.votes_counted != ballot.votes.count():
        outcomes_compute(ballot=ballot)
        row = ballot.outcomes.get(rule=rule)
    return OutcomeView(rule=rule, project_ids=list(row.project_ids), total_cost=row.total_cost)


def pabulib_for(*, process: BudgetProcess) -> str:
    """The process's ballot as a .pb file."""
    ballot = process_ballot(process)
    if ballot is None:
        raise BallotError(BallotErrorCode.INVALID, _("该预算流程还没有投票。"))
    projects = ballot_projects(ballot)
    return pabulib_write(
        projects=projects,
        ballots=ballot_votes_data(ballot),
        budget=_budget_of(process),
        rules=ballot_rules(ballot),
        meta={
            "description": process.title,
            "country": "China",
            "unit": str(process.town) if getattr(process, "town_id", None) else "",
            "instance": str(process.year),
            "date_begin": ballot.opens_at.date().isoformat(),
            "date_end": ballot.closes_at.date().isoformat(),
            "language": "zh",
            "rule": {"greedy": "greedy", "mes": "equalshares/add1", "phragmen": "phragmen"}[
                ballot.rule
            ],
            "process_code": process.code,
        },
    )


def panel_member_by_ticket(*, process: BudgetProcess, ticket: str) -> Any | None:
    """The panel member holding ``ticket`` in this process's current draw, or None."""
    from civicloop.budgeting.errors import BudgetError
    from civicloop.budgeting.services import member_by_ticket

    if not ticket:
        return None
    try:
        member = member_by_ticket(ticket=ticket)
    except BudgetError:
        return None
    # A reserve votes only once called up (递补); a waiting reserve's ticket is no vote.
    return member if member.draw.process_id == process.pk and member.on_panel else None
