"""Reads of e线知政 / 学习园地: the lists a reader sees (with their own reading state),
a deputy's yearly study record, the 代表工委's report of who has not read a required
item, and the cockpit's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.bulletins import search
from civicloop.bulletins.models import Item, ReadRecord, Section
from civicloop.core.accounts.models import User
from civicloop.core.registry import TileValue
from civicloop.core.units.models import Membership

DEPUTY_ROLE = "deputy"


def deputy_users() -> QuerySet[User]:
    """Every active account holding the deputy role in a unit."""
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(role=DEPUTY_ROLE, unit__is_active=True).values("user_id"),
    )


@dataclass(frozen=True)
class ItemFilters:
    section: str = ""
    category: str = ""
    tag: str = ""
    q: str = ""
    required: bool = False
    unread: bool = False


def items_for(*, user: User, filters: ItemFilters) -> QuerySet[Item]:
    """Published items the reader sees, newest first (best first with a search), each
    annotated with the reader's `read_started` and `read_finished`."""
    items = Item.objects.filter(is_withdrawn=False)
    if filters.section:
        items = items.filter(section=filters.section)
    if filters.category:
        items = items.filter(category=filters.category)
    if filters.tag:
        items = items.filter(tags__name=filters.tag)
    if filters.required:
        items = items.filter(required=True)
    mine = ReadRecord.objects.filter(item=OuterRef("pk"), user=user)
    items = items.annotate(
        read_started=Exists(mine),
        read_finished=Exists(mine.filter(finished_at__isnull=False)),
    )
    if filters.unread:
        items = items.filter(read_finished=False)
    items = items.prefetch_related("tags")
    if filters.q.strip():
        return search.items_search(items, query=filters.q)
    return items.order_by("-published_at", "-id")


def unread_required_count(*, user: User) -> int:
    """Required items the reader has not finished."""
    return (
        Item.objects.filter(is_withdrawn=False, required=True)
        .exclude(reads__user=user, reads__finished_at__isnull=False)
        .count()
    )


@dataclass(frozen=True)
class StudyRow:
    record: ReadRecord
    item: Item

    @property
    def minutes(self) -> int:
        return (self.record.seconds + 59) // 60


@dataclass(frozen=True)
class StudyRecord:
    user: User
    year: int
    rows: list[StudyRow]
    required_total: int
    required_finished: int
    learning_seconds: int
    ezhi_read: int
    learning_finished: int

    @property
    def learning_minutes(self) -> int:
        return (self.learning_seconds + 59) // 60


def study_record(*, user: User, year: int) -> StudyRecord:
    """A reader's readings begun in `year` (local time) with their totals, and how many
    of the year's required items they have finished."""
    records = list(
        ReadRecord.objects.filter(user=user, started_at__year=year)
        .select_related("item")
        .order_by("-started_at")
    )
    rows = [StudyRow(record=r, item=r.item) for r in records]
    required = Item.objects.filter(is_withdrawn=False, required=True, published_at__year=year)
    required_finished = required.filter(reads__user=user, reads__finished_at__isnull=False).count()
    learning = [r for r in records if r.item.section == Section.LEARNING]
    return StudyRecord(
        user=user,
        year=year,
        rows=rows,
        required_total=required.count(),
        required_finished=required_finished,
        learning_seconds=sum(r.seconds for r in learning),
        ezhi_read=sum(1 for r in records if r.item.section == Section.EZHI),
        learning_finished=sum(1 for r in learning if r.finished_at is not None),
    )


def study_years(*, user: User) -> list[int]:
    now_year = timezone.localdate().year
    years = {d.year for d in ReadRecord.objects.filter(user=user).dates("started_at", "year")}
    return sorted(years | {now_year}, reverse=True)


def required_report(*, year: int) -> list[dict[str, Any]]:
    """Each required item published in `year`: how many deputies there are, how many
    finished it, how many only opened it."""
    deputies = deputy_users()
    total = deputies.count()
    deputy_ids = deputies.values("pk")
    items = (
        Item.objects.filter(is_withdrawn=False, required=True, published_at__year=year)
        .annotate(
            finished=Count(
                "reads",
                filter=Q(reads__finished_at__isnull=False, reads__user__in=deputy_ids),
            ),
            started=Count("reads", filter=Q(reads__user__in=deputy_ids)),
        )
        .order_by("-published_at")
    )
    return [
        {
            "item": item,
            "deputies": total,
            "finished": item.finished,
            "started_only": item.started - item.finished,
            "not_started": total - item.started,
            "rate": (item.finished / total) if total else None,
        }
        for item in items
    ]


@dataclass(frozen=True)
class PendingReader:
    user: User
    units: str
    started_at: datetime | None
    seconds: int


def item_pending_deputies(*, item: Item) -> list[PendingReader]:
    """The deputies who have not finished `item` (those who opened it first), with their
    station(s), for the 代表工委's follow-up."""
    mine = ReadRecord.objects.filter(item=item, user=OuterRef("pk"))
    deputies = (
        deputy_users()
        .exclude(
            pk__in=ReadRecord.objects.filter(item=item, finished_at__isnull=False).values("user_id")
        )
        .annotate(
            read_started_at=Subquery(mine.values("started_at")[:1]),
            read_seconds=Subquery(mine.values("seconds")[:1]),
        )
        .prefetch_related("memberships__unit")
        .order_by("username")
    )
    out = []
    for user in deputies:
        units = sorted({m.unit.name for m in user.memberships.all() if m.role == DEPUTY_ROLE})
        out.append(
            PendingReader(
                user=user,
                units="、".join(units),
                started_at=user.read_started_at,  # type: ignore[attr-defined]
                seconds=user.read_seconds or 0,  # type: ignore[attr-defined]
            )
        )
    out.sort(key=lambda p: (p.started_at is None, p.user.username))
    return out


def cockpit_figures(*, user: Any, now: datetime) -> list[TileValue] | None:
    """The cockpit's e线知政 tile: items this year, required items, and the share of
    required readings the deputies have finished. For the 代表工委, leaders and admins."""
    from civicloop.bulletins.access import is_editor
    from civicloop.core.units.selectors import user_standing

    if not (is_editor(user) or user_standing(user).area_paths):
        return None
    year = timezone.localtime(now).year
    this_year = Item.objects.filter(is_withdrawn=False, published_at__year=year)
    counts = this_year.aggregate(total=Count("pk"), required=Count("pk", filter=Q(required=True)))
    deputies = deputy_users().count()
    finished = ReadRecord.objects.filter(
        item__in=this_year.filter(required=True),
        finished_at__isnull=False,
        user__in=deputy_users().values("pk"),
    ).count()
    expected = (counts["required"] or 0) * deputies
    rate = f"{finished / expected:.0%}" if expected else "—"
    seconds = (
        ReadRecord.objects.filter(started_at__year=year, item__section=Section.LEARNING).aggregate(
            s=Sum("seconds")
        )["s"]
        or 0
    )
    return [
        TileValue(_("今年发布"), counts["total"] or 0, "/bulletins/"),
        TileValue(_("必读必学"), counts["required"] or 0, "/bulletins/?required=1"),
        TileValue(
            _("必读完成率"),
            rate,
            "/bulletins/report/",
            alert=bool(expected) and finished < expected / 2,
        ),
        TileValue(_("学习时长（小时）"), round(seconds / 3600, 1)),
    ]
