"""Open311 GeoReport v2 endpoints. Each view parses the request, calls one service or
selector and renders the GeoReport document in the format named by the URL suffix.

Errors follow the spec (400/403/404 with a list of {code, description}); the
description is in Chinese, or English when Accept-Language prefers it.

What `GET requests` shows follows each channel's `Publication` (core.registry):

- NOTHING: its requests are not listed, nor found by number.
- PUBLIC_PROJECTION (民意): `service_request_id` (the case number the citizen has on
  their SMS), status, category (`service_code`/`service_name`), the town (`address`
  is the 镇/街道's name, `address_id` its code), the handling unit, the dates and, once
  closed, the answer (`status_notes`). The text (`description`, phone and ID numbers in
  it masked) and the place (`lat`/`long` rounded to 3 decimals, about 100 m) only when
  the citizen agreed (`Case.data["publish_consent"]`); never the typed address, the
  media or the contact.
- ALL: every public field as stored (never the contact).

An anonymous case shows only its category, town and status: no number (it is not
found by number either), no dates, no unit, no answer; date filters match it by whole
days and it is listed after the others, so that neither dates it.

A GET with an `api_key` that may read full records (`create_api_key --full-records`)
gets every field of every Open311 channel's requests, and each record shown is logged
(PersonalDataAccess); an unknown key is refused (403), a key without the right gets
the public view. `status` takes one value or a comma list (`open,closed`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from civicloop.api.errors import ApiError, ApiErrorCode
from civicloop.api.i18n import in_request_language
from civicloop.api.intake import (
    location_resolve,
    open311_channel,
    phone_clean,
    plain_text,
    submission_check,
    submission_create,
)
from civicloop.api.open311 import applications
from civicloop.api.open311.render import document_response, errors_response
from civicloop.api.open311.selectors import (
    MAX_REQUESTS,
    STATUSES,
    is_closed,
    open311_channels,
    public_requests,
    towns_of,
)
from civicloop.api.open311.services import open311_full_reads_log
from civicloop.core import registry
from civicloop.core.accounts.masking import mask_phone
from civicloop.core.accounts.models import ApiKey
from civicloop.core.accounts.services import api_key_authenticate
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import DomainError
from civicloop.core.forms.errors import FormError
from civicloop.core.forms.models import Application
from civicloop.core.forms.services import submission_create as forms_submission_create
from civicloop.core.ratelimit import SUBMISSIONS_PER_MINUTE, rate_limit_hit

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+08:00"
DEFAULT_DAYS = 90
MAX_IDS = 100
# Published coordinates keep 3 decimals: about 110 m of latitude, 98 m of longitude here.
PUBLIC_COORDINATE_DECIMALS = 3
# A mainland mobile or an 18-character resident ID a citizen typed into the text.
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


Open311View = Callable[..., HttpResponse]


def open311_refusal(fmt: str, exc: DomainError) -> HttpResponse:
    """Any domain's refusal as a GeoReport error document, with its kind's status."""
    response = errors_response(fmt, exc.status, exc.message)
    retry_after = getattr(exc, "retry_after", 0)  # the refusals of a limit carry one
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def open311_endpoint(*methods: str) -> Callable[[Open311View], Open311View]:
    """Allow `methods`, answer in the request's language, and turn every refusal
    (and any ValueError from malformed input) into a GeoReport error document."""

    def decorate(view: Open311View) -> Open311View:
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any
        ) -> HttpResponse:
            if request.method not in methods:
                response = errors_response(
                    fmt, int(HTTPStatus.METHOD_NOT_ALLOWED), str(_("不支持此请求方法。"))
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except DomainError as exc:
                return open311_refusal(fmt, exc)
            except Http404:
                return open311_refusal(fmt, ApiError(ApiErrorCode.NOT_FOUND))
            except (ValueError, DataError):  # malformed input, e.g. a NUL character
                return open311_refusal(fmt, ApiError(ApiErrorCode.INVALID))

        return in_request_language(wrapper)

    return decorate


# --------------------------------------------------------------------------- documents


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def service_item(
    channel: registry.Channel, *, forms: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`forms`: the codes of the listed services that are applications (their
    questions are attributes, so they always have metadata)."""
    return {
        "service_code": channel.code,
        "service_name": str(channel.name),
        "description": str(channel.description),
        "metadata": bool(channel.categories) or channel.code in forms,
        "type": "realtime",
        "keywords": ",".join(str(k) for k in channel.keywords),
        "group": str(channel.open311_group),
    }


