"""The module's JSON API, its ninja `router` (mounted at /api/v1/suggestions, so in the
OpenAPI schema).

`GET /api/v1/suggestions/{number}` is a fixed interface (the city's acceptance checks):
a staff session sees the suggestions it may see (404 otherwise, like one that does not
exist); an integration's Bearer key reads every suggestion."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from civicloop.core.accounts.api_auth import ApiKeyBearerAuth, StaffSessionAuth
from civicloop.core.accounts.models import ApiKey
from civicloop.core.api_schemas import ErrorOut
from civicloop.suggestions.errors import SuggestionError, SuggestionErrorCode
from civicloop.suggestions.selectors import (
    access_suggestion_by_number,
    figures_areas_for,
    figures_scope_ok,
    suggestion_by_number,
    suggestion_figures,
    suggestion_json,
    suggestion_list,
    with_json_parts,
)

router = Router(tags=["suggestions"])
AUTH = [ApiKeyBearerAuth(), StaffSessionAuth()]
MAX_LIST = 200


class UnitRefOut(Schema):
    code: str
    name: str


class SuggestionOut(Schema):
    number: str
    title: str
    state: str
    state_label: str
    year: int
    session_kind: str
    deputy: str
    cosigners: list[str]
    lead_unit: UnitRefOut | None
    assisting_units: list[UnitRefOut]
    due_at: str | None
    answer_category: str | None
    is_key: bool
    key_leader: str | None
    rating: str | None
    came_from: list[str]
    created_at: str
    closed_at: str | None


class FiguresOut(Schema):
    year: int
    total: int
    by_state: dict[str, int]
    key: int
    answered: int
    answered_on_time: int
    on_time_rate: float | None
    categories: dict[str, int]
    category_shares: dict[str, float | None]
    evaluated: int
    ratings: dict[str, int]
    satisfaction_rate: float | None
    per_deputy: list[dict[str, Any]]
    per_unit: list[dict[str, Any]]


_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


@router.get(
    "/figures",
    response={200: FiguresOut, **_ERRORS},
    auth=[StaffSessionAuth()],
    url_name="suggestion_figures",
)
def figures(request: HttpRequest, year: int | None = Query(None)) -> Any:
    """The year's figures (代表工委, leaders): per deputy, per unit, answered on time,
    A/B/C shares, satisfaction."""
    if not figures_scope_ok(request.auth):  # type: ignore[attr-defined]
        raise SuggestionError(SuggestionErrorCode.FORBIDDEN)
    return suggestion_figures(
        year=year or timezone.localdate().year,
        area_paths=figures_areas_for(request.auth),  # type: ignore[attr-defined]
    )


@router.get(
    "",
    response={200: list[SuggestionOut], **_ERRORS},
    auth=[StaffSessionAuth()],
    url_name="suggestion_list",
)
def suggestions(
    request: HttpRequest, state: str = Query(""), year: int | None = Query(None)
) -> list[dict[str, Any]]:
    """The suggestions the staff member may see (newest first, at most 200)."""
    rows = with_json_parts(suggestion_list(user=request.auth, state=state, year=year))[:MAX_LIST]  # type: ignore[attr-defined]
    return [suggestion_json(s) for s in rows]


@router.get(
    "/{number}",
    response={200: SuggestionOut, **_ERRORS},
    auth=AUTH,
    url_name="suggestion_detail",
)
def suggestion_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    """One suggestion: state, lead and assisting units, deadline, answer category and
    the numbers of the opinions it came from."""
    if isinstance(request.auth, ApiKey):  # type: ignore[attr-defined]
        found = suggestion_by_number(number)
    else:
        found = access_suggestion_by_number(request.auth, number)  # type: ignore[attr-defined]
    return suggestion_json(found)
