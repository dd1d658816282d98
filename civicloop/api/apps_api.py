"""Applications defined as data, through the API (/api/v1/apps).

- `GET /apps`: the enabled applications. An integration's API key or a staff session
  sees every enabled application; without either, only the public ones.
- `GET /apps/{code}/form`: the current form as pyxform's JSON, its version in the
  `X-Form-Version` header (who may read it: as for the list; a non-public application
  without credentials is a 401).
- `POST /apps/{code}/submissions`: answers keyed by the XLSForm names open a case
  (`submission_create`, source "api"). A Bearer API key (the application must take API
  submissions) or a signed-in session (staff, deputies, citizens: the application's
  `submitters` decide). 400 `invalid_answers` names every failing field with the form's
  own message in the request's language; rate-limited like POST /cases.
- `GET /apps/{code}/submissions`: the answers as stored, paginated (oldest first, so
  paging is stable while new ones arrive): a staff member gets the cases they may see,
  an API key all of them if it may read full records (403 otherwise). Each read is
  logged (PersonalDataAccess), as Open311's full records are.
- `GET /apps/{code}/attachments/{id}`: a photo, voice note or document of a submission
  the reader may export (same rules), as a download; logged too.

Unknown and disabled applications are 404 (a disabled one stays exportable by staff).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.security import SessionAuth
from pydantic import field_validator

from civicloop.api.errors import ApiError, ApiErrorCode
from civicloop.api.intake import location_resolve, phone_clean, plain_text, text_clean
from civicloop.api.schemas import ErrorOut, UnitRefOut, coordinate_not_boolean
from civicloop.core.accounts.api_auth import ApiKeyBearerAuth, StaffSessionAuth
from civicloop.core.accounts.models import ApiKey, User
from civicloop.core.attachments.models import Attachment
from civicloop.core.client_ip import client_ip
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.export import submissions_reads_log, submissions_visible
from civicloop.core.forms.models import Application
from civicloop.core.forms.selectors import (
    application_get,
    application_may_submit,
    application_takes_api,
    applications_enabled,
)
from civicloop.core.forms.services import submission_create
from civicloop.core.ratelimit import SUBMISSIONS_PER_MINUTE, rate_limit_hit
from civicloop.core.units.models import Unit

router = Router(tags=["apps"])

MAX_PAGE_SIZE = 100
NAME_MAX_CHARS = 50


class SignedInSessionAuth(SessionAuth):
    """Anyone signed in (staff, a deputy, a citizen signed in by SMS code); whether
    they may submit is the application's `submitters` rule. CSRF-checked on writes."""


class _Anonymous:
    """What `request.auth` holds for a reader who gave no credentials."""

    def __bool__(self) -> bool:
        return True


ANONYMOUS = _Anonymous()


def anyone(request: HttpRequest) -> _Anonymous:
    """The last auth tried for the public reads: no credentials, public data only."""
    return ANONYMOUS


READERS: list[Any] = [ApiKeyBearerAuth(), StaffSessionAuth(), anyone]
SUBMITTERS: list[Any] = [ApiKeyBearerAuth(), SignedInSessionAuth()]
EXPORTERS: list[Any] = [ApiKeyBearerAuth(), StaffSessionAuth()]
# The public reads say in the schema that credentials are optional (`{}`, appended
# to the schemes ninja lists).
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}


# --------------------------------------------------------------------------- schemas


class AppOut(Schema):
    code: str
    name: str
    description: str
    form_version: int | None = Field(description="the current form's version; null: no form")
    public: bool
    submit_url: str = Field(description="the application's submit page")


class AnswersErrorOut(ErrorOut):
    """A refusal; for `invalid_answers`, `errors` maps every failing field key (an
    XLSForm name, `repeat[0].name` inside a repeat) to its message."""

    errors: dict[str, str] = Field(default_factory=dict)


class AppSubmissionIn(Schema):
    """Answers keyed by the XLSForm names (flat through groups; a repeat is a list of
    such objects). Optionally where it is, to route it: an area code (331081100 for
    泽国镇) or lat/lng; or the unit chosen (applications whose owner is chosen)."""

    answers: dict[str, Any]
    area: str = Field("", max_length=32, description="an area code, e.g. 331081100")
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    unit: str = Field("", max_length=64, description="the chosen unit's code")
    submission_key: str = Field("", max_length=64)
    contact_name: str = Field("", max_length=NAME_MAX_CHARS)
    contact_phone: str = Field("", max_length=20)

    _coordinates = field_validator("lat", "lng", mode="before")(coordinate_not_boolean)


