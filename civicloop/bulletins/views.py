"""Pages of e线知政 / 学习园地: the list (sections, categories, tags, search), an item
(text, images, PDFs, video player, reading recorded), the staff publish form, a
deputy's yearly study record and the 代表工委's reading report. Views parse, call one
service or selector, and render; the access functions refuse (a page with the reason)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicloop.bulletins import ranges
from civicloop.bulletins.access import (
    access_file_by_attachment_id,
    access_item_by_id,
    access_video_by_id,
    check_editor,
    check_reader,
    is_deputy,
    is_editor,
)
from civicloop.bulletins.errors import BulletinError
from civicloop.bulletins.forms import ItemPublishForm
from civicloop.bulletins.models import SECTION_CATEGORIES, Category, Item, Section, Tag
from civicloop.bulletins.selectors import (
    ItemFilters,
    item_pending_deputies,
    items_for,
    required_report,
    study_record,
    study_years,
    unread_required_count,
)
from civicloop.bulletins.services import (
    HEARTBEAT_SECONDS,
    ItemDraft,
    ReadEvent,
    item_publish,
    item_withdraw,
    reading_record,
)
from civicloop.core.accounts.models import User
from civicloop.core.errors import refusal_show

PAGE_SIZE = 20
# The most used tags, as chips over the list (all tags are reachable from the items).
TAGS_SHOWN = 12


def _year(value: str | None) -> int:
    try:
        year = int(value or "")
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


@login_required
@require_GET
def item_list_view(request: HttpRequest) -> HttpResponse:
    check_reader(request.user)
    section = request.GET.get("section", "")
    section = section if section in SECTION_CATEGORIES else ""
    category = request.GET.get("category", "")
    category = category if category in Category.values else ""
    filters = ItemFilters(
        section=section,
        category=category,
        tag=request.GET.get("tag", "")[:20],
        q=request.GET.get("q", "")[:50],
        required=request.GET.get("required") == "1",
        unread=request.GET.get("unread") == "1",
    )
    items = items_for(user=request.user, filters=filters)  # type: ignore[arg-type]
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    categories = [
        (c, Category(c).label)
        for c in (SECTION_CATEGORIES[section] if section else Category.values)
    ]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "bulletins/list.html",
        {
            "page": page,
            "filters": filters,
            "sections": Section.choices,
            "categories": categories,
            "tags": Tag.objects.filter(items__is_withdrawn=False)
            .annotate(uses=Count("items"))
            .order_by("-uses", "name")[:TAGS_SHOWN],
            "query_string": params.urlencode(),
            "unread_required": unread_required_count(user=request.user),  # type: ignore[arg-type]
            "can_publish": is_editor(request.user),
        },
    )


@login_required
@require_GET
def item_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = access_item_by_id(request.user, pk)
    record = reading_record(item=item, user=request.user, event=ReadEvent.OPEN)  # type: ignore[arg-type]
    files = list(item.files.all())
    return render(
        request,
        "bulletins/detail.html",
        {
            "item": item,
            "record": record,
            "read_minutes": (record.seconds + 59) // 60,
            "images": [f for f in files if f.attachment.kind == "photo"],
            "documents": [f for f in files if f.attachment.kind == "document"],
            "videos": list(item.videos.all()),
            "heartbeat_seconds": HEARTBEAT_SECONDS,
            "can_publish": is_editor(request.user),
        },
    )


@login_required
@require_POST
def item_finish_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "我已读完 / 完成学习" without JavaScript (the page's script uses the API)."""
    item = access_item_by_id(request.user, pk)
    try:
        seconds = int(request.POST.get("seconds", "0") or 0)
    except ValueError:
        seconds = 0
    reading_record(item=item, user=request.user, event=ReadEvent.FINISH, seconds=seconds)  # type: ignore[arg-type]
    messages.success(request, _("已记录完成。"))
    return redirect("bulletins:detail", pk=item.pk)


@login_required
@require_POST
def item_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = access_item_by_id(request.user, pk)
    item_withdraw(item=item, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("已撤回。"))
    return redirect("bulletins:list")


