"""Reads of cases: the workbench lists and counts, the case list with filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.figures import Figures, Scope, figures_by_channel, figures_received
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.registry import TileValue
from civicloop.core.units.selectors import user_standing

COUNT_CAP = 1_000
_LIST_DEFERRED = ("body", "contact_name", "contact_phone", "data", "result", "rating_comment")


def _open_states() -> set[str]:
    states: set[str] = set()
    for template in registry.workflows():
        states |= set(template.open_states())
    return states


def to_accept_filter() -> Q:
    """Cases waiting for their holder to take them in hand: in a state its template marks
    `to_accept`. A state code that means "to accept" in every template defining it is
    matched by state alone (the (holder_unit, state, due_at) index); one that means it
    only in some templates is matched together with those templates' codes."""
    wanted: dict[str, set[str]] = {}
    elsewhere: set[str] = set()
    for template in registry.workflows():
        for state in template.states:
            if state.to_accept:
                wanted.setdefault(state.code, set()).add(template.code)
            else:
                elsewhere.add(state.code)
    plain = sorted(code for code in wanted if code not in elsewhere)
    cond = Q(state__in=plain)
    for code in sorted(set(wanted) & elsewhere):
        cond |= Q(state=code, workflow__in=sorted(wanted[code]))
    return cond


def cases_held_by(*, user: Any) -> QuerySet[Case]:
    """Open cases whose current holder is one of the user's units (what they must act on).

    Only an open case has a holder (the engine clears it on closing), so the holder
    alone selects open cases, along the (holder_unit, due_at) index."""
    standing = user_standing(user)
    if standing.is_admin and not standing.unit_ids:
        return Case.objects.filter(closed_at__isnull=True)
    return Case.objects.filter(holder_unit_id__in=standing.unit_ids)


@dataclass(frozen=True)
class Workbench:
    to_accept: list[Case]
    due_soon: list[Case]
    overdue: list[Case]
    recently_closed: list[Case]
    counts: dict[str, int]


def workbench_for(
    *, user: Any, now: datetime | None = None, within: timedelta = timedelta(days=2), size: int = 10
) -> Workbench:
    """The staff workbench: to accept, due soon, overdue, recently closed, with counts.

    Eight indexed queries whatever the number of cases: (holder_unit, state, due_at) for
    what to accept, (holder_unit, due_at) for due soon and overdue, (owner_unit,
    closed_at) and (assignee_unit, closed_at) for recently closed."""
    now = now or timezone.now()
    held = cases_held_by(user=user).select_related("holder_unit", "area")
    to_accept = held.filter(to_accept_filter())
    due_soon = held.filter(due_at__gt=now, due_at__lte=now + within)
    overdue = held.filter(due_at__lte=now)
    closed = recently_closed_for(user=user, since=now - timedelta(days=30)).select_related(
        "owner_unit", "area"
    )

    def rows(qs: QuerySet[Case], order: str) -> list[Case]:
        # The lists show number, title, state, holder and due time: leave the long and
        # encrypted columns in the database.
        return list(qs.defer(*_LIST_DEFERRED).order_by(order)[:size])

    def count(qs: QuerySet[Case]) -> int:
        # Counted up to COUNT_CAP: past that the page says "999+", and the database
        # stops early instead of counting a whole city's backlog on every load.
        return qs.order_by()[:COUNT_CAP].count()

    return Workbench(
        to_accept=rows(to_accept, "due_at"),
        due_soon=rows(due_soon, "due_at"),
        overdue=rows(overdue, "due_at"),
        recently_closed=rows(closed, "-closed_at"),
        counts={
            "to_accept": count(to_accept),
            "due_soon": count(due_soon),
            "overdue": count(overdue),
            "recently_closed": count(closed),
        },
    )


def recently_closed_for(*, user: Any, since: datetime) -> QuerySet[Case]:
    """Cases closed since `since` that the user's units received or worked on, or, for
    someone overseeing areas, closed in those areas.

    Narrower than cases_visible_to on purpose: the workbench asks this of a million
    cases on every load, so it uses two indexed columns (owner and assignee unit, each
    with state and closing time) instead of an OR over every visibility rule."""
    standing = user_standing(user)
    # closed_at is set exactly when a case reaches a terminal state.
    closed = Case.objects.filter(closed_at__gte=since)
    if standing.is_admin and not standing.unit_ids:
        return closed
    cond = Q(pk__in=[])
    if standing.unit_ids:
        cond |= Q(owner_unit_id__in=standing.unit_ids) | Q(assignee_unit_id__in=standing.unit_ids)
    for path in standing.area_paths:
        cond |= Q(area_path=path) | Q(area_path__startswith=path + "/")
    return closed.filter(cond)


@dataclass(frozen=True)
class CaseFilters:
    """What the case list is narrowed to. Beyond the form's own fields, the cockpit's
    drill-down links name the cases behind a figure: received between two local dates,
    closed or still open, due within a day, owned by or assigned to a unit (by code), and
    addressed to a person (the channel's `person_key` in `Case.data`)."""

    q: str = ""
    channel: str = ""
    state: str = ""
    category: str = ""
    area_path: str = ""
    overdue: bool = False
    mine: bool = False
    created_from: date | None = None
    created_to: date | None = None
    due_soon: bool = False
    owner_unit: str = ""
    assignee_unit: str = ""
    person: str = ""