class AppSubmissionCreatedOut(Schema):
    number: str
    state: str
    owner_unit: UnitRefOut | None
    due_at: datetime | None
    form_version: int


class AttachmentRefOut(Schema):
    id: str
    kind: str
    content_type: str
    url: str = Field(description="GET /api/v1/apps/{code}/attachments/{id} (same rights)")


class AppSubmissionOut(Schema):
    number: str
    state: str
    created_at: datetime
    form_version: int
    answers: dict[str, Any]
    attachments: list[AttachmentRefOut]


class AppSubmissionPageOut(Schema):
    count: int
    page: int
    page_size: int
    items: list[AppSubmissionOut]


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


# --------------------------------------------------------------------------- helpers


def _credentials(request: HttpRequest) -> tuple[ApiKey | None, User | None]:
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        return auth, None
    if isinstance(auth, User):
        return None, auth
    return None, None


def _app_name(app: Application) -> str:
    if app.name_en and (get_language() or "").startswith("en"):
        return app.name_en
    return app.name


def _app_item(request: HttpRequest, app: Application) -> dict[str, Any]:
    return {
        "code": app.code,
        "name": _app_name(app),
        "description": app.description,
        "form_version": app.current_form.version if app.current_form else None,
        "public": app.public,
        "submit_url": request.build_absolute_uri(f"/apps/{app.code}/new/"),
    }


def _readable(request: HttpRequest, code: str) -> Application:
    """An enabled application this reader may read (a non-public one needs an API key
    or a staff session: 401 without)."""
    app = application_get(code)
    key, user = _credentials(request)
    if not app.public and key is None and user is None:
        raise AuthenticationError()
    return app


def _attachment_url(request: HttpRequest, code: str, pk: str) -> str:
    return request.build_absolute_uri(
        reverse("api:apps_attachment", kwargs={"code": code, "attachment_id": pk})
    )


def _exporter(request: HttpRequest, code: str) -> tuple[Application, ApiKey | None, User | None]:
    """The application (enabled or not: past answers stay readable) and the reader, an
    API key only when it may read full records (403 otherwise)."""
    key, user = _credentials(request)
    app = application_get(code, enabled_only=False)
    if key is not None and not key.can_read_full_records:
        raise FormError(FormErrorCode.FORBIDDEN)
    return app, key, user


# --------------------------------------------------------------------------- endpoints