def service_definition(channel: registry.Channel) -> dict[str, Any]:
    application = applications.application_of(channel.code)
    if application is not None:
        lang = get_language() or "zh-hans"
        return {
            "service_code": channel.code,
            "attributes": applications.attributes(application, lang=lang),
        }
    attributes = []
    if channel.categories:
        attributes.append(
            {
                "variable": True,
                "code": "category",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": _g("从列表中选择一个类别"),
                "order": 1,
                "description": _g("问题类别"),
                "values": [{"key": key, "name": str(name)} for key, name in channel.categories],
            }
        )
    for order, attribute in enumerate(channel.open311_attributes, start=len(attributes) + 1):
        attributes.append(
            {
                "variable": True,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": "",
                "order": order,
                "description": str(attribute.description),
            }
        )
    return {"service_code": channel.code, "attributes": attributes}


def _status_notes(case: Case, closed: bool) -> str:
    """The public outcome: the result once the case is closed; never personal data."""
    if not closed:
        try:
            while_open = registry.channel(case.channel).status_notes_while_open
        except registry.RegistryError:
            while_open = False
        return case.result if while_open else ""
    if case.merged_into is not None:
        return _g("已与 %(number)s 合并办理。") % {"number": case.merged_into.number}
    return case.result


def _service_name(case: Case) -> str:
    try:
        return str(registry.channel(case.channel).name)
    except registry.RegistryError:
        return case.channel


def _publication(case: Case) -> registry.Publication:
    try:
        return registry.channel(case.channel).publication
    except registry.RegistryError:
        return registry.Publication.NOTHING


def _consented(case: Case) -> bool:
    return isinstance(case.data, dict) and case.data.get(registry.PUBLISH_CONSENT) is True


def published_text(text: str) -> str:
    """The text as published: phone and resident ID numbers typed into it masked."""
    text = PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
    return ID_NUMBER_IN_TEXT.sub(lambda m: f"{m.group()[:3]}{'*' * 11}{m.group()[-4:]}", text)


def _rounded(value: Any) -> float | None:
    return round(float(value), PUBLIC_COORDINATE_DECIMALS) if value is not None else None


def request_public_item(case: Case, *, town: Area | None) -> dict[str, Any]:
    """What the public may see of one request, by its channel's Publication (see the
    module docstring); the same keys as `request_item`, withheld ones empty."""
    if _publication(case) == registry.Publication.ALL and not case.anonymous:
        return request_item(case)
    closed = is_closed(case)
    item: dict[str, Any] = dict.fromkeys(REQUEST_KEYS, "")
    item.update(
        status="closed" if closed else "open",
        service_name=_service_name(case),
        service_code=case.channel,
        address=town.name if town is not None else "",
        address_id=town.code if town is not None else "",
        requested_datetime=None,
        updated_datetime=None,
        expected_datetime=None,
        lat=None,
        long=None,
    )
    if case.anonymous:
        return item
    agency = case.holder_unit or case.owner_unit
    item.update(
        service_request_id=case.number,
        status_notes=_status_notes(case, closed),
        agency_responsible=agency.name if agency is not None else "",
        requested_datetime=_iso(case.created_at),
        updated_datetime=_iso(case.updated_at),
        expected_datetime=_iso(case.due_at),
    )
    if _consented(case):
        item.update(
            description=published_text(case.body), lat=_rounded(case.lat), long=_rounded(case.lng)
        )
    return item


def request_item(case: Case) -> dict[str, Any]:
    """Every field of one request (never the contact): for ALL channels and for a key
    that may read full records."""
    closed = is_closed(case)
    service_name = _service_name(case)
    agency = case.holder_unit or case.owner_unit
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(case, closed),
        "service_name": service_name,
        "service_code": case.channel,
        "description": case.body,
        "agency_responsible": agency.name if agency is not None else "",
        "service_notice": "",
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.due_at),
        "address": case.address,
        "address_id": case.area.code if case.area is not None else "",
        "zipcode": "",
        "lat": float(case.lat) if case.lat is not None else None,
        "long": float(case.lng) if case.lng is not None else None,
        "media_url": str(case.data.get("media_url", "")) if isinstance(case.data, dict) else "",
    }


