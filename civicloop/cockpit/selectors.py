"""Reads of the cockpit: who may see which area, and everything one cockpit page shows.

Every figure comes from core's case rollups (`civicloop.core.cases.figures`), refreshed
first, so a page view adds up rollup rows and never scans the cases. Channels are read
from the registry: whatever a module registers appears here without a line of code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q

from civicloop.cockpit.errors import CockpitError, CockpitErrorCode
from civicloop.core import registry
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area, AreaLevel
from civicloop.core.cases.figures import (
    Figures,
    Scope,
    figures_by_channel,
    figures_daily,
    figures_grouped_many,
    figures_received,
)
from civicloop.core.cases.rollups import rollup_refresh
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import user_standing

# The longest range the cockpit adds up (the API refuses more).
MAX_RANGE_DAYS = 3 * 366
TOP_ROWS = 15
STATION_KIND = "station"


def cockpit_areas_for(*, user: Any) -> list[Area]:
    """The areas whose cockpit the user may open, widest first: the city for an
    administrator; the areas a leader is granted (人大常委会: the city; a town's 人大主席团:
    its town); the town of a town office the user leads. Empty: no cockpit."""
    standing = user_standing(user)
    if standing.is_admin:
        return _roots()
    paths = set(standing.area_paths)
    led = [
        pk
        for pk, roles in standing.unit_roles.items()
        if Role.UNIT_LEADER in roles and standing.unit_info.get(pk, ("", ""))[1] == "town_office"
    ]
    if led:
        paths |= set(Unit.objects.filter(pk__in=led).values_list("area__path", flat=True))
    return sorted(Area.objects.filter(path__in=paths), key=lambda a: (a.level, a.code))


def access_area_by_code(*, user: Any, code: str | None) -> Area:
    """The area to show: the one named (it must lie within the user's), else the
    user's widest. An API key reads the whole city."""
    areas = cockpit_areas_for(user=user) if user is not None else _roots()
    if not areas:
        raise CockpitError(CockpitErrorCode.FORBIDDEN)
    if not code:
        return areas[0]
    area = Area.objects.filter(code=code.strip()).first()
    if area is None:
        raise CockpitError(CockpitErrorCode.AREA, field="area")
    if not any(area.path == a.path or area.path.startswith(a.path + "/") for a in areas):
        raise CockpitError(CockpitErrorCode.FORBIDDEN, field="area")
    return area


def _roots() -> list[Area]:
    return list(Area.objects.filter(parent__isnull=True).order_by("code"))


def check_range(day_from: date | None, day_to: date | None, *, today: date) -> tuple[date, date]:
    """The received days to count, inclusive: by default this year to today."""
    day_to = day_to or today
    day_from = day_from or day_to.replace(month=1, day=1)
    if day_from > day_to:
        raise CockpitError(CockpitErrorCode.DATES, field="from")
    if (day_to - day_from).days > MAX_RANGE_DAYS:
        raise CockpitError(CockpitErrorCode.RANGE, field="from")
    return day_from, day_to


def parse_day(value: str | None, *, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CockpitError(CockpitErrorCode.DATES, field=field) from None


def channel_names() -> dict[str, str]:
    return {ch.code: str(ch.name) for ch in registry.channels()}


def cockpit_figures(*, area: Area, day_from: date, day_to: date, now: datetime) -> dict[str, Any]:
    """The fixed interface's answer: every figure per channel and in total. Channels
    with no case in the scope are listed with zeros."""
    rollup_refresh(wait=False, now=now)
    scope = Scope(area_path=area.path, day_from=day_from, day_to=day_to)
    return _answer(area, day_from, day_to, now, figures_by_channel(scope=scope, now=now))


def _answer(
    area: Area, day_from: date, day_to: date, now: datetime, per_channel: dict[str, Figures]
) -> dict[str, Any]:
    names = channel_names()
    total = Figures()
    channels: dict[str, Any] = {}
    for code in [*names, *sorted(set(per_channel) - set(names))]:
        fig = per_channel.get(code, Figures())
        total.add(fig)
        channels[code] = {"name": names.get(code, code), **fig.as_dict()}
    return {
        "area": {"code": area.code, "name": area.name, "path": area.path},
        "from": day_from.isoformat(),
        "to": day_to.isoformat(),
        "generated_at": now.isoformat(),
        "channels": channels,
        "total": total.as_dict(),
    }


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    label: str
    figures: Figures
    href: str


def _labels(group: str, keys: set[str]) -> dict[str, str]:
    if group == "town":
        return dict(Area.objects.filter(path__in=keys).values_list("path", "name"))
    if group in ("owner", "assignee"):
        return dict(Unit.objects.filter(code__in=keys).values_list("code", "name"))
    if group == "category":
        labels: dict[str, str] = {}
        for ch in registry.channels():
            for code, label in ch.categories:
                labels.setdefault(code, str(label))
        return labels
    return {k: k for k in keys}


def cockpit_page_figures(
    *,
    area: Area,
    day_from: date,
    day_to: date,
    groups: Sequence[str],
    now: datetime,
    base_query: str,
) -> tuple[dict[str, Any], dict[str, list[BreakdownRow]]]:
    """The page's figures: `cockpit_figures`' answer, and the rows per town, unit,
    station, person or category (each of `groups`), all channels together, most received
    first, each linking to its cases. The clock of all of them is one read."""
    rollup_refresh(wait=False, now=now)
    scope = Scope(area_path=area.path, day_from=day_from, day_to=day_to)
    grouped = figures_grouped_many(scope=scope, groups=["", *groups], now=now)
    per_channel = {channel: fig for (channel, _key), fig in grouped[""].items()}
    rows = {group: _breakdown_rows(area, group, grouped[group], base_query) for group in groups}
    return _answer(area, day_from, day_to, now, per_channel), rows


def _breakdown_rows(
    area: Area, group: str, figures: dict[tuple[str, str], Figures], base_query: str
) -> list[BreakdownRow]:
    totals: dict[str, Figures] = {}
    channel_of: dict[str, str] = {}
    for (channel, key), fig in figures.items():
        if not key:
            continue
        totals.setdefault(key, Figures()).add(fig)
        channel_of.setdefault(key, channel)
    labels = _labels(group, set(totals))
    param = {"town": "area", "owner": "owner_unit", "assignee": "assignee_unit"}.get(group, group)

    def href(key: str) -> str:
        # A person is named in one channel's data: the list needs the channel. A town
        # is a path here; the list takes its code.
        extra = f"&channel={channel_of[key]}" if group == "person" else ""
        if group == "town":
            town = key.rsplit("/", 1)[-1]
            return "/cases/?" + base_query.replace(f"area={area.code}", f"area={town}")
        return f"/cases/?{base_query}&{urlencode({param: key})}{extra}"

    rows = [BreakdownRow(key, labels.get(key, key), fig, href(key)) for key, fig in totals.items()]
    rows.sort(key=lambda r: (-r.figures.received, r.label))
    return rows[:TOP_ROWS]


def trends(*, area: Area, today: date) -> dict[str, Any]:
    """Received and closed per week (the last 12) and per month (the last 12), for each
    channel and in total: one rollup query over the last year."""
    first_month = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    scope = Scope(area_path=area.path, day_from=first_month, day_to=today)
    daily = figures_daily(scope=scope)
    week0 = today - timedelta(days=today.weekday()) - timedelta(weeks=11)
    weeks = [week0 + timedelta(weeks=i) for i in range(12)]
    months: list[date] = []
    m = first_month
    while m <= today:
        months.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    names = channel_names()
    series: dict[str, dict[str, list[int]]] = {
        code: {
            "week": [0] * len(weeks),
            "month": [0] * len(months),
            "week_closed": [0] * len(weeks),
        }
        for code in names
    }
    for (day, code), fig in daily.items():
        s = series.setdefault(
            code,
            {"week": [0] * len(weeks), "month": [0] * len(months), "week_closed": [0] * len(weeks)},
        )
        if day >= week0:
            i = (day - week0).days // 7
            s["week"][i] += fig.received
            s["week_closed"][i] += fig.closed
        mi = (day.year - first_month.year) * 12 + day.month - first_month.month
        if 0 <= mi < len(months):
            s["month"][mi] += fig.received
    return {
        "weeks": [w.isoformat() for w in weeks],
        "months": [f"{m.year}-{m.month:02d}" for m in months],
        "series": [
            {"code": code, "name": names.get(code, code), **s} for code, s in series.items()
        ],
    }


def map_points(*, area: Area, day_from: date, day_to: date) -> dict[str, Any]:
    """Where cases come from, per town (a bubble at the town's centre, never a person's
    address), and the liaison stations, for the map."""
    scope = Scope(area_path=area.path, day_from=day_from, day_to=day_to)
    per_town: dict[str, int] = {}
    for (_channel, town), fig in figures_received(scope=scope, group="town").items():
        if town.count("/") == 1:
            per_town[town] = per_town.get(town, 0) + fig.received
    towns = Area.objects.filter(path__in=per_town, centroid_lat__isnull=False)
    points = [
        {
            "name": t.name,
            "code": t.code,
            "value": [float(t.centroid_lng), float(t.centroid_lat), per_town[t.path]],  # type: ignore[arg-type]
        }
        for t in towns
    ]
    stations = Unit.objects.filter(kind=STATION_KIND, is_active=True).select_related("area")
    if area.level > AreaLevel.CITY:
        stations = stations.filter(
            Q(area__path=area.path) | Q(area__path__startswith=area.path + "/")
        )
    station_points = [
        {"name": u.name, "value": [float(u.area.centroid_lng), float(u.area.centroid_lat)]}  # type: ignore[arg-type]
        for u in stations
        if u.area.centroid_lat is not None and u.area.centroid_lng is not None
    ]
    return {"towns": points, "stations": station_points}


def towns_of(area: Area) -> list[Area]:
    """The towns a city cockpit can switch to."""
    if area.level != AreaLevel.CITY:
        return []
    return list(area.children.order_by("code"))


def stations_count() -> int:
    return Unit.objects.filter(kind=STATION_KIND, is_active=True).aggregate(n=Count("pk"))["n"]
