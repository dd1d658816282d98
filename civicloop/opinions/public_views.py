"""Public pages (no login): the deputy and station directory, the code resolver, the
code images and the printable posters. Phone-first; every text through gettext."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseGone,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from civicloop.core.attachments.models import Attachment
from civicloop.core.forms.selectors import applications_on_station
from civicloop.opinions import selectors
from civicloop.opinions.codes import code_path, code_png, code_resolve, code_svg, code_url
from civicloop.opinions.models import Code, Deputy, DeputyLevel, Station
from civicloop.opinions.posters import poster_pdf, poster_png

PAGE_SIZE = 20
CODE_IMAGE_MAX_AGE = 24 * 3600
CODE_PNG_SCALE = 8


def _page(request: HttpRequest, items: QuerySet[Any]) -> Page[Any]:
    paginator: Paginator[Any] = Paginator(items, PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def submit_path(code: Code | None) -> str | None:
    """Where a citizen writes to the code's holder (the submission form's URL)."""
    return f"{code_path(code)}submit/" if code is not None else None


@require_safe
def deputy_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    town = request.GET.get("town", "")[:32]
    level = request.GET.get("level", "")
    page = _page(request, selectors.deputies_search(q=q, town=town, level=level))
    return render(
        request,
        "opinions/public/deputy_list.html",
        {
            "page": page,
            "q": q,
            "town": town,
            "level": level,
            "towns": selectors.station_towns(),
            "levels": DeputyLevel.choices,
            "query": _query_without_page(request),
        },
    )


@require_safe
def deputy_detail(request: HttpRequest, key: str) -> HttpResponse:
    """A deputy by id; a deputy code's slug also works and redirects to the id."""
    if not key.isdigit():
        try:
            target = code_resolve(key)
        except Code.DoesNotExist:
            raise Http404 from None
        return HttpResponseRedirect(target.path)
    try:
        deputy = selectors.deputy_get_public(pk=int(key))
    except Deputy.DoesNotExist:
        raise Http404 from None
    code = selectors.holder_active_code(deputy)
    return render(
        request,
        "opinions/public/deputy_detail.html",
        {
            "deputy": deputy,
            "code": code,
            "code_url": code_url(code) if code else "",
            "submit_url": submit_path(code),
            "duty_days": selectors.duty_days_upcoming(deputy=deputy),
            "today": timezone.localdate(),
        },
    )


@require_safe
def deputy_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A serving deputy's published photo (the only attachment anyone may see unsigned)."""
    try:
        deputy = selectors.deputy_get_public(pk=pk)
    except Deputy.DoesNotExist:
        raise Http404 from None
    photo = deputy.photo
    if photo is None or photo.kind != Attachment.Kind.PHOTO:
        raise Http404
    # The thumbnail (always JPEG) is plenty for a 96 px avatar and lighter on a phone.
    if photo.thumbnail:
        response = FileResponse(photo.thumbnail.open("rb"), content_type="image/jpeg")
    else:
        response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    patch_cache_control(response, public=True, max_age=3600)
    return response


@require_safe
def station_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    town = request.GET.get("town", "")[:32]
    page = _page(request, selectors.stations_search(q=q, town=town))
    return render(
        request,
        "opinions/public/station_list.html",
        {
            "page": page,
            "q": q,
            "town": town,
            "towns": selectors.station_towns(),
            "query": _query_without_page(request),
        },
    )


@require_safe
def station_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        station = selectors.station_get_public(pk=pk)
    except Station.DoesNotExist:
        raise Http404 from None
    code = selectors.holder_active_code(station)
    return render(
        request,
        "opinions/public/station_detail.html",
        {
            "station": station,
            "code": code,
            "code_url": code_url(code) if code else "",
            "submit_url": submit_path(code),
            "duty_dates": selectors.station_duty_by_date(station=station),
            "deputies": selectors.station_deputies(station=station),
            "apps": applications_on_station(station.town),
        },
    )


@require_safe
def code_resolve_view(request: HttpRequest, slug: str) -> HttpResponse:
    """What a scanned code opens: a 302 to the deputy's page, or to the station's page
    when the code is a station code or a revoked deputy code. Never cached, so a
    revocation takes effect at once."""
    try:
        target = code_resolve(slug)
    except Code.DoesNotExist:
        raise Http404 from None
    response = HttpResponseRedirect(target.path)
    patch_cache_control(response, no_cache=True, max_age=0)
    return response


def _code_or_404(slug: str) -> Code:
    try:
        return Code.objects.select_related("deputy__station", "station").get(slug=slug)
    except Code.DoesNotExist:
        raise Http404 from None


def _cacheable(request: HttpRequest, response: HttpResponse, *, etag_of: bytes) -> HttpResponse:
    etag = '"' + hashlib.sha256(etag_of).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = etag
        patch_cache_control(not_modified, public=True, max_age=CODE_IMAGE_MAX_AGE)
        return not_modified
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=CODE_IMAGE_MAX_AGE)
    return response


@require_safe
def code_png_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The code as PNG. A slug's image never changes while SITE_URL stays the same."""
    code = _code_or_404(slug)
    data = code_png(code, scale=CODE_PNG_SCALE)
    return _cacheable(
        request,
        HttpResponse(data, content_type="image/png"),
        etag_of=f"png{CODE_PNG_SCALE}{code_url(code)}".encode(),
    )


@require_safe
def code_svg_view(request: HttpRequest, slug: str) -> HttpResponse:
    code = _code_or_404(slug)
    return _cacheable(
        request,
        HttpResponse(code_svg(code), content_type="image/svg+xml; charset=utf-8"),
        etag_of=f"svg{code_url(code)}".encode(),
    )


def _poster(slug: str, *, fmt: str) -> HttpResponse:
    code = _code_or_404(slug)
    if code.revoked_at is not None:
        # Printing a revoked code would hang up a code that no longer reaches the deputy.
        return HttpResponseGone("revoked")
    if fmt == "pdf":
        response = HttpResponse(poster_pdf(code), content_type="application/pdf")
    else:
        response = HttpResponse(poster_png(code), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="poster-{code.slug}.{fmt}"'
    patch_cache_control(response, public=True, max_age=3600)
    return response


@require_safe
def poster_pdf_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _poster(slug, fmt="pdf")


@require_safe
def poster_png_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _poster(slug, fmt="png")


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def deputy_url(deputy: Deputy) -> str:
    return absolute(reverse("opinions_public:deputy_detail", kwargs={"key": deputy.pk}))


def station_url(station: Station) -> str:
    return absolute(reverse("opinions_public:station_detail", kwargs={"pk": station.pk}))
