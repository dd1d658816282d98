"""GET /api/v1/deputies and GET /api/v1/stations: the public directory as JSON.

The module's ninja `router`, mounted at the root of /api/v1/ (so in the OpenAPI schema).
Public fields only: a deputy's phone number or login never leaves here. A fixed
interface: the body is a plain JSON array, the total and the neighbouring pages travel
in headers; the paths answer with and without a trailing slash, to GET and HEAD.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from ninja import Query, Router, Schema

from civicloop.core.api_schemas import ErrorOut
from civicloop.opinions import selectors
from civicloop.opinions.codes import code_url
from civicloop.opinions.models import Code, Deputy, Station

router = Router(tags=["directory"])

# A city's whole directory (16 stations, a few hundred deputies) fits in one answer;
# page and page_size are there for a province.
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 1000


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _int(value: str | None, default: int, *, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return max(low, min(high, number))


def _code_fields(code: Code | None) -> dict[str, str | None]:
    if code is None:
        return {"slug": None, "code_url": None, "code_png": None, "code_svg": None, "poster": None}
    return {
        "slug": code.slug,
        "code_url": code_url(code),
        "code_png": _absolute(reverse("opinions_public:code_png", kwargs={"slug": code.slug})),
        "code_svg": _absolute(reverse("opinions_public:code_svg", kwargs={"slug": code.slug})),
        "poster": _absolute(reverse("opinions_public:poster_pdf", kwargs={"slug": code.slug})),
    }


def deputy_public_json(deputy: Deputy) -> dict[str, Any]:
    """The public fields of a deputy (no phone, no login)."""
    url = _absolute(reverse("opinions_public:deputy_detail", kwargs={"key": deputy.pk}))
    station_url = _absolute(
        reverse("opinions_public:station_detail", kwargs={"pk": deputy.station_id})
    )
    photo = (
        _absolute(reverse("opinions_public:deputy_photo", kwargs={"pk": deputy.pk}))
        if deputy.photo_id
        else None
    )
    return {
        "id": deputy.pk,
        **_code_fields(selectors.holder_active_code(deputy)),
        "name": deputy.name,
        "level": deputy.level,
        "level_name": str(deputy.get_level_display()),
        "constituency": deputy.constituency,
        "town": deputy.town.name,
        "town_code": deputy.town.code,
        "station": {"id": deputy.station_id, "name": deputy.station.name, "url": station_url},
        "profile": deputy.profile,
        "photo": photo,
        "url": url,
    }


def station_public_json(station: Station) -> dict[str, Any]:
    """The public fields of a station."""
    url = _absolute(reverse("opinions_public:station_detail", kwargs={"pk": station.pk}))
    return {
        "id": station.pk,
        **_code_fields(selectors.holder_active_code(station)),
        "name": station.name,
        "town": station.town.name,
        "town_code": station.town.code,
        "address": station.address,
        "lat": float(station.lat) if station.lat is not None else None,
        "lng": float(station.lng) if station.lng is not None else None,
        "opening_hours": station.opening_hours,
        "speciality": station.speciality,
        "intro": station.intro,
        "url": url,
    }


class CodeFieldsOut(Schema):
    """The holder's active QR code (all null while it has none)."""

    slug: str | None
    code_url: str | None
    code_png: str | None
    code_svg: str | None
    poster: str | None


class StationRefOut(Schema):
    id: int
    name: str
    url: str


class DeputyOut(CodeFieldsOut):
    id: int
    name: str
    level: str
    level_name: str
    constituency: str
    town: str
    town_code: str
    station: StationRefOut
    profile: str
    photo: str | None
    url: str


class StationOut(CodeFieldsOut):
    id: int
    name: str
    town: str
    town_code: str
    address: str
    lat: float | None
    lng: float | None
    opening_hours: str
    speciality: str
    intro: str
    url: str


PAGE_HEADERS = {
    "X-Total-Count": {"description": "how many items match", "schema": {"type": "integer"}},
    "Link": {
        "description": 'the neighbouring pages, rel="next" / rel="prev"',
        "schema": {"type": "string"},
    },
}


def _paged(
    request: HttpRequest,
    response: HttpResponse,
    items: Any,
    serialize: Callable[[Any], dict[str, Any]],
    *,
    page: str,
    page_size: str,
) -> list[dict[str, Any]]:
    """One page of `items`; the total and the neighbouring pages are set as headers on
    `response` (X-Total-Count, Link rel="next"/"prev", as in GitHub's API). Paging
    parameters out of range are clamped, never refused."""
    size = _int(page_size, DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    paginator = Paginator(items, size)
    current = paginator.get_page(_int(page, 1, low=1, high=10**6))

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return _absolute(request.path) + "?" + params.urlencode()

    # The interface was published as plain `application/json`.
    response["Content-Type"] = "application/json"
    response["X-Total-Count"] = str(paginator.count)
    links = []
    if current.has_next():
        links.append(f'<{link(current.next_page_number())}>; rel="next"')
    if current.has_previous():
        links.append(f'<{link(current.previous_page_number())}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)
    patch_cache_control(response, public=True, max_age=60)
    patch_vary_headers(response, ["Accept-Language"])
    return [serialize(item) for item in current.object_list]


# Paging parameters are text, clamped by `_paged`: the published interface answers a bad
# page number with the first page, never with an error.
PAGE_DOC = "page number, from 1 (a bad value means 1)"
PAGE_SIZE_DOC = f"items per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})"


def deputies_list(
    request: HttpRequest,
    response: HttpResponse,
    q: str = Query("", description="words in the name, constituency, station or profile"),
    town: str = Query("", description="a town's area code or name"),
    level: str = Query("", description="national / provincial / taizhou / wenling / town"),
    page: str = Query("", description=PAGE_DOC),
    page_size: str = Query("", description=PAGE_SIZE_DOC),
) -> list[dict[str, Any]]:
    """The serving deputies, public fields only, as a JSON array; the total in
    `X-Total-Count`, the neighbouring pages in `Link`."""
    deputies = selectors.deputies_search(q=q[:50], town=town[:32], level=level)
    return _paged(request, response, deputies, deputy_public_json, page=page, page_size=page_size)


def stations_list(
    request: HttpRequest,
    response: HttpResponse,
    q: str = Query("", description="words in the name, address or speciality"),
    town: str = Query("", description="a town's area code or name"),
    page: str = Query("", description=PAGE_DOC),
    page_size: str = Query("", description=PAGE_SIZE_DOC),
) -> list[dict[str, Any]]:
    """The open liaison stations as a JSON array; the total in `X-Total-Count`, the
    neighbouring pages in `Link`."""
    stations = selectors.stations_search(q=q[:50], town=town[:32])
    return _paged(request, response, stations, station_public_json, page=page, page_size=page_size)


def _directory_operation(path: str, view: Callable[..., Any], item: type[Schema]) -> None:
    """`GET path` in the schema; the same operation at `path/` and to HEAD answers
    too, outside the schema (one endpoint, documented once)."""
    responses: dict[int, Any] = {200: list[item], 400: ErrorOut}  # type: ignore[valid-type]
    router.add_api_operation(
        path,
        ["GET"],
        view,
        response=responses,
        auth=None,
        openapi_extra={"responses": {200: {"headers": PAGE_HEADERS}}},
    )
    router.add_api_operation(
        path, ["HEAD"], view, response=responses, auth=None, include_in_schema=False
    )
    router.add_api_operation(
        path + "/", ["GET", "HEAD"], view, response=responses, auth=None, include_in_schema=False
    )


_directory_operation("/deputies", deputies_list, DeputyOut)
_directory_operation("/stations", stations_list, StationOut)
