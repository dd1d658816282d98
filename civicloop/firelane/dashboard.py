"""Reads behind the 生命通道 dashboard: cameras online, the cars on the lanes now, the
last 30 days per day, repeat offenders and response times.

Every figure is a read over the sites a `FirelaneScope` may see, and costs a fixed
number of queries whatever the number of stays: counts are grouped in SQL by day
(Asia/Shanghai); percentiles use PostgreSQL's `percentile_cont`, and on SQLite (the
one-machine deployment) one query reads the durations and they are ranked here.

Plates are personal data: nothing here returns one unmasked (`plate_mask`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.masking import mask_plate
from civicloop.core.cases.selectors import channel_figures
from civicloop.core.registry import TileValue
from civicloop.firelane.access import FirelaneScope, firelane_scope_for
from civicloop.firelane.hooks import FIRELANE
from civicloop.firelane.models import (
    Camera,
    Notice,
    Site,
    Stay,
    duration_minutes,
    stay_duration_s,
)
from civicloop.firelane.plates.normalize import plate_compact
from civicloop.firelane.selectors import stays_awaiting_review

DAYS = 30  # the charts' window, today included
REPEAT_MIN_STAYS = 2  # a plate with this many stays in the window is a repeat offender
REPEAT_TOP = 10
LIVE_ROWS_MAX = 200  # the live table lists the longest stays first; the count is exact
OFFLINE_ROWS_MAX = 20


def plate_mask(plate: str) -> str:
    """A plate as staff see it on the dashboard: province and city letter, the first and
    last character of the rest, stars between (浙J12345 → 浙J·1***5). Enough to tell
    cars apart on one lane, not enough to look the owner up. The same mask as the rest
    of the platform (core's `mask_plate`), after removing separators a camera may send."""
    return mask_plate(plate_compact(plate or ""))


# --------------------------------------------------------------------------- scope


def dashboard_sites(*, scope: FirelaneScope, site_code: str = "") -> QuerySet[Site]:
    """The sites the dashboard counts: the scope's, or the one site picked from them
    (empty when the code is not among them)."""
    sites = scope.sites()
    if site_code:
        sites = sites.filter(code=site_code)
    return sites


def dashboard_site_choices(*, scope: FirelaneScope) -> list[tuple[str, str]]:
    """(code, name) of every site in the scope, for the filter."""
    return list(scope.sites().order_by("code").values_list("code", "name"))


def _site_ids(sites: QuerySet[Site]) -> QuerySet[Site, Any]:
    # A subquery, not a list: the site filter costs no extra round trip.
    return sites.order_by().values("pk")


# --------------------------------------------------------------------------- live


@dataclass(frozen=True)
class OfflineCamera:
    name: str
    site: str
    last_seen_at: datetime | None


@dataclass(frozen=True)
class CameraHealth:
    total: int
    online: int
    disabled: int
    offline_list: list[OfflineCamera] = field(default_factory=list)

    @property
    def offline(self) -> int:
        return self.total - self.online - self.disabled


def _online_q(now: datetime, intervals: Iterable[int]) -> Q:
    """Online: not disabled, and a heartbeat within the camera's own interval. `status`
    is only what the last event said, and a camera that died says nothing.

    One condition per distinct interval (a handful) instead of column arithmetic, which
    SQLite and PostgreSQL spell differently."""
    seen = Q(pk__in=[])
    for seconds in intervals:
        seen |= Q(heartbeat_interval_s=seconds, last_seen_at__gte=now - timedelta(seconds=seconds))
    # A camera clock far ahead of ours is not a heartbeat from the future.
    return (
        seen & ~Q(status=Camera.Status.DISABLED) & Q(last_seen_at__lte=now + timedelta(minutes=5))
    )


def cameras_health(*, sites: QuerySet[Site], now: datetime) -> CameraHealth:
    """Cameras of the sites: how many are online (heartbeat within their interval),
    disabled, and the offline ones, longest silent first. Three queries."""
    cameras = Camera.objects.filter(site__in=_site_ids(sites)).order_by()
    intervals = set(cameras.values_list("heartbeat_interval_s", flat=True).distinct())
    online = _online_q(now, sorted(intervals))
    counts = cameras.aggregate(
        total=Count("pk"),
        online=Count("pk", filter=online),
        disabled=Count("pk", filter=Q(status=Camera.Status.DISABLED)),
    )
    offline = (
        cameras.exclude(online)
        .exclude(status=Camera.Status.DISABLED)
        .order_by(F("last_seen_at").asc(nulls_first=True), "serial")
        .values_list("name", "site__name", "last_seen_at")[:OFFLINE_ROWS_MAX]
    )
    return CameraHealth(
        total=counts["total"],
        online=counts["online"],
        disabled=counts["disabled"],
        offline_list=[OfflineCamera(n, s, seen) for n, s, seen in offline],
    )


@dataclass(frozen=True)
class LiveStay:
    plate: str  # masked
    site: str
    lane: str
    started_at: datetime
    minutes: int
    warned: bool
    awaiting_review: bool


@dataclass(frozen=True)
class LiveStays:
    count: int
    awaiting_review: int
    rows: list[LiveStay]


def stays_on_lanes_now(
    *, sites: QuerySet[Site], now: datetime, limit: int = LIVE_ROWS_MAX
) -> LiveStays:
    """Cars on the lanes now: open, not exempt stays, longest first, plates masked, each
    with its duration as every page shows it (`Stay.duration_s`). Awaiting review: the
    count and the rows' mark are `stays_awaiting_review`, the review queue's own list
    (a car that already left still waits for review). Two queries."""
    site_ids = _site_ids(sites)
    open_stays = Stay.objects.filter(site__in=site_ids, ended_at__isnull=True, exempt_reason="")
    awaiting = stays_awaiting_review(sites=site_ids).order_by()
    counts = Stay.objects.filter(site__in=site_ids).aggregate(
        count=Count("pk", filter=Q(ended_at__isnull=True, exempt_reason="")),
        awaiting=Count("pk", filter=Q(pk__in=awaiting.values("pk"))),
    )
    rows = (
        open_stays.annotate(awaiting=Exists(awaiting.filter(pk=OuterRef("pk"))))
        .order_by("started_at", "pk")
        .values_list(
            "plate",
            "site__name",
            "lane__name",
            "started_at",
            "last_seen_at",
            "warned_at",
            "awaiting",
        )[:limit]
    )
    return LiveStays(
        count=counts["count"],
        awaiting_review=counts["awaiting"],
        rows=[
            LiveStay(
                plate=plate_mask(plate),
                site=site,
                lane=lane,
                started_at=started,
                minutes=duration_minutes(
                    stay_duration_s(started_at=started, last_seen_at=last_seen)
                ),
                warned=warned is not None,
                awaiting_review=bool(awaiting_review),
            )
            for plate, site, lane, started, last_seen, warned, awaiting_review in rows
        ],
    )


@dataclass(frozen=True)
class DayFigures:
    day: date
    stays: int = 0
    warnings: int = 0
    notices: int = 0
    paid: int = 0
    paid_fen: int = 0


def _local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_local_tz())