REQUEST_KEYS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


def request_items(cases: Sequence[Case], *, key: ApiKey | None) -> list[dict[str, Any]]:
    """The requests as `key` may see them: whole (and logged) for a key that may read
    full records, else the public view."""
    if key is not None and key.can_read_full_records:
        open311_full_reads_log(key=key, cases=cases)
        return [request_item(case) for case in cases]
    towns = towns_of(cases)
    return [request_public_item(case, town=towns.get(case.number)) for case in cases]


# --------------------------------------------------------------------------- parsing


def _datetime_param(
    request: HttpRequest, name: str, *, end_of_day: bool = False
) -> datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is not None:
                value = datetime.combine(day, time.max if end_of_day else time.min)
    except ValueError:
        value = None
    if value is None:
        raise ApiError(ApiErrorCode.INVALID, _("%(name)s 不是有效的 ISO 8601 时间。"), name=name)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _reader_key(request: HttpRequest) -> ApiKey | None:
    """The key a GET names (`api_key`), None without one; an unknown key is refused."""
    raw = request.GET.get("api_key", "")
    if not raw.strip():
        return None
    key = api_key_authenticate(raw=raw)
    if key is None:
        raise ApiError(ApiErrorCode.INVALID_API_KEY)
    return key


def _full_reader(key: ApiKey | None) -> bool:
    return key is not None and key.can_read_full_records


def _statuses_param(raw: str) -> set[str]:
    """`open`, `closed` or a comma list of them (GeoReport v2 allows one)."""
    statuses = {s.strip().lower() for s in raw.split(",") if s.strip()}
    if statuses - STATUSES:
        raise ApiError(ApiErrorCode.INVALID, _("status 只能是 open 或 closed。"))
    return statuses


def _service_codes_param(raw: str) -> list[str]:
    codes = [c.strip() for c in raw.split(",") if c.strip()]
    known = {ch.code for ch in open311_channels()}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ApiError(
            ApiErrorCode.UNKNOWN_SERVICE, _("没有这项服务：%(code)s"), code=", ".join(unknown)
        )
    return codes


# --------------------------------------------------------------------------- views


@open311_endpoint("GET", "HEAD")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Where the endpoint is and what it speaks."""
    document = {
        "changeset": CHANGESET,
        "contact": _g("温岭市民意直达平台"),
        "key_service": _g("提交请求需要 API 密钥，请联系平台管理员申请。"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{settings.SITE_URL}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return document_response(fmt, document, root="discovery")


@open311_endpoint("GET", "HEAD")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """One service per channel registered with open311=True."""
    channels = open311_channels()
    forms = frozenset(
        Application.objects.filter(code__in=[ch.code for ch in channels]).values_list(
            "code", flat=True
        )
    )
    items = [service_item(ch, forms=forms) for ch in channels]
    return document_response(fmt, items, root="services", item="service")


@open311_endpoint("GET", "HEAD")
def service_detail(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """A service's definition: its attributes (the category list)."""
    try:
        channel = open311_channel(code)
    except ApiError as exc:  # an unknown service: here the resource itself
        raise ApiError(ApiErrorCode.NOT_FOUND, exc.message) from None
    return document_response(fmt, service_definition(channel), root="service_definition")


