"""The JSON API of 督政议事, its ninja `router` (mounted at /api/v1/oversight, so in the
OpenAPI schema): the meetings a signed-in user may see, one meeting with its questions,
answers and vote tally, a deputy's vote, and the published summaries (public).

Refusals are OversightErrors, answered once by the API's DomainError handler."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from civicloop.core.accounts.api_auth import StaffSessionAuth
from civicloop.core.accounts.models import User
from civicloop.core.api_schemas import ErrorOut
from civicloop.core.cases.labels import state_label
from civicloop.core.units.models import Unit
from civicloop.oversight import selectors, services
from civicloop.oversight.errors import OversightError, OversightErrorCode
from civicloop.oversight.models import Meeting, Topic

router = Router(tags=["oversight"])
AUTH = [StaffSessionAuth()]
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}


class MeetingOut(Schema):
    id: int
    title: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    held_at: datetime
    place: str
    topic: str
    published: bool


class QuestionOut(Schema):
    number: str
    unit: str
    unit_code: str
    text: str
    state: str
    state_label: str
    due_at: datetime | None
    answer: str


class ResultOut(Schema):
    unit: str
    unit_code: str
    questions: int
    answered: int
    satisfied: int
    basically: int
    unsatisfied: int
    satisfaction_rate: float | None
    outcome: str | None


class FollowUpOut(Schema):
    number: str
    unit: str
    decision: str
    state: str
    due_at: datetime | None


class MeetingDetailOut(MeetingOut):
    questions: list[QuestionOut]
    results: list[ResultOut]
    follow_ups: list[FollowUpOut]


class MeetingIn(Schema):
    topic_id: int
    kind: str
    title: str
    held_at: datetime
    place: str


class QuestionIn(Schema):
    asked_by: str  # the deputy's username
    unit_code: str
    text: str
    answer_by: date | None = None


class VoteIn(Schema):
    unit_code: str
    choice: str


class VoteOut(Schema):
    meeting: int
    unit_code: str
    choice: str


def _meeting(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.pk,
        "title": m.title,
        "kind": m.kind,
        "kind_label": str(m.get_kind_display()),
        "status": m.status,
        "status_label": str(m.get_status_display()),
        "held_at": m.held_at,
        "place": m.place,
        "topic": m.topic.title,
        "published": m.published_at is not None,
    }


def _detail(m: Meeting) -> dict[str, Any]:
    results = selectors.department_results(meeting=m)
    closed = m.status == "closed"
    return {
        **_meeting(m),
        "questions": [
            {
                "number": case.number,
                "unit": r.unit.name,
                "unit_code": r.unit.code,
                "text": case.body,
                "state": case.state,
                "state_label": str(state_label(case.workflow, case.state)),
                "due_at": case.due_at,
                "answer": case.result,
            }
            for r in results
            for case in r.cases
        ],
        "results": [
            {
                "unit": r.unit.name,
                "unit_code": r.unit.code,
                "questions": r.questions,
                "answered": r.answered_count,
                "satisfied": r.satisfied,
                "basically": r.basically,
                "unsatisfied": r.unsatisfied,
                "satisfaction_rate": r.satisfaction_rate,
                "outcome": r.outcome if closed else None,
            }
            for r in results
        ],
        "follow_ups": [
            {
                "number": f.case.number,
                "unit": f.unit.name,
                "decision": f.decision,
                "state": f.case.state,
                "due_at": f.case.due_at,
            }
            for f in selectors.meeting_follow_ups(meeting=m)
        ],
    }


@router.get("/meetings", response={200: list[MeetingOut], **ERRORS}, auth=AUTH)
def meetings_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The meetings the signed-in user may see (staff all; deputies and departments
    those they take part in), newest first."""
    return [_meeting(m) for m in selectors.meetings_for(user=request.auth)[:200]]  # type: ignore[attr-defined]