def figures_today(*, sites: QuerySet[Site], now: datetime) -> DayFigures:
    """Today's (Asia/Shanghai) stays, warnings, notices and payments. Two queries."""
    today = timezone.localtime(now, _local_tz()).date()
    start = _day_start(today)
    stays = Stay.objects.filter(site__in=_site_ids(sites), exempt_reason="")
    s = stays.order_by().aggregate(
        stays=Count("pk", filter=Q(started_at__gte=start)),
        warnings=Count("pk", filter=Q(warned_at__gte=start)),
    )
    notices = Notice.objects.filter(stay__site__in=_site_ids(sites))
    n = notices.order_by().aggregate(
        notices=Count("pk", filter=Q(issued_at__gte=start)),
        paid=Count("pk", filter=Q(paid_at__gte=start)),
        paid_fen=Sum("amount_fen", filter=Q(paid_at__gte=start)),
    )
    return DayFigures(
        day=today,
        stays=s["stays"],
        warnings=s["warnings"],
        notices=n["notices"],
        paid=n["paid"],
        paid_fen=n["paid_fen"] or 0,
    )


# --------------------------------------------------------------------------- per day


def window_days(*, now: datetime, days: int = DAYS) -> list[date]:
    """The last `days` calendar days in Asia/Shanghai, oldest first, today last."""
    today = timezone.localtime(now, _local_tz()).date()
    return [today - timedelta(days=i) for i in range(days - 1, -1, -1)]


