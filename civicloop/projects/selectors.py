"""Reads of 民生实事: who may do what (`access_*_by_*`), the voter roll, the public
results, a project's delivery, and the cockpit tile.

No function here returns a ballot next to a voter: turnout is a count, ballots are only
tallied, and a ballot's choices are read back only by its receipt (services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import unit_roles
from civicloop.core.cases.access import access_case_by_number
from civicloop.core.cases.models import Case
from civicloop.core.cases.selectors import channel_figures
from civicloop.core.registry import TileValue
from civicloop.core.units.models import Membership, Unit, UnitKind
from civicloop.core.units.selectors import user_standing
from civicloop.projects.hooks import DEPUTY, MILESTONE, STATION
from civicloop.projects.models import (
    BallotKind,
    Candidate,
    Cycle,
    CycleState,
    Milestone,
    RollEntry,
    SupervisionGroup,
    VoterRecord,
)

PUBLIC_STATES = frozenset(
    {
        CycleState.PUBLISHED,
        CycleState.DELIVERY,
        CycleState.EVALUATING,
        CycleState.EVALUATED,
    }
)


def office_unit() -> Unit:
    return Unit.objects.get(code=settings.PROJECTS_OFFICE_UNIT)


def is_office(user: Any) -> bool:
    """Staff of the 代表工委 (who run the cycle) or an administrator."""
    standing = user_standing(user)
    return standing.is_admin or standing.in_unit_coded(settings.PROJECTS_OFFICE_UNIT)


def is_deputy(user: Any) -> bool:
    return DEPUTY.code in user_standing(user).roles()


def department_of(user: Any) -> Unit | None:
    """The department a staff member acts for (the first, by code; not the office)."""
    standing = user_standing(user)
    ids = [
        pk
        for pk, roles in standing.unit_roles.items()
        if roles & unit_roles()
        and standing.unit_info.get(pk, ("", ""))[1] == UnitKind.DEPARTMENT
        and standing.unit_info[pk][0] != settings.PROJECTS_OFFICE_UNIT
    ]
    return Unit.objects.filter(pk__in=ids).order_by("code").first() if ids else None


def is_lead_staff(user: Any, project: Candidate) -> bool:
    """Staff of the project's lead unit (they report progress)."""
    standing = user_standing(user)
    return standing.has_role_in(project.lead_unit_id, *unit_roles())


def may_supervise(user: Any, project: Candidate) -> bool:
    """The office, or a deputy of one of the project's supervision groups."""
    if is_office(user):
        return True
    uid = getattr(user, "pk", None)
    if uid is None:
        return False
    return SupervisionGroup.objects.filter(project=project, members__pk=uid).exists()


def deputies_current() -> QuerySet[User]:
    """Every active deputy: a user with a 人大代表 membership at an active liaison
    station. This is the voter roll when a vote opens."""
    ids = Membership.objects.filter(
        role=DEPUTY.code, unit__kind=STATION.code, unit__is_active=True, user__is_active=True
    ).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("pk")


def cycle_current() -> Cycle | None:
    return Cycle.objects.order_by("-year").first()


def access_cycle_by_year(user: Any, year: int, *, manage: bool = False) -> Cycle:
    """A cycle by its year; with `manage`, only for the office. 404 otherwise."""
    cycle = Cycle.objects.filter(year=year).first()
    if cycle is None or (manage and not is_office(user)):
        raise Http404("no such cycle")
    return cycle


def access_project_by_id(user: Any, pk: int) -> Candidate:
    """A project page: anyone may see a chosen project (delivery is public), the office
    and the lead unit any candidate."""
    project = Candidate.objects.select_related("cycle", "lead_unit", "case").filter(pk=pk).first()
    if project is None:
        raise Http404("no such project")
    if project.chosen and project.cycle.state in PUBLIC_STATES:
        return project
    if is_office(user) or is_lead_staff(user, project):
        return project
    raise Http404("no such project")