@router.get("/meetings/{meeting_id}", response={200: MeetingDetailOut, **ERRORS}, auth=AUTH)
def meeting_detail(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    """One meeting: its questions with their answer cases, the vote tally per
    department (counts only; the outcome once the vote is closed) and its follow-ups."""
    meeting = selectors.access_meeting_by_id(user=request.auth, pk=meeting_id)  # type: ignore[attr-defined]
    return _detail(meeting)


@router.post("/meetings", response={201: MeetingOut, **WRITE_ERRORS}, auth=AUTH)
def meeting_create(request: HttpRequest, payload: MeetingIn) -> Status[Any]:
    """The 代表工委 creates a meeting (`deliberation` 议事会 or `inquiry` 专题询问) on an
    accepted topic."""
    topic = Topic.objects.filter(pk=payload.topic_id).first()
    if topic is None:
        raise OversightError(OversightErrorCode.INVALID, field="topic_id")
    meeting = services.meeting_create(
        actor=request.auth,  # type: ignore[attr-defined]
        topic=topic,
        kind=payload.kind,
        title=payload.title,
        held_at=payload.held_at,
        place=payload.place,
    )
    return Status(201, _meeting(meeting))


@router.post(
    "/meetings/{meeting_id}/questions", response={201: QuestionOut, **WRITE_ERRORS}, auth=AUTH
)
def question_create(request: HttpRequest, meeting_id: int, payload: QuestionIn) -> Status[Any]:
    """Record a participating deputy's question to a department: it opens a case the
    department answers by `answer_by` (staff record anyone's; a deputy their own)."""
    user = request.auth  # type: ignore[attr-defined]
    meeting = selectors.access_meeting_by_id(user=user, pk=meeting_id)
    asked_by = User.objects.filter(username=payload.asked_by).first()
    if asked_by is None:
        raise OversightError(OversightErrorCode.INVALID, field="asked_by")
    unit = Unit.objects.filter(code=payload.unit_code).first()
    if unit is None:
        raise OversightError(OversightErrorCode.INVALID, field="unit_code")
    question = services.question_ask(
        actor=user,
        meeting=meeting,
        asked_by=asked_by,
        unit=unit,
        text=payload.text,
        answer_by=payload.answer_by,
    )
    case = question.case
    return Status(
        201,
        {
            "number": case.number,
            "unit": unit.name,
            "unit_code": unit.code,
            "text": case.body,
            "state": case.state,
            "state_label": str(state_label(case.workflow, case.state)),
            "due_at": case.due_at,
            "answer": case.result,
        },
    )


@router.post("/meetings/{meeting_id}/votes", response={201: VoteOut, **WRITE_ERRORS}, auth=AUTH)
def vote_create(request: HttpRequest, meeting_id: int, payload: VoteIn) -> Status[Any]:
    """A participating deputy rates a department's answers: `satisfied`, `basically` or
    `unsatisfied`, once (409 on a second vote)."""
    user = request.auth  # type: ignore[attr-defined]
    meeting = selectors.access_meeting_by_id(user=user, pk=meeting_id)
    unit = Unit.objects.filter(code=payload.unit_code).first()
    if unit is None:
        raise OversightError(OversightErrorCode.INVALID, field="unit_code")
    vote = services.vote_cast(actor=user, meeting=meeting, unit=unit, choice=payload.choice)
    return Status(201, {"meeting": meeting.pk, "unit_code": unit.code, "choice": vote.choice})


@router.get("/public/meetings", response={200: list[MeetingOut], 400: ErrorOut}, auth=None)
def public_meetings_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The published summaries (no names)."""
    return [_meeting(m) for m in selectors.public_meetings()[:200]]


@router.get(
    "/public/meetings/{meeting_id}",
    response={200: MeetingDetailOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
)
def public_meeting_detail(request: HttpRequest, meeting_id: int) -> dict[str, Any]:
    """A published meeting: topic, questions, answers, vote results, follow-ups."""
    return _detail(selectors.public_meeting_get(pk=meeting_id))