@router.get("", response={200: list[AppOut], **ERRORS}, auth=READERS, openapi_extra=OPTIONAL_AUTH)
def apps_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The enabled applications: every one for an API key or a staff session, the
    public ones for anyone else."""
    key, user = _credentials(request)
    apps = applications_enabled().order_by("code")
    if key is None and user is None:
        apps = apps.filter(public=True)
    return [_app_item(request, app) for app in apps]


@router.get(
    "/{code}/form",
    response={200: dict[str, Any], **ERRORS},
    auth=READERS,
    openapi_extra=OPTIONAL_AUTH,
)
def apps_form(request: HttpRequest, code: str, response: HttpResponse) -> dict[str, Any]:
    """The current form exactly as pyxform converted it (its JSON); the version is in
    the `X-Form-Version` header. 409 when the application has no form yet."""
    app = _readable(request, code)
    version = app.current_form
    if version is None:
        raise FormError(FormErrorCode.NO_FORM)
    response["X-Form-Version"] = str(version.version)
    definition: dict[str, Any] = version.definition
    return definition


@router.post(
    "/{code}/submissions",
    response={201: AppSubmissionCreatedOut, 400: AnswersErrorOut, 429: ErrorOut, **ERRORS},
    auth=SUBMITTERS,
)
def apps_submit(
    request: HttpRequest, code: str, payload: AppSubmissionIn
) -> Status[dict[str, Any]]:
    """Open a case from the answers. A submission that breaks `required` or a
    `constraint` is refused whole (400 `invalid_answers`, `errors` naming each field);
    the same `submission_key` twice gives one case."""
    key, user = _credentials(request)
    rate_limit_hit(
        scope="api-ip", ident=client_ip(request) or "unknown", limit=SUBMISSIONS_PER_MINUTE
    )
    if key is not None:
        rate_limit_hit(scope="api-key", ident=str(key.pk), limit=SUBMISSIONS_PER_MINUTE)
    elif user is not None:
        rate_limit_hit(scope="api-user", ident=str(user.pk), limit=SUBMISSIONS_PER_MINUTE)
    app = application_get(code)
    allowed = application_takes_api(app) if key is not None else application_may_submit(user, app)
    if not allowed:
        raise FormError(FormErrorCode.FORBIDDEN)
    area = lat = lng = None
    area_code = plain_text(payload.area)
    if area_code or payload.lat is not None or payload.lng is not None:
        location = location_resolve(lat=payload.lat, lng=payload.lng, area_code=area_code)
        area, lat, lng = location.area, location.lat, location.lng
    unit = None
    if payload.unit:
        unit = Unit.objects.filter(code=plain_text(payload.unit)).first()
        if unit is None:
            raise ApiError(ApiErrorCode.INVALID_UNIT, field="unit")
    try:
        case = submission_create(
            application=app,
            answers=payload.answers,
            submitter=user,
            api_key=key,
            area=area,
            lat=lat,
            lng=lng,
            unit=unit,
            contact_name=text_clean(
                payload.contact_name, field="contact_name", max_chars=NAME_MAX_CHARS
            ),
            contact_phone=phone_clean(payload.contact_phone),
            source="api",
            submission_key=plain_text(payload.submission_key) or None,
        )
    except FormError as err:
        if err.code != FormErrorCode.INVALID_ANSWERS:
            raise
        body = {
            "code": str(err.code),
            "detail": str(err.message),
            "field": next(iter(err.errors), err.field),
            "errors": {k: str(v) for k, v in err.errors.items()},
        }
        return Status(400, body)
    owner = case.owner_unit
    return Status(
        201,
        {
            "number": case.number,
            "state": case.state,
            "owner_unit": {"code": owner.code, "name": owner.name} if owner else None,
            "due_at": timezone.localtime(case.due_at) if case.due_at else None,
            "form_version": case.form_submission.form_version.version,
        },
    )


@router.get(
    "/{code}/submissions",
    response={200: AppSubmissionPageOut, 400: ErrorOut, **ERRORS},
    auth=EXPORTERS,
)
def apps_submissions(
    request: HttpRequest,
    code: str,
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
) -> dict[str, Any]:
    """The submissions the reader may see with their answers as stored, oldest first.
    An API key must be allowed to read full records (403 otherwise). Every
    submission returned is logged as a read of personal data."""
    app, key, user = _exporter(request, code)
    qs = submissions_visible(app, user=user, api_key=key)
    start = (page - 1) * page_size
    rows = list(
        qs.select_related("case", "form_version")
        .only(
            "id",
            "answers",
            "created_at",
            "form_version__version",
            "case__number",
            "case__state",
        )
        .prefetch_related("attachments")[start : start + page_size]
    )
    if rows:
        submissions_reads_log(
            qs.filter(pk__in=[r.pk for r in rows]), user=user, api_key=key, purpose="api"
        )
    items = [
        {
            "number": s.case.number,
            "state": s.case.state,
            "created_at": s.created_at,
            "form_version": s.form_version.version,
            "answers": s.answers if isinstance(s.answers, dict) else {},
            "attachments": [
                {
                    "id": str(a.pk),
                    "kind": a.kind,
                    "content_type": a.content_type,
                    "url": _attachment_url(request, app.code, str(a.pk)),
                }
                for a in s.attachments.all()
            ],
        }
        for s in rows
    ]
    return {"count": qs.count(), "page": page, "page_size": page_size, "items": items}


@router.get(
    "/{code}/attachments/{attachment_id}",
    response={200: None, 400: ErrorOut, **ERRORS},
    auth=EXPORTERS,
    url_name="apps_attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "the file, as stored",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def apps_attachment(request: HttpRequest, code: str, attachment_id: uuid.UUID) -> FileResponse:
    """A file of a submission the reader may export (a staff member's visible cases;
    a key that may read full records): a download, with the stored type and nosniff.
    The read is logged; anything else is 404."""
    app, key, user = _exporter(request, code)
    submissions = submissions_visible(app, user=user, api_key=key).filter(
        attachments__pk=attachment_id
    )
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or not submissions.exists():
        raise Http404("attachment not found")
    submissions_reads_log(submissions, user=user, api_key=key, purpose="api-attachment")
    extension = (attachment.file.name or "").rsplit(".", 1)[-1]
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=f"{attachment.pk}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