def access_project_by_case_number(user: Any, number: str) -> Candidate:
    """The project of a candidate's or milestone's case (the channels' staff page)."""
    project = Candidate.objects.filter(case__number=number).first()
    if project is None:
        milestone = Milestone.objects.select_related("project").filter(case__number=number).first()
        project = milestone.project if milestone else None
    if project is None:
        raise Http404("no such project")
    return access_project_by_id(user, project.pk)


def access_promotable_case(user: Any, number: str) -> Case:
    """A case the user may turn into a candidate: one they may see, or, for the office
    (代表工委, who follow the deputies' work), any case on a channel named in
    PROJECTS_PROMOTE_CHANNELS (the 民意 and 代表建议 channels). 404 otherwise."""
    try:
        return access_case_by_number(user, number)
    except Http404:
        if not is_office(user):
            raise
    case = Case.objects.filter(
        number=number, channel__in=list(settings.PROJECTS_PROMOTE_CHANNELS)
    ).first()
    if case is None:
        raise Http404("case not found")
    return case


def on_roll(*, cycle: Cycle, user: Any, kind: str) -> bool:
    uid = getattr(user, "pk", None)
    return (
        uid is not None and RollEntry.objects.filter(cycle=cycle, kind=kind, user_id=uid).exists()
    )


def has_voted(*, cycle: Cycle, user: Any, kind: str) -> bool:
    uid = getattr(user, "pk", None)
    return (
        uid is not None and VoterRecord.objects.filter(cycle=cycle, kind=kind, user_id=uid).exists()
    )


@dataclass(frozen=True)
class Turnout:
    roll: int
    voted: int


def turnout(*, cycle: Cycle, kind: str = BallotKind.SELECTION) -> Turnout:
    """How many are on the roll and how many voted: counts only, never names."""
    return Turnout(
        roll=RollEntry.objects.filter(cycle=cycle, kind=kind).count(),
        voted=VoterRecord.objects.filter(cycle=cycle, kind=kind).count(),
    )


def ballot_candidates(*, cycle: Cycle) -> QuerySet[Candidate]:
    """The candidates on the ballot paper, in its order."""
    return (
        Candidate.objects.filter(cycle=cycle, shortlisted=True)
        .select_related("lead_unit")
        .order_by("ballot_number", "pk")
    )


def chosen_projects(*, cycle: Cycle) -> QuerySet[Candidate]:
    return (
        Candidate.objects.filter(cycle=cycle, chosen=True)
        .select_related("lead_unit", "case")
        .order_by("rank", "pk")
    )


def cycle_candidates(*, cycle: Cycle) -> QuerySet[Candidate]:
    return (
        Candidate.objects.filter(cycle=cycle)
        .select_related("lead_unit", "case")
        .order_by("-shortlisted", "ballot_number", "pk")
    )


def result_public(*, cycle: Cycle) -> dict[str, Any]:
    """The published result as plain data (the results page and the API): the rule, the
    turnout and per candidate for / against / abstain and whether it was chosen. Empty
    `candidates` until a result is published."""
    published = cycle.state in PUBLIC_STATES
    rows = []
    if published:
        for c in ballot_candidates(cycle=cycle):
            rows.append(
                {
                    "id": c.pk,
                    "number": c.ballot_number,
                    "title": c.title,
                    "lead_unit": c.lead_unit.name if c.lead_unit else "",
                    "budget_wan": float(c.budget_wan) if c.budget_wan is not None else None,
                    "for": c.votes_for,
                    "against": c.votes_against,
                    "abstain": c.votes_abstain,
                    "chosen": c.chosen,
                    "rank": c.rank,
                }
            )
    return {
        "year": cycle.year,
        "title": cycle.title,
        "state": cycle.state,
        "state_label": str(cycle.get_state_display()),
        "mode": cycle.mode,
        "places": cycle.places,
        "roll_size": cycle.roll_size,
        "voters": cycle.voters_count if cycle.voting_closed_at else None,
        "published": published,
        "outcome_note": cycle.outcome_note,
        "candidates": rows,
    }


def cockpit_figures(*, user: Any, now: datetime) -> list[TileValue]:
    """The 民生实事 tile: the standard figures over the delivery milestones the user may
    see (a late milestone is a red light like any overdue case)."""
    return channel_figures(user=user, channel=MILESTONE.code, now=now)
