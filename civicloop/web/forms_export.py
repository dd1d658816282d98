"""An application's submissions for staff: the list page (/apps/<code>/submissions/) and
the downloads (/apps/<code>/export.csv, /apps/<code>/export.xlsx).

Staff only: an anonymous visitor is sent to sign in, anyone else who is not staff (a
citizen, an account with no unit or area) gets 403. Each lists or exports only the
submissions whose cases the staff member may see (`cases_visible_to`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from civicloop.core.cases.labels import state_label
from civicloop.core.forms.errors import FormError
from civicloop.core.forms.export import (
    csv_chunks,
    export_rows,
    submissions_visible,
    xlsx_write,
)
from civicloop.core.forms.models import Application
from civicloop.core.forms.selectors import application_get
from civicloop.core.units.selectors import user_standing

SUBMISSIONS_PER_PAGE = 50

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def staff_only(view: _View) -> _View:
    """Signed in (else to the sign-in page) and staff: an administrator, a unit member or
    an area leader; anyone else 403."""

    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if getattr(user, "is_citizen", False):
            raise PermissionDenied
        standing = user_standing(user)
        if not (standing.is_admin or standing.unit_ids or standing.area_paths):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked  # type: ignore[return-value]


def _application(code: str) -> Application:
    """Any application by code, enabled or not (its past submissions stay readable);
    404 when there is none."""
    try:
        return application_get(code, enabled_only=False)
    except FormError:
        raise Http404("no such application") from None


def attachment_url_for(request: HttpRequest) -> Callable[[str], str]:
    """An attachment id → its absolute URL on the staff site (access-checked there)."""
    base = request.build_absolute_uri("/").rstrip("/")

    def url(pk: str) -> str:
        try:
            return base + reverse("web:attachment_file", kwargs={"pk": pk})
        except Exception:  # not a UUID: an answer the form stored by another means
            return pk

    return url


def _download_name(application: Application, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"{application.code}-{stamp}.{extension}"


def _disposition(filename: str) -> str:
    return f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"


@staff_only
@require_GET
def app_submissions(request: HttpRequest, code: str) -> HttpResponse:
    """The submissions of one application the staff member may see, newest first, with
    links to their cases and to the downloads."""
    application = _application(code)
    qs = (
        submissions_visible(application, user=request.user)
        .select_related("case", "form_version")
        .only(
            "id",
            "created_at",
            "form_version__version",
            "case__number",
            "case__title",
            "case__state",
            "case__workflow",
        )
        .order_by("-created_at", "-pk")
    )
    page = Paginator(qs, SUBMISSIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "number": s.case.number,
            "created_at": s.created_at,
            "state": state_label(s.case.workflow, s.case.state),
            "title": s.case.title,
            "version": s.form_version.version,
        }
        for s in page.object_list
    ]
    return render(
        request,
        "web/apps/submissions.html",
        {"application": application, "page": page, "rows": rows},
    )


@staff_only
@require_GET
def app_export_csv(request: HttpRequest, code: str) -> StreamingHttpResponse:
    """The main sheet as CSV (UTF-8 with BOM), streamed row by row."""
    application = _application(code)
    sheets = export_rows(application, user=request.user, attachment_url=attachment_url_for(request))
    response = StreamingHttpResponse(csv_chunks(sheets[0]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _disposition(_download_name(application, "csv"))
    response["Cache-Control"] = "private, no-store"
    return response


@staff_only
@require_GET
def app_export_xlsx(request: HttpRequest, code: str) -> FileResponse:
    """Every sheet (main, one per repeat group) as XLSX, written to a spooled temporary
    file and streamed from it."""
    application = _application(code)
    sheets = export_rows(application, user=request.user, attachment_url=attachment_url_for(request))
    response = FileResponse(
        xlsx_write(sheets),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = _disposition(_download_name(application, "xlsx"))
    response["Cache-Control"] = "private, no-store"
    return response
