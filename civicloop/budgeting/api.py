"""The JSON API of 参与式预算, mounted at /api/v1/budget/ (in the OpenAPI schema).

- `GET /{code}`: the process, its phase and schedule, the accepted projects;
- `GET /{code}/pabulib.pb`: the process's ballot as a pabulib file (text/plain);
- `GET /{code}/outcome?rule=greedy|mes|phragmen`: the funded projects under one rule;
- `GET /{code}/panel`: the published draw (seed, quotas, frame digest) and its
  representativeness table. Never a name or a phone.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from civicloop.budgeting import selectors
from civicloop.budgeting.ballot_errors import BallotError, BallotErrorCode
from civicloop.budgeting.ballots import outcome_for, pabulib_for
from civicloop.budgeting.models import BudgetProject
from civicloop.budgeting.rules import Rule
from civicloop.core.api_schemas import ErrorOut

router = Router(tags=["budget"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class PhaseOut(Schema):
    phase: str
    label: str
    starts_on: str | None
    ends_on: str | None
    current: bool


class ProjectOut(Schema):
    id: int
    title: str
    cost: int
    category: str


class ProcessOut(Schema):
    code: str
    title: str
    year: int
    town: str
    total_budget: int
    phase: str
    phase_label: str
    phases: list[PhaseOut]
    projects: list[ProjectOut]


class OutcomeProjectOut(Schema):
    id: int
    title: str
    cost: int


class OutcomeOut(Schema):
    code: str
    rule: str
    total_budget: int
    total_cost: int
    projects: list[OutcomeProjectOut]


class QuotaOut(Schema):
    feature: str
    value: str
    min: int
    max: int


class StratumOut(Schema):
    feature: str
    value: str
    population: int
    population_share: float
    drawn: int
    drawn_share: float
    attended: int
    attended_share: float


class PanelOut(Schema):
    code: str
    seed: int
    size: int
    reserve: int
    frame_size: int
    frame_digest: str
    quotas: list[QuotaOut]
    strata: list[StratumOut]


@router.get("/{code}", response={200: ProcessOut, **ERRORS}, auth=None)
def process_detail(request: HttpRequest, code: str) -> Any:
    """A process: its phase and schedule, and the projects that passed screening."""
    process = selectors.process_by_code(code)
    return {
        "code": process.code,
        "title": process.title,
        "year": process.year,
        "town": process.town.name,
        "total_budget": int(process.total_budget),
        "phase": process.phase,
        "phase_label": str(process.get_phase_display()),
        "phases": [
            {
                "phase": row["phase"],
                "label": str(row["label"]),
                "starts_on": row["starts_on"].isoformat() if row["starts_on"] else None,
                "ends_on": row["ends_on"].isoformat() if row["ends_on"] else None,
                "current": row["current"],
            }
            for row in selectors.phase_rows(process)
        ],
        "projects": [
            {"id": p.pk, "title": p.title, "cost": int(p.cost), "category": p.category}
            for p in selectors.projects_accepted(process)
        ],
    }


@router.get("/{code}/pabulib.pb", response={200: str, **ERRORS}, auth=None)
def process_pabulib(request: HttpRequest, code: str) -> Any:
    """The process's ballot and votes as a pabulib ``.pb`` file (anonymous voter ids)."""
    process = selectors.process_by_code(code)
    response = HttpResponse(pabulib_for(process=process), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{process.code}.pb"'
    return response


@router.get("/{code}/outcome", response={200: OutcomeOut, **ERRORS}, auth=None)
def process_outcome(request: HttpRequest, code: str, rule: str = Rule.MES.value) -> Any:
    """The projects funded under ``rule`` (greedy, mes, phragmen) on the process's ballot."""
    process = selectors.process_by_code(code)
    outcome = outcome_for(process=process, rule=rule)
    if outcome is None:
        raise BallotError(BallotErrorCode.NOT_FOUND, field="rule")
    by_id = BudgetProject.objects.in_bulk(outcome.project_ids)
    return {
        "code": process.code,
        "rule": outcome.rule,
        "total_budget": int(process.total_budget),
        "total_cost": outcome.total_cost,
        "projects": [
            {"id": pid, "title": by_id[pid].title, "cost": int(by_id[pid].cost)}
            for pid in outcome.project_ids
            if pid in by_id
        ],
    }


@router.get("/{code}/panel", response={200: PanelOut, **ERRORS}, auth=None)
def process_panel(request: HttpRequest, code: str) -> Any:
    """The published draw: enough to re-run it, and how the panel compares with the frame."""
    process = selectors.process_by_code(code)
    draw = selectors.draw_current(process)
    if draw is None or not (draw.published or selectors.is_process_staff(request.user, process)):
        raise BallotError(BallotErrorCode.NOT_FOUND)
    return {
        "code": process.code,
        "seed": draw.seed,
        "size": draw.size,
        "reserve": draw.reserve,
        "frame_size": draw.frame_size,
        "frame_digest": draw.frame_digest,
        "quotas": draw.quotas,
        "strata": [row.__dict__ for row in selectors.representativeness(draw)],
    }