def case_list(*, user: Any, filters: CaseFilters, now: datetime | None = None) -> QuerySet[Case]:
    now = now or timezone.now()
    qs = cases_visible_to(user).select_related("holder_unit", "owner_unit", "area")
    if filters.q:
        qs = qs.filter(Q(number__iexact=filters.q.strip()) | Q(title__icontains=filters.q.strip()))
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.state == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif filters.state == "closed":
        qs = qs.filter(closed_at__isnull=False)
    elif filters.state:
        qs = qs.filter(state=filters.state)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.area_path:
        qs = qs.filter(
            Q(area_path=filters.area_path) | Q(area_path__startswith=filters.area_path + "/")
        )
    if filters.overdue:
        qs = qs.filter(due_at__lte=now, state__in=_open_states())
    if filters.due_soon:
        qs = qs.filter(due_at__gt=now, due_at__lte=now + timedelta(days=1), closed_at__isnull=True)
    if filters.created_from:
        qs = qs.filter(created_at__gte=local_day_start(filters.created_from))
    if filters.created_to:
        qs = qs.filter(created_at__lt=local_day_start(filters.created_to + timedelta(days=1)))
    if filters.owner_unit:
        qs = qs.filter(owner_unit__code=filters.owner_unit)
    if filters.assignee_unit:
        qs = qs.filter(assignee_unit__code=filters.assignee_unit)
    if filters.person and filters.channel:
        key = registry.channel(filters.channel).person_key
        qs = qs.filter(**{f"data__{key}": filters.person}) if key else qs.none()
    if filters.mine:
        qs = qs.filter(holder_unit_id__in=user_standing(user).unit_ids)
    return qs.order_by("-created_at")


def local_day_start(day: date) -> datetime:
    """Midnight at the start of a local (Asia/Shanghai) calendar day, as an aware time."""
    return timezone.make_aware(datetime.combine(day, time.min))


def case_timeline(*, case: Case) -> QuerySet[TimelineEntry]:
    return (
        TimelineEntry.objects.filter(case=case)
        .select_related("actor", "unit")
        .prefetch_related("attachments")
        .order_by("seq")
    )


def channel_figures(*, user: Any, channel: str, now: datetime) -> list[TileValue]:
    """The figures every channel's cockpit tile shows, over the cases the user may see:
    received today, open, due within a day, overdue (红灯). For a reader who sees whole
    areas (a leader, an administrator) they come from the case rollups; for unit staff,
    from one query over their units' cases."""
    standing = user_standing(user)
    if standing.is_admin or standing.area_paths:
        counts = _channel_counts_from_rollups(
            paths=("",) if standing.is_admin else standing.area_paths, channel=channel, now=now
        )
    else:
        counts = _channel_counts(user=user, channel=channel, now=now)
    href = f"/cases/?channel={channel}"
    return [
        TileValue(_("今日受理"), counts["today"], href),
        TileValue(_("办理中"), counts["open"], href + "&state=open"),
        TileValue(_("一天内到期"), counts["due_soon"], href + "&due_soon=on"),
        TileValue(
            _("已超期"), counts["overdue"], href + "&overdue=on", alert=counts["overdue"] > 0
        ),
    ]


def channels_open(
    *, user: Any, channels: Sequence[str], now: datetime
) -> dict[str, tuple[int, int]]:
    """(open, overdue) per channel over the cases the user may see: from the case
    rollups for a reader of whole areas (as `channel_figures`), else one query."""
    standing = user_standing(user)
    if standing.is_admin or standing.area_paths:
        counts = _rollup_counts(("",) if standing.is_admin else standing.area_paths, now)
        return {c: (counts[c]["open"], counts[c]["overdue"]) for c in channels if c in counts}
    rows = (
        cases_visible_to(user, Case.objects.filter(channel__in=channels))
        .filter(closed_at__isnull=True)
        .values("channel")
        .annotate(n_open=Count("pk"), n_overdue=Count("pk", filter=Q(due_at__lte=now)))
    )
    return {r["channel"]: (r["n_open"], r["n_overdue"]) for r in rows}


def _channel_counts(*, user: Any, channel: str, now: datetime) -> dict[str, int]:
    template = registry.workflow(registry.channel(channel).workflow)
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    open_q = Q(state__in=template.open_states())
    return cases_visible_to(user, Case.objects.filter(channel=channel)).aggregate(
        today=Count("pk", filter=Q(created_at__gte=today)),
        open=Count("pk", filter=open_q),
        due_soon=Count(
            "pk", filter=open_q & Q(due_at__gt=now, due_at__lte=now + timedelta(days=1))
        ),
        overdue=Count("pk", filter=open_q & Q(due_at__lte=now)),
    )


def _channel_counts_from_rollups(
    *, paths: tuple[str, ...], channel: str, now: datetime
) -> dict[str, int]:
    return _rollup_counts(paths, now).get(
        channel, {"today": 0, "open": 0, "due_soon": 0, "overdue": 0}
    )


@lru_cache(maxsize=16)
def _rollup_counts(paths: tuple[str, ...], now: datetime) -> dict[str, dict[str, int]]:
    """Every channel's tile counts at once: the cockpit asks each module's tile with the
    same reader and `now`, and this answers them all from one set of queries."""
    today = timezone.localdate(now)
    counts: dict[str, dict[str, int]] = {}
    for path in paths:
        ever = figures_by_channel(scope=Scope(path, date(2000, 1, 1), today), now=now)
        day = {
            channel: fig
            for (channel, _key), fig in figures_received(scope=Scope(path, today, today)).items()
        }
        for channel in set(ever) | set(day):
            fig, new = ever.get(channel, Figures()), day.get(channel, Figures())
            c = counts.setdefault(channel, {"today": 0, "open": 0, "due_soon": 0, "overdue": 0})
            c["today"] += new.received
            c["open"] += fig.open
            c["due_soon"] += fig.due_soon
            c["overdue"] += fig.overdue
    return counts
