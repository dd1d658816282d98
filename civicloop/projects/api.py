"""The JSON API of 民生实事, mounted at /api/v1/projects/ (in the OpenAPI schema).

- `GET /cycles/{year}`: the public result (for / against / abstain per candidate);
- `POST /cycles/{year}/ballots`: a deputy casts the secret ballot (staff session);
- `POST /receipts`: the ballot of a receipt (choices only, never who);
- `GET /projects/{id}`: a project's delivery.
Nothing here lists voters next to ballots: turnout is a count."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from civicloop.core.accounts.api_auth import StaffSessionAuth
from civicloop.core.api_schemas import ErrorOut
from civicloop.core.client_ip import client_ip
from civicloop.projects import selectors, services
from civicloop.projects.models import Milestone

router = Router(tags=["projects"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


class CandidateResultOut(Schema):
    id: int
    number: int | None
    title: str
    lead_unit: str
    budget_wan: float | None
    votes_for: int
    votes_against: int
    votes_abstain: int
    chosen: bool
    rank: int | None


class CycleResultOut(Schema):
    year: int
    title: str
    state: str
    state_label: str
    mode: str
    places: int
    roll_size: int
    voters: int | None
    published: bool
    outcome_note: str
    candidates: list[CandidateResultOut]


class BallotIn(Schema):
    # approve: {"<candidate id>": "for" | "against" | "abstain"}; k_of_n: {"chosen": [ids]}.
    choices: dict[str, Any]


class ReceiptOut(Schema):
    receipt: str


class ReceiptIn(Schema):
    receipt: str


class BallotLineOut(Schema):
    title: str
    choice: str


class BallotCheckOut(Schema):
    year: int
    kind: str
    lines: list[BallotLineOut]


class MilestoneOut(Schema):
    number: str
    title: str
    due_date: str
    state: str


class ProjectOut(Schema):
    id: int
    year: int
    title: str
    lead_unit: str
    budget_wan: float | None
    spent_wan: float
    progress_percent: int
    chosen: bool
    milestones: list[MilestoneOut]


@router.get("/cycles/{year}", response={200: CycleResultOut, **ERRORS}, auth=None)
def cycle_result(request: HttpRequest, year: int) -> Any:
    """A year's cycle and, once published, its result per candidate."""
    cycle = selectors.access_cycle_by_year(request.user, year)
    data = selectors.result_public(cycle=cycle)
    data["candidates"] = [
        {
            **{k: v for k, v in row.items() if k not in ("for", "against", "abstain")},
            "votes_for": row["for"],
            "votes_against": row["against"],
            "votes_abstain": row["abstain"],
        }
        for row in data["candidates"]
    ]
    return data


@router.post(
    "/cycles/{year}/ballots", response={201: ReceiptOut, **ERRORS}, auth=StaffSessionAuth()
)
def ballot_cast(request: HttpRequest, year: int, payload: BallotIn) -> Any:
    """Cast the signed-in deputy's secret ballot; the receipt is in the answer only."""
    cycle = selectors.access_cycle_by_year(request.user, year)
    receipt = services.ballot_cast(cycle=cycle, user=request.auth, choices=payload.choices)  # type: ignore[attr-defined]
    return Status(201, {"receipt": receipt})


@router.post("/receipts", response={200: BallotCheckOut, **ERRORS}, auth=None)
def receipt_check(request: HttpRequest, payload: ReceiptIn) -> Any:
    """The choices of the ballot this receipt belongs to (never who cast it)."""
    view = services.ballot_check(receipt=payload.receipt, ip=client_ip(request))
    return {
        "year": view.cycle.year,
        "kind": view.kind,
        "lines": [{"title": t, "choice": c} for t, c in view.lines],
    }


@router.get("/projects/{pk}", response={200: ProjectOut, **ERRORS}, auth=None)
def project_detail(request: HttpRequest, pk: int) -> Any:
    """A chosen project's delivery (public once the result is published)."""
    project = selectors.access_project_by_id(request.user, pk)
    milestones = Milestone.objects.filter(project=project).select_related("case")
    return {
        "id": project.pk,
        "year": project.cycle.year,
        "title": project.title,
        "lead_unit": project.lead_unit.name if project.lead_unit else "",
        "budget_wan": float(project.budget_wan) if project.budget_wan is not None else None,
        "spent_wan": float(project.spent_wan),
        "progress_percent": project.progress_percent,
        "chosen": project.chosen,
        "milestones": [
            {
                "number": m.case.number,
                "title": m.title,
                "due_date": m.due_date.isoformat(),
                "state": m.case.state,
            }
            for m in milestones
        ],
    }
