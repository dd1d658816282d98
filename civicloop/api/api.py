"""The JSON API at /api/v1/ (django-ninja). Handlers are thin: parse, call one core
service or selector, render. Every refusal is a 4xx `{"code", "detail"}` in the
request's language (Accept-Language), never a 500.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from civicloop.api.docs import LocalSwaggerDocs
from civicloop.api.errors import ApiError, ApiErrorCode
from civicloop.api.intake import (
    any_channel,
    plain_text,
    submission_check,
    submission_create,
)
from civicloop.api.presenters import case_detail, case_summary, channel_item
from civicloop.api.schemas import (
    CaseCreatedOut,
    CaseDetailOut,
    CaseIn,
    CasePageOut,
    ChannelOut,
    ErrorOut,
    TransitionIn,
)
from civicloop.core import registry
from civicloop.core.accounts.api_auth import ApiKeyBearerAuth, StaffSessionAuth
from civicloop.core.accounts.models import ApiKey, User
from civicloop.core.cases.access import access_case_by_number
from civicloop.core.cases.selectors import CaseFilters, case_list
from civicloop.core.cases.services import transition
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import REFUSAL_STATUS, DomainError, Refusal
from civicloop.core.ratelimit import SUBMISSIONS_PER_MINUTE, rate_limit_hit
from civicloop.core.units.models import Unit

api = NinjaAPI(
    title="civicloop API",
    version="1",
    description="温岭市民意直达等渠道的事项接口。",
    urls_namespace="api",
    docs=LocalSwaggerDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

STAFF = [StaffSessionAuth()]
INTEGRATION = [ApiKeyBearerAuth()]
MAX_PAGE_SIZE = 100
READ_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    429: ErrorOut,
}


def staff_of(request: HttpRequest) -> User:
    """The staff member StaffSessionAuth let in."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def api_key_of(request: HttpRequest) -> ApiKey:
    """The integration's key ApiKeyBearerAuth let in."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return key


# --------------------------------------------------------------------------- errors


def error_response(
    request: HttpRequest, status: int, code: str, detail: object, *, field: str = ""
) -> HttpResponse:
    """The one error shape: {"code", "detail", "field"}."""
    body = {"code": code, "detail": str(detail), "field": field}
    return api.create_response(request, body, status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "payload")]
    field = ".".join(loc)
    detail = _("请求参数有误：%(field)s") % {"field": field or "-"}
    return error_response(request, REFUSAL_STATUS[Refusal.INVALID], "invalid", detail, field=field)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        request,
        REFUSAL_STATUS[Refusal.UNAUTHORIZED],
        "unauthorized",
        _("请登录，或提供有效的 API 密钥。"),
    )
    # A 401 names a scheme the client can answer with (RFC 9110 §11.6.1); a session
    # cookie has none, so the API key's.
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "error", exc.message)


@api.exception_handler(DomainError)
def on_refusal(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Every domain's refusal, one way: its kind's status, its code, its message in the
    request's language, the field it concerns."""
    response = error_response(request, exc.status, str(exc.code), exc.message, field=exc.field)
    if exc.retry_after:  # the refusals of a limit carry one
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return on_refusal(request, ApiError(ApiErrorCode.NOT_FOUND))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    status = REFUSAL_STATUS[Refusal.FORBIDDEN]
    return error_response(request, status, "forbidden", _("您没有权限执行此操作。"))


@api.exception_handler(ValueError)
def on_value_error(request: HttpRequest, exc: ValueError) -> HttpResponse:
    return on_refusal(request, ApiError(ApiErrorCode.INVALID))


