"""GET /api/v1/deputies and GET /api/v1/stations: the public directory as JSON.

Plain Django views (routed by public_urls before the ninja API, which may not import a
module). Public fields only: a deputy's phone number or login never leaves here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from civicloop.opinions import selectors
from civicloop.opinions.codes import code_url
from civicloop.opinions.models import Code, Deputy, Station

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


def _paged(request: HttpRequest, items: Any, serialize: Any) -> JsonResponse:
    size = _int(request.GET.get("page_size"), DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    paginator = Paginator(items, size)
    page = paginator.get_page(_int(request.GET.get("page"), 1, low=1, high=10**6))

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        return _absolute(request.path) + "?" + params.urlencode()

    # The body is the list itself; the total and the neighbouring pages travel in
    # headers (X-Total-Count, Link rel="next"/"prev"), as in GitHub's API.
    response = JsonResponse(
        [serialize(item) for item in page.object_list],
        safe=False,
        json_dumps_params={"ensure_ascii": False},
    )
    response["X-Total-Count"] = str(paginator.count)
    links = []
    if page.has_next():
        links.append(f'<{link(page.next_page_number())}>; rel="next"')
    if page.has_previous():
        links.append(f'<{link(page.previous_page_number())}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)
    patch_cache_control(response, public=True, max_age=60)
    patch_vary_headers(response, ["Accept-Language"])
    return response


@require_safe
def deputies_list_api(request: HttpRequest) -> JsonResponse:
    """Serving deputies; filters: q (name, constituency, station, profile), town (code
    or name), level (national / provincial / taizhou / wenling / town); page, page_size.
    Answers a JSON array of deputies."""
    deputies = selectors.deputies_search(
        q=request.GET.get("q", "")[:50],
        town=request.GET.get("town", "")[:32],
        level=request.GET.get("level", ""),
    )
    return _paged(request, deputies, deputy_public_json)


@require_safe
def stations_list_api(request: HttpRequest) -> JsonResponse:
    """Open stations; filters: q (name, address, speciality), town (code or name).
    Answers a JSON array of stations."""
    stations = selectors.stations_search(
        q=request.GET.get("q", "")[:50], town=request.GET.get("town", "")[:32]
    )
    return _paged(request, stations, station_public_json)
