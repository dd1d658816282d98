"""The JSON API of e线知政 / 学习园地, mounted at /api/v1/bulletins (in the OpenAPI
schema): the list and search, an item, the reading heartbeat / finish, a reader's study
record, and the 代表工委's list of who has not read a required item.

A signed-in deputy or staff member (session; CSRF on writes). Refusals are the module's
BulletinError, answered once by the API's DomainError handler."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema

from civicloop.bulletins.access import access_item_by_id, check_editor, check_reader
from civicloop.bulletins.models import Item, ReadRecord
from civicloop.bulletins.selectors import (
    ItemFilters,
    item_pending_deputies,
    items_for,
    study_record,
)
from civicloop.bulletins.services import ReadEvent, reading_record
from civicloop.core.accounts.api_auth import StaffSessionAuth
from civicloop.core.accounts.models import User
from civicloop.core.api_schemas import ErrorOut

router = Router(tags=["bulletins"], auth=[StaffSessionAuth()])
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
LIST_MAX = 100


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


class ItemOut(Schema):
    id: int
    section: str
    section_name: str
    category: str
    category_name: str
    title: str
    summary: str
    tags: list[str]
    required: bool
    due_date: date | None
    published_at: datetime
    url: str
    read_started: bool | None = None
    read_finished: bool | None = None


class FileOut(Schema):
    kind: str
    name: str
    content_type: str
    size: int
    url: str


class ItemDetailOut(ItemOut):
    body: str
    files: list[FileOut]


class ReadingIn(Schema):
    event: str = ReadEvent.HEARTBEAT
    seconds: int = 0


class ReadingOut(Schema):
    item: int
    started_at: datetime
    finished_at: datetime | None
    seconds: int


class StudyRowOut(Schema):
    item: int
    title: str
    section: str
    started_at: datetime
    finished_at: datetime | None
    seconds: int


class StudyOut(Schema):
    year: int
    required_total: int
    required_finished: int
    learning_minutes: int
    rows: list[StudyRowOut]


class PendingOut(Schema):
    user_id: int
    name: str
    units: str
    started_at: datetime | None
    seconds: int


def _item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "section": item.section,
        "section_name": str(item.get_section_display()),
        "category": item.category,
        "category_name": str(item.get_category_display()),
        "title": item.title,
        "summary": item.summary,
        "tags": [t.name for t in item.tags.all()],
        "required": item.required,
        "due_date": item.due_date,
        "published_at": item.published_at,
        "url": reverse("bulletins:detail", kwargs={"pk": item.pk}),
        "read_started": getattr(item, "read_started", None),
        "read_finished": getattr(item, "read_finished", None),
    }


def _reading_json(record: ReadRecord) -> dict[str, Any]:
    return {
        "item": record.item_id,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "seconds": record.seconds,
    }


@router.get("/items", response={200: list[ItemOut], **ERRORS})
def items_list(
    request: HttpRequest,
    section: str = Query(""),
    category: str = Query(""),
    tag: str = Query(""),
    q: str = Query("", description="words to search for (Chinese or Latin)"),
    required: bool = Query(False),
    unread: bool = Query(False),
) -> list[dict[str, Any]]:
    """Published items the reader sees (newest first, or best first with `q`), with the
    reader's own reading state; at most 100."""
    check_reader(_user(request))
    filters = ItemFilters(
        section=section, category=category, tag=tag[:20], q=q[:50], required=required, unread=unread
    )
    items = items_for(user=_user(request), filters=filters)[:LIST_MAX]
    return [_item_json(item) for item in items]


@router.get("/items/{item_id}", response={200: ItemDetailOut, **ERRORS})
def item_detail(request: HttpRequest, item_id: int) -> dict[str, Any]:
    item = access_item_by_id(_user(request), item_id)
    files = [
        {
            "kind": f.attachment.kind,
            "name": f.attachment.original_name,
            "content_type": f.attachment.content_type,
            "size": f.attachment.size,
            "url": reverse("bulletins:file", kwargs={"pk": f.attachment_id}),
        }
        for f in item.files.all()
    ] + [
        {
            "kind": "video",
            "name": v.original_name,
            "content_type": v.content_type,
            "size": v.size,
            "url": reverse("bulletins:video", kwargs={"pk": v.pk}),
        }
        for v in item.videos.all()
    ]
    return {**_item_json(item), "body": item.body, "files": files}


@router.post("/items/{item_id}/reading", response={200: ReadingOut, **ERRORS})
def item_reading(request: HttpRequest, item_id: int, payload: ReadingIn) -> dict[str, Any]:
    """The reading page's heartbeat (`heartbeat`, seconds on the page since the last
    one), `open`, or `finish`; returns the reader's record."""
    item = access_item_by_id(_user(request), item_id)
    record = reading_record(
        item=item, user=_user(request), event=payload.event, seconds=payload.seconds
    )
    return _reading_json(record)


@router.get("/study", response={200: StudyOut, **ERRORS})
def study(request: HttpRequest, year: int | None = None) -> dict[str, Any]:
    """The reader's own study record for `year` (default: this year)."""
    check_reader(_user(request))
    record = study_record(user=_user(request), year=year or timezone.localdate().year)
    return {
        "year": record.year,
        "required_total": record.required_total,
        "required_finished": record.required_finished,
        "learning_minutes": record.learning_minutes,
        "rows": [
            {
                "item": row.item.pk,
                "title": row.item.title,
                "section": row.item.section,
                "started_at": row.record.started_at,
                "finished_at": row.record.finished_at,
                "seconds": row.record.seconds,
            }
            for row in record.rows
        ],
    }


@router.get("/items/{item_id}/pending", response={200: list[PendingOut], **ERRORS})
def item_pending(request: HttpRequest, item_id: int) -> list[dict[str, Any]]:
    """The deputies who have not finished a required item (代表工委 only)."""
    check_editor(_user(request))
    item = access_item_by_id(_user(request), item_id)
    return [
        {
            "user_id": p.user.pk,
            "name": p.user.full_name or p.user.username,
            "units": p.units,
            "started_at": p.started_at,
            "seconds": p.seconds,
        }
        for p in item_pending_deputies(item=item)
    ]