@api.exception_handler(MultiPartParserError)
@api.exception_handler(RawPostDataException)
def on_unparsable_body(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A body that is not a well-formed form or JSON is the client's error, not ours. A
    malformed multipart body is read (and given up) by the CSRF check of a session
    write, so reading it again raises RawPostDataException: both are a 400."""
    return on_refusal(request, ApiError(ApiErrorCode.INVALID_BODY))


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    """A value the database cannot store or compare (e.g. a NUL character)."""
    return on_refusal(request, ApiError(ApiErrorCode.INVALID))


# --------------------------------------------------------------------------- channels


@api.get("/channels", response=list[ChannelOut], tags=["channels"], auth=None)
def channels_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every registered channel with its categories (public)."""
    return [channel_item(ch) for ch in registry.channels()]


# --------------------------------------------------------------------------- cases


@api.get(
    "/cases",
    response={200: CasePageOut, **READ_ERRORS},
    tags=["cases"],
    auth=STAFF,
)
def cases_list(
    request: HttpRequest,
    state: str = Query("", max_length=32, description="a state code, or 'open'"),
    channel: str = Query("", max_length=32),
    overdue: bool = Query(False),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE),
) -> dict[str, Any]:
    """The cases the signed-in staff member may see, newest first."""
    qs = case_list(
        user=staff_of(request), filters=CaseFilters(state=state, channel=channel, overdue=overdue)
    )
    start = (page - 1) * page_size
    now = timezone.now()
    return {
        "count": qs.count(),
        "page": page,
        "page_size": page_size,
        "items": [case_summary(c, now=now) for c in qs[start : start + page_size]],
    }


@api.get(
    "/cases/{number}",
    response={200: CaseDetailOut, **READ_ERRORS},
    tags=["cases"],
    auth=STAFF,
)
def cases_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    """One case the staff member may see (404 otherwise); the contact is masked."""
    user = staff_of(request)
    return case_detail(access_case_by_number(user, number), user=user)


@api.post(
    "/cases/{number}/transitions",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    tags=["cases"],
    auth=STAFF,
)
def cases_transition(request: HttpRequest, number: str, payload: TransitionIn) -> dict[str, Any]:
    """Take an action on a case (accept, answer, dispatch ...) as the staff member."""
    user = staff_of(request)
    case = access_case_by_number(user, number)
    unit = None
    if payload.unit_code:
        unit = Unit.objects.filter(code=payload.unit_code).first()
        if unit is None:
            raise ApiError(ApiErrorCode.INVALID_UNIT, field="unit_code")
    merge_into = None
    if payload.merge_into:
        try:
            merge_into = access_case_by_number(user, payload.merge_into)
        except Http404:
            raise ApiError(ApiErrorCode.INVALID_CASE, field="merge_into") from None
    due_at = payload.due_at
    if due_at is not None and timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    case = transition(
        case=case,
        action=payload.action,
        actor=user,
        note=plain_text(payload.note),
        unit=unit,
        grade=payload.grade,
        rating=payload.rating,
        due_at=due_at,
        merge_into=merge_into,
        idempotency_key=payload.idempotency_key or None,
    )
    return case_detail(access_case_by_number(user, case.number), user=user)


@api.post(
    "/cases",
    response={201: CaseCreatedOut, **WRITE_ERRORS},
    tags=["cases"],
    auth=INTEGRATION,
)
def cases_create(request: HttpRequest, payload: CaseIn) -> Status[dict[str, Any]]:
    """Submit a case on a channel (integrations, with an API key). The receiving unit
    is found from the location; the same `submission_key` twice gives one case."""
    rate_limit_hit(
        scope="api-ip", ident=client_ip(request) or "unknown", limit=SUBMISSIONS_PER_MINUTE
    )
    rate_limit_hit(scope="api-key", ident=str(api_key_of(request).pk), limit=SUBMISSIONS_PER_MINUTE)
    submission = submission_check(
        channel=any_channel(payload.channel),
        body=payload.body,
        title=payload.title,
        category=payload.category,
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
        area_code=payload.area_code,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
    )
    case = submission_create(submission, source="api", submission_key=payload.submission_key)
    owner = case.owner_unit
    created = {
        "number": case.number,
        "state": case.state,
        "owner_unit": {"code": owner.code, "name": owner.name} if owner else None,
        "due_at": timezone.localtime(case.due_at) if case.due_at else None,
    }
    return Status(201, created)


# Applications defined as data (core.forms): /api/v1/apps (civicloop/api/apps_api.py).
api.add_router("/apps", "civicloop.api.apps_api.router")

# Every enabled module's router, under /api/v1/<api_prefix>/ (ModuleSpec): its JSON
# endpoints are in this one OpenAPI schema, under one error mapping and schemathesis.
for _spec in registry.modules():
    if _spec.api_router:
        api.add_router(f"/{_spec.api_prefix}" if _spec.api_prefix else "", _spec.api_router)