@login_required
@require_http_methods(["GET", "POST"])
def item_publish_view(request: HttpRequest) -> HttpResponse:
    check_editor(request.user)
    if request.method == "GET":
        form = ItemPublishForm(initial={"section": request.GET.get("section", Section.EZHI)})
        return render(request, "bulletins/publish.html", {"form": form})
    form = ItemPublishForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "bulletins/publish.html", {"form": form}, status=400)
    data = form.cleaned_data
    draft = ItemDraft(
        section=data["section"],
        category=data["category"],
        title=data["title"],
        body=data["body"],
        summary=data.get("summary") or "",
        tags=data.get("tags") or "",
        required=bool(data.get("required")),
        due_date=data.get("due_date"),
        images=data.get("images") or [],
        documents=data.get("documents") or [],
        videos=data.get("videos") or [],
    )
    try:
        item = item_publish(draft=draft, actor=request.user)  # type: ignore[arg-type]
    except BulletinError as refused:
        refusal_show(request, refused, form=form)
        return render(request, "bulletins/publish.html", {"form": form}, status=refused.status)
    messages.success(request, _("已发布，并已通知各位代表。"))
    return redirect("bulletins:detail", pk=item.pk)


@login_required
@require_GET
def study_record_view(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    """A reader's own yearly record; the 代表工委 may open any deputy's."""
    check_reader(request.user)
    if user_id is not None and user_id != request.user.pk:
        check_editor(request.user)
        person = get_object_or_404(User, pk=user_id)
    else:
        person = request.user  # type: ignore[assignment]
    year = _year(request.GET.get("year"))
    record = study_record(user=person, year=year)
    return render(
        request,
        "bulletins/study.html",
        {
            "record": record,
            "person": person,
            "own": person.pk == request.user.pk,
            "years": study_years(user=person),
            "is_deputy": is_deputy(person),
        },
    )


@login_required
@require_GET
def report_view(request: HttpRequest) -> HttpResponse:
    check_editor(request.user)
    year = _year(request.GET.get("year"))
    return render(
        request,
        "bulletins/report.html",
        {"rows": required_report(year=year), "year": year, "years": range(year - 2, year + 1)},
    )


@login_required
@require_GET
def report_item_view(request: HttpRequest, pk: int) -> HttpResponse:
    check_editor(request.user)
    item = get_object_or_404(Item, pk=pk, required=True)
    pending = item_pending_deputies(item=item)
    return render(
        request,
        "bulletins/report_item.html",
        {
            "item": item,
            "pending": pending,
            "not_started": sum(1 for p in pending if p.started_at is None),
        },
    )


def _media_headers(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    # Files are the deputies' reading matter, not public: never in a shared cache.
    response["Vary"] = "Cookie"
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def video_view(request: HttpRequest, pk: UUID) -> HttpResponseBase:
    """The video, with range requests (206 / 416), for readers only."""
    video = access_video_by_id(request.user, pk)
    response = ranges.file_response(
        request,
        field=video.file,
        size=video.size,
        content_type=video.content_type,
        etag=video.sha256[:32],
        filename=f"{video.pk}{'.webm' if video.content_type.endswith('webm') else '.mp4'}",
    )
    return _media_headers(request, response)


@login_required
@require_http_methods(["GET", "HEAD"])
def file_view(request: HttpRequest, pk: UUID) -> HttpResponseBase:
    """An item's image or PDF (with range requests: PDF viewers fetch pieces too).
    `?thumb=1` gives an image's thumbnail."""
    item_file = access_file_by_attachment_id(request.user, pk)
    attachment = item_file.attachment
    if request.GET.get("thumb") and attachment.thumbnail:
        field: Any = attachment.thumbnail
        size = attachment.thumbnail.size
        content_type = "image/jpeg"
        etag = attachment.sha256[:24] + "t"
    else:
        field, size, content_type = attachment.file, attachment.size, attachment.content_type
        etag = attachment.sha256[:32]
    extension = (field.name or "").rsplit(".", 1)[-1]
    response = ranges.file_response(
        request,
        field=field,
        size=size,
        content_type=content_type,
        etag=etag,
        filename=f"{attachment.pk}.{extension}",
    )
    return _media_headers(request, response)
