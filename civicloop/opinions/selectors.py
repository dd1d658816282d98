"""Reads of the public directory: deputies, stations, duty days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from civicloop.core.areas.models import Area
from civicloop.core.cases.selectors import channel_figures
from civicloop.core.registry import TileValue
from civicloop.opinions.hooks import OPINION
from civicloop.opinions.models import Code, Deputy, DeputyLevel, DutyDay, Station

DUTY_DAYS_AHEAD = 28


def _active_codes() -> Prefetch:
    return Prefetch(
        "codes",
        queryset=Code.objects.filter(revoked_at__isnull=True).order_by("-issued_at"),
        to_attr="active_codes",
    )


def _town_filter(town: str) -> Q:
    """`town` may be an area code (331081100) or a name (泽国镇 / 泽国)."""
    town = town.strip()
    if not town:
        return Q()
    if town.isdigit():
        return Q(town__code=town)
    return Q(town__name__startswith=town)


def deputies_search(*, q: str = "", town: str = "", level: str = "") -> QuerySet[Deputy]:
    """Serving deputies matching a free-text query (name, constituency, station, profile),
    a town (code or name) and a level, with what a list or the API shows preloaded."""
    qs = Deputy.objects.filter(is_active=True, station__is_active=True)
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(constituency__icontains=q)
            | Q(station__name__icontains=q)
            | Q(town__name__icontains=q)
            | Q(profile__icontains=q)
        )
    qs = qs.filter(_town_filter(town))
    if level in DeputyLevel.values:
        qs = qs.filter(level=level)
    return (
        qs.select_related("town", "station", "photo")
        .prefetch_related(_active_codes())
        .order_by("town__code", "station__name", "name", "pk")
    )


def stations_search(*, q: str = "", town: str = "") -> QuerySet[Station]:
    """Open stations matching a query (name, address, speciality) and a town."""
    qs = Station.objects.filter(is_active=True)
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(address__icontains=q)
            | Q(speciality__icontains=q)
            | Q(town__name__icontains=q)
        )
    qs = qs.filter(_town_filter(town))
    return qs.select_related("town").prefetch_related(_active_codes()).order_by("town__code", "pk")


def station_towns() -> QuerySet[Area]:
    """Towns and streets that have an open station (for filters)."""
    return Area.objects.filter(
        pk__in=Station.objects.filter(is_active=True).values("town_id")
    ).order_by("code")


def deputy_get_public(*, pk: int) -> Deputy:
    """A serving deputy of an open station. Raises Deputy.DoesNotExist."""
    return (
        Deputy.objects.select_related("town", "station__town", "photo")
        .prefetch_related(_active_codes())
        .get(pk=pk, is_active=True, station__is_active=True)
    )


def station_get_public(*, pk: int) -> Station:
    """An open station. Raises Station.DoesNotExist."""
    return (
        Station.objects.select_related("town", "unit")
        .prefetch_related(_active_codes())
        .get(pk=pk, is_active=True)
    )


def station_deputies(*, station: Station) -> QuerySet[Deputy]:
    return (
        Deputy.objects.filter(station=station, is_active=True)
        .select_related("photo")
        .order_by("name", "pk")
    )


def duty_days_upcoming(
    *,
    station: Station | None = None,
    deputy: Deputy | None = None,
    today: date | None = None,
    days: int = DUTY_DAYS_AHEAD,
) -> QuerySet[DutyDay]:
    """Reception days from today on (within `days`), soonest first."""
    today = today or timezone.localdate()
    qs = DutyDay.objects.filter(
        date__gte=today, date__lt=today + timedelta(days=days), deputy__is_active=True
    )
    if station is not None:
        qs = qs.filter(station=station)
    if deputy is not None:
        qs = qs.filter(deputy=deputy)
    return qs.select_related("deputy", "station").order_by("date", "deputy__name")


@dataclass(frozen=True)
class DutyDate:
    date: date
    is_today: bool
    duties: list[DutyDay]


def station_duty_by_date(
    *, station: Station, today: date | None = None, days: int = 14
) -> list[DutyDate]:
    """A station's reception days of the next `days` days grouped by date (进站接待日)."""
    today = today or timezone.localdate()
    grouped: dict[date, list[DutyDay]] = defaultdict(list)
    for duty in duty_days_upcoming(station=station, today=today, days=days):
        grouped[duty.date].append(duty)
    return [DutyDate(date=d, is_today=d == today, duties=grouped[d]) for d in sorted(grouped)]


def holder_active_code(holder: Deputy | Station) -> Code | None:
    """The active code preloaded by the selectors above (or read when not preloaded)."""
    codes = getattr(holder, "active_codes", None)
    if codes is not None:
        return codes[0] if codes else None
    return holder.codes.filter(revoked_at__isnull=True).order_by("-issued_at").first()


def cockpit_figures(*, user: Any, now: datetime) -> list[TileValue]:
    """The 民意 tile of the cockpit: the channel's figures over the opinions the user
    may see (a town's leader sees the town's, the city's leader the whole city's)."""
    return channel_figures(user=user, channel=OPINION.code, now=now)