def _per_day(qs: QuerySet[Any], field_name: str, start: datetime, **metrics: Any) -> Any:
    return (
        qs.filter(**{f"{field_name}__gte": start})
        .annotate(day=TruncDate(field_name, tzinfo=_local_tz()))
        .order_by()
        .values("day")
        .annotate(**metrics)
    )


def figures_per_day(*, sites: QuerySet[Site], now: datetime, days: int = DAYS) -> list[DayFigures]:
    """Stays started, warnings sent, notices issued and notices paid per Asia/Shanghai
    day, the last `days` days, a row for every day (zeros included). Four grouped
    queries. Exempt stays (fire engines, ambulances...) are not counted."""
    span = window_days(now=now, days=days)
    start = _day_start(span[0])
    rows: dict[date, dict[str, int]] = {d: {} for d in span}

    def fold(result: Iterable[dict[str, Any]], **names: str) -> None:
        for row in result:
            day = row["day"]
            if day in rows:
                for key, col in names.items():
                    rows[day][key] = int(row[col] or 0)

    stays = Stay.objects.filter(site__in=_site_ids(sites), exempt_reason="")
    notices = Notice.objects.filter(stay__site__in=_site_ids(sites))
    fold(_per_day(stays, "started_at", start, n=Count("pk")), stays="n")
    fold(_per_day(stays, "warned_at", start, n=Count("pk")), warnings="n")
    fold(_per_day(notices, "issued_at", start, n=Count("pk")), notices="n")
    fold(
        _per_day(notices, "paid_at", start, n=Count("pk"), fen=Sum("amount_fen")),
        paid="n",
        paid_fen="fen",
    )
    return [DayFigures(day=d, **rows[d]) for d in span]


# --------------------------------------------------------------------------- repeat


@dataclass(frozen=True)
class RepeatOffender:
    plate: str  # masked
    stays: int
    warned: int
    last_at: datetime