@csrf_exempt
@open311_endpoint("GET", "HEAD", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: the public list of requests. POST: submit one (API key required)."""
    if request.method == "POST":
        return _request_create(request, fmt)
    key = _reader_key(request)
    full = _full_reader(key)
    raw_ids = request.GET.get("service_request_id", "").strip()
    if raw_ids:
        numbers = [plain_text(n) for n in raw_ids.split(",") if plain_text(n)][:MAX_IDS]
        rows = public_requests(full=full, numbers=numbers)
    else:
        statuses = _statuses_param(request.GET.get("status", ""))
        start = _datetime_param(request, "start_date")
        end = _datetime_param(request, "end_date", end_of_day=True)
        if start is None and end is None:
            start = timezone.now() - timedelta(days=DEFAULT_DAYS)
        if start is not None and end is not None and start > end:
            raise ApiError(ApiErrorCode.INVALID, _("start_date 不能晚于 end_date。"))
        rows = public_requests(
            full=full,
            service_codes=_service_codes_param(request.GET.get("service_code", "")),
            start=start,
            end=end,
            statuses=statuses,
            limit=MAX_REQUESTS,
        )
    items = request_items(list(rows), key=key)
    return document_response(fmt, items, root="service_requests", item="request")


def _request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    """Submit a request: limits, API key, service, then the checked fields to core."""
    form = request.POST
    rate_limit_hit(
        scope="open311-ip", ident=client_ip(request) or "unknown", limit=SUBMISSIONS_PER_MINUTE
    )
    key = api_key_authenticate(raw=form.get("api_key", ""))
    if key is None:
        raise ApiError(ApiErrorCode.INVALID_API_KEY)
    rate_limit_hit(scope="open311-key", ident=str(key.pk), limit=SUBMISSIONS_PER_MINUTE)
    code = form.get("service_code", "").strip()
    if not code:
        raise ApiError(ApiErrorCode.MISSING, _("缺少 service_code。"), field="service_code")
    channel = open311_channel(code)
    application = applications.application_of(channel.code)
    if application is not None:
        return _application_request_create(request, fmt, application=application, key=key)
    submission = submission_check(
        channel=channel,
        body=form.get("description", ""),
        category=form.get("attribute[category]", ""),
        lat=form.get("lat"),
        lng=form.get("long"),
        address=form.get("address_string", ""),
        area_code=form.get("address_id", ""),
        contact_name=f"{form.get('last_name', '').strip()}{form.get('first_name', '').strip()}",
        contact_phone=form.get("phone", ""),
        email=form.get("email", ""),
        media_url=form.get("media_url", ""),
    )
    extra = {a.code: form.get(f"attribute[{a.code}]", "") for a in channel.open311_attributes}
    case = submission_create(submission, source="open311", attributes=extra)
    notice = _g("已收到，由%(unit)s受理。") % {
        "unit": case.owner_unit.name if case.owner_unit else ""
    }
    item = {"service_request_id": case.number, "service_notice": notice, "account_id": None}
    return document_response(fmt, [item], root="service_requests", item="request", status=201)


def _application_request_create(
    request: HttpRequest, fmt: str, *, application: Application, key: ApiKey
) -> HttpResponse:
    """A request to a public application: its attributes are the form's answers,
    checked by the form (a failing attribute is named with the form's message)."""
    form = request.POST
    location = location_resolve(
        lat=form.get("lat"),
        lng=form.get("long"),
        address=form.get("address_string", ""),
        area_code=form.get("address_id", ""),
    )
    try:
        case = forms_submission_create(
            application=application,
            answers=applications.answers_from_post(application, form),
            api_key=key,
            area=location.area,
            lat=location.lat,
            lng=location.lng,
            contact_name=plain_text(
                f"{form.get('last_name', '').strip()}{form.get('first_name', '').strip()}"
            )[:50],
            contact_phone=phone_clean(form.get("phone", "")),
            source="open311",
        )
    except FormError as exc:
        if not exc.errors:
            raise
        first = next(iter(exc.errors))
        raise ApiError(
            ApiErrorCode.INVALID,
            f"{exc.message} {applications.errors_text(exc.errors)}",
            field=f"attribute[{first}]",
        ) from None
    notice = _g("已收到，由%(unit)s受理。") % {
        "unit": case.owner_unit.name if case.owner_unit else ""
    }
    item = {"service_request_id": case.number, "service_notice": notice, "account_id": None}
    return document_response(fmt, [item], root="service_requests", item="request", status=201)


@open311_endpoint("GET", "HEAD")
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    """One request, as a list of one item (as the spec shows it); one the public may
    not look up by number (see the module docstring) is not found."""
    key = _reader_key(request)
    rows = list(public_requests(full=_full_reader(key), numbers=[number]))
    if not rows:
        raise ApiError(ApiErrorCode.NOT_FOUND, _("没有这个请求。"))
    items = request_items(rows, key=key)
    return document_response(fmt, items, root="service_requests", item="request")