def repeat_offenders(
    *, sites: QuerySet[Site], now: datetime, days: int = DAYS, top: int = REPEAT_TOP
) -> list[RepeatOffender]:
    """Plates with at least two (not exempt) stays in the window, most stays first,
    masked. One grouped query."""
    start = _day_start(window_days(now=now, days=days)[0])
    rows = (
        Stay.objects.filter(site__in=_site_ids(sites), exempt_reason="", started_at__gte=start)
        .order_by()
        .values("plate")
        .annotate(
            n=Count("pk"),
            warned=Count("pk", filter=Q(warned_at__isnull=False)),
            last=Max("started_at"),
        )
        .filter(n__gte=REPEAT_MIN_STAYS)
        .order_by("-n", "-last", "plate")[:top]
    )
    return [
        RepeatOffender(
            plate=plate_mask(r["plate"]), stays=r["n"], warned=r["warned"], last_at=r["last"]
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- response


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of a duration, in seconds (None: no data)."""

    count: int = 0
    p50_s: float | None = None
    p90_s: float | None = None


@dataclass(frozen=True)
class DayResponse:
    day: date
    warn: Spread  # sighting → warning: warned_at − started_at
    move: Spread  # warning → moved: ended_at − warned_at (stays that ended)


@dataclass(frozen=True)
class ResponseTimes:
    warn: Spread
    move: Spread
    days: list[DayResponse]


class _PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate; NULLs are skipped, as in the SQLite path."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


class _EpochSeconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, exactly as SQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    pos = fraction * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _spread(values: list[float]) -> Spread:
    return Spread(len(values), percentile_cont(values, 0.5), percentile_cont(values, 0.9))


def response_times(*, sites: QuerySet[Site], now: datetime, days: int = DAYS) -> ResponseTimes:
    """How fast the loop answers, for stays warned in the window (by the day of the
    warning): sighting → warning (warned_at − started_at) and warning → moved
    (ended_at − warned_at, stays that ended). Median and p90, overall and per day.
    PostgreSQL: two aggregate queries; SQLite: one query reading two durations per
    warned stay."""
    span = window_days(now=now, days=days)
    start = _day_start(span[0])
    warned = Stay.objects.filter(
        site__in=_site_ids(sites), exempt_reason="", warned_at__gte=start
    ).order_by()
    to_warn = ExpressionWrapper(F("warned_at") - F("started_at"), output_field=DurationField())
    to_move = ExpressionWrapper(F("ended_at") - F("warned_at"), output_field=DurationField())

    by_day: dict[date, tuple[Spread, Spread]] = {}
    if connections[warned.db].vendor == "postgresql":
        w, m = _EpochSeconds(to_warn), _EpochSeconds(to_move)
        metrics = {
            "wn": Count("pk"),
            "w50": _PercentileCont(w, fraction=0.5),
            "w90": _PercentileCont(w, fraction=0.9),
            "mn": Count("ended_at"),
            "m50": _PercentileCont(m, fraction=0.5),
            "m90": _PercentileCont(m, fraction=0.9),
        }

        def spreads(r: dict[str, Any]) -> tuple[Spread, Spread]:
            return Spread(r["wn"], r["w50"], r["w90"]), Spread(r["mn"], r["m50"], r["m90"])

        overall = spreads(warned.aggregate(**metrics))
        for row in _per_day(warned, "warned_at", start, **metrics):
            by_day[row["day"]] = spreads(row)
    else:
        warn_all: list[float] = []
        move_all: list[float] = []
        per: dict[date, tuple[list[float], list[float]]] = {}
        tz = _local_tz()
        for warned_at, a, b in warned.values_list("warned_at", to_warn, to_move).iterator():
            day_lists = per.setdefault(timezone.localtime(warned_at, tz).date(), ([], []))
            warn_all.append(a.total_seconds())
            day_lists[0].append(a.total_seconds())
            if b is not None:
                move_all.append(b.total_seconds())
                day_lists[1].append(b.total_seconds())
        overall = (_spread(warn_all), _spread(move_all))
        by_day = {d: (_spread(a), _spread(b)) for d, (a, b) in per.items()}
    empty = (Spread(), Spread())
    return ResponseTimes(
        warn=overall[0],
        move=overall[1],
        days=[DayResponse(d, *by_day.get(d, empty)) for d in span],
    )


# --------------------------------------------------------------------------- payload


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value, _local_tz()).isoformat() if value else None


def _short(value: datetime | None) -> str:
    """A time of the last days as the tables show it: 11-02 14:05."""
    return timezone.localtime(value, _local_tz()).strftime("%m-%d %H:%M") if value else ""


def _spread_json(s: Spread) -> dict[str, Any]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    def minutes(v: float | None) -> float | None:
        return None if v is None else round(v / 60, 1)

    return {
        "count": s.count,
        "p50_s": r(s.p50_s),
        "p90_s": r(s.p90_s),
        "p50_min": minutes(s.p50_s),
        "p90_min": minutes(s.p90_s),
    }


def dashboard_live(*, sites: QuerySet[Site], now: datetime) -> dict[str, Any]:
    """What the page polls every few seconds: cameras, cars on lanes, today. Seven
    queries."""
    cams = cameras_health(sites=sites, now=now)
    live = stays_on_lanes_now(sites=sites, now=now)
    today = figures_today(sites=sites, now=now)
    return {
        "cameras": {
            "total": cams.total,
            "online": cams.online,
            "offline": cams.offline,
            "disabled": cams.disabled,
            "offline_list": [
                {
                    "name": c.name,
                    "site": c.site,
                    "last_seen_at": _iso(c.last_seen_at),
                    "last_seen": _short(c.last_seen_at),
                }
                for c in cams.offline_list
            ],
        },
        "open_stays": {
            "count": live.count,
            "awaiting_review": live.awaiting_review,
            "rows": [
                {
                    "plate": r.plate,
                    "site": r.site,
                    "lane": r.lane,
                    "started_at": _iso(r.started_at),
                    "started": _short(r.started_at),
                    "minutes": r.minutes,
                    "warned": r.warned,
                    "awaiting_review": r.awaiting_review,
                }
                for r in live.rows
            ],
        },
        "today": {
            "stays": today.stays,
            "warnings": today.warnings,
            "notices": today.notices,
            "paid": today.paid,
            "paid_yuan": today.paid_fen / 100,
        },
    }


def dashboard_charts(*, sites: QuerySet[Site], now: datetime) -> dict[str, Any]:
    """The 30-day charts: per day, repeat offenders, response times. At most seven
    queries."""
    per_day = figures_per_day(sites=sites, now=now)
    repeat = repeat_offenders(sites=sites, now=now)
    resp = response_times(sites=sites, now=now)
    totals = {
        key: sum(getattr(d, key) for d in per_day)
        for key in ("stays", "warnings", "notices", "paid")
    }
    totals["paid_yuan"] = sum(d.paid_fen for d in per_day) / 100
    return {
        "totals": totals,
        "days": [
            {
                "day": d.day.isoformat(),
                "stays": d.stays,
                "warnings": d.warnings,
                "notices": d.notices,
                "paid": d.paid,
                "paid_yuan": d.paid_fen / 100,
            }
            for d in per_day
        ],
        "repeat": [
            {
                "plate": r.plate,
                "stays": r.stays,
                "warned": r.warned,
                "last_at": _iso(r.last_at),
                "last": _short(r.last_at),
            }
            for r in repeat
        ],
        "response": {
            "warn": _spread_json(resp.warn),
            "move": _spread_json(resp.move),
            "days": [
                {
                    "day": d.day.isoformat(),
                    "warn": _spread_json(d.warn),
                    "move": _spread_json(d.move),
                }
                for d in resp.days
            ],
        },
    }


def dashboard_payload(
    *, sites: QuerySet[Site], now: datetime | None = None, charts: bool = True
) -> dict[str, Any]:
    """The dashboard's JSON: `live` always, the 30-day charts unless `charts=False`."""
    now = now or timezone.now()
    payload: dict[str, Any] = {
        "generated_at": _iso(now),
        "live": dashboard_live(sites=sites, now=now),
    }
    if charts:
        payload.update(dashboard_charts(sites=sites, now=now))
    return payload


def cockpit_figures(*, user: Any, now: datetime) -> list[TileValue]:
    """The 生命通道 tile of the cockpit: the channel's figures over the cases the user
    may see, and how many cameras of the user's sites are offline."""
    figures = channel_figures(user=user, channel=FIRELANE.code, now=now)
    health = cameras_health(sites=firelane_scope_for(user=user).sites(), now=now)
    offline = health.total - health.online - health.disabled
    return [
        *figures,
        TileValue(_("摄像机离线"), offline, "/firelane/dashboard/", alert=offline > 0),
    ]
