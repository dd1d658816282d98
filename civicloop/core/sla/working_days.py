"""Chinese working days and office hours, computed from our own calendar table.

Guarantees:
- A year with a published `CalendarYear` is confirmed: its answers come from
  `CalendarYear`/`CalendarDay`. A year without one is *provisional*: weekends plus the
  statutory holidays of the `holidays` package (`calendar_source.provisional_days`), so
  a deadline reaching into a year the State Council has not announced yet is still
  computed, and `span_is_provisional` tells its callers to mark it as such. Only a year
  outside any source (before 2004, beyond `holidays`) raises `CalendarYearUnknown`.
- Days are counted as calendar dates in China (Asia/Shanghai); time is never added
  in 24-hour steps.
- The table is read once per process into an immutable snapshot. `calendar_changed()`
  (called by the admin, the services and the model signals) drops this process's
  snapshot at once and, when the transaction commits, bumps a version counter in
  `django.core.cache` so other processes reload at their next check (at most every
  `RECHECK_SECONDS`). A snapshot is also reloaded after `MAX_AGE_SECONDS` whatever
  the version says (bounding staleness after a rolled-back edit), and at every check
  while the shared cache is unreachable.
"""

from __future__ import annotations

import logging
import threading
import time as monotime
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.core.cache_version import shared_version, shared_version_bump
from civicloop.core.units.models import DEFAULT_OFFICE_HOURS

logger = logging.getLogger(__name__)

# Chinese working days are a matter of China's clock, whatever a user's locale.
CHINA_TZ = ZoneInfo("Asia/Shanghai")

VERSION_CACHE_KEY = "civicloop:sla:calendar-version"
RECHECK_SECONDS = 5.0
MAX_AGE_SECONDS = 300.0

OfficeHours = Sequence[Sequence[str]]
Periods = tuple[tuple[time, time], ...]


class CalendarYearUnknown(ImproperlyConfigured):
    """A computation needed a year that neither the calendar table nor the provisional
    source (`holidays`) covers."""

    def __init__(self, year: int, *, unpublished: bool = False) -> None:
        self.year = year
        if unpublished:
            message = _(
                "工作日历中 %(year)d 年尚未标记为已发布：请在管理后台 日历 → 年份 中"
                "补全 %(year)d 年的节假日和调休上班日，并勾选“已发布”。"
            ) % {"year": year}
        else:
            message = _(
                "工作日历中没有 %(year)d 年：请在管理后台 日历 → 年份 中添加 %(year)d 年"
                "（按国务院办公厅公布的节假日安排录入放假日和调休上班日），并勾选“已发布”。"
            ) % {"year": year}
        super().__init__(message)


# --- the per-process snapshot ---------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    version: object
    loaded_at: float
    checked_at: float
    published_years: frozenset[int]
    draft_years: frozenset[int]
    exceptions: dict[date, bool]
    # Provisional years' exceptions, computed on first use; shared by the snapshot's
    # copies (a recheck keeps them), dropped with the snapshot.
    provisional: dict[int, dict[date, bool]] = field(default_factory=dict)

    def require_year(self, year: int) -> None:
        if year not in self.published_years:
            self.provisional_exceptions(year)

    def provisional_exceptions(self, year: int) -> dict[date, bool]:
        days = self.provisional.get(year)
        if days is None:
            from civicloop.core.sla.calendar_source import provisional_days

            try:
                days = provisional_days(year)
            except ValueError:
                raise CalendarYearUnknown(year, unpublished=year in self.draft_years) from None
            self.provisional[year] = days
        return days


_lock = threading.Lock()
_snapshot_holder: list[_Snapshot | None] = [None]


def _shared_version() -> object:
    return shared_version(VERSION_CACHE_KEY)


def _bump_shared_version() -> None:
    shared_version_bump(VERSION_CACHE_KEY)


def _load(version: object, now: float) -> _Snapshot:
    from civicloop.core.sla.models import CalendarDay, CalendarYear

    published: set[int] = set()
    drafts: set[int] = set()
    for year, is_published in CalendarYear.objects.values_list("year", "is_published"):
        (published if is_published else drafts).add(year)
    exceptions = {
        day: is_workday
        for day, is_workday in CalendarDay.objects.filter(year__is_published=True).values_list(
            "date", "is_workday"
        )
    }
    return _Snapshot(
        version=version,
        loaded_at=now,
        checked_at=now,
        published_years=frozenset(published),
        draft_years=frozenset(drafts),
        exceptions=exceptions,
    )


def _snapshot() -> _Snapshot:
    now = monotime.monotonic()
    snap = _snapshot_holder[0]
    if snap is not None and now - snap.checked_at < RECHECK_SECONDS:
        return snap
    with _lock:
        snap = _snapshot_holder[0]
        if snap is not None and now - snap.checked_at < RECHECK_SECONDS:
            return snap
        version = _shared_version()
        if (
            snap is not None
            and version is not None
            and version == snap.version
            and now - snap.loaded_at < MAX_AGE_SECONDS
        ):
            snap = _Snapshot(
                version=snap.version,
                loaded_at=snap.loaded_at,
                checked_at=now,
                published_years=snap.published_years,
                draft_years=snap.draft_years,
                exceptions=snap.exceptions,
                provisional=snap.provisional,
            )
        else:
            snap = _load(version, now)
        _snapshot_holder[0] = snap
        return snap


def invalidate_local_cache() -> None:
    """Forget this process's snapshot; the next computation reads the table again."""
    with _lock:
        _snapshot_holder[0] = None


def calendar_changed() -> None:
    """Call after any change to the calendar table.

    This process reloads at once (so it sees its own uncommitted edit); other
    processes are told through the shared version only after commit, so they cannot
    reload the old rows under the new version.
    """
    invalidate_local_cache()

    def _after_commit() -> None:
        _bump_shared_version()
        invalidate_local_cache()

    transaction.on_commit(_after_commit)


# --- working days -----------------------------------------------------------------


def _check_date(d: date) -> None:
    # A datetime is a date subclass; its .date() in UTC may be the wrong Chinese day.
    if isinstance(d, datetime):
        raise TypeError("pass a date (the Asia/Shanghai local date), not a datetime")


def _is_workday(snap: _Snapshot, d: date) -> bool:
    if d.year in snap.published_years:
        exception = snap.exceptions.get(d)
    else:
        exception = snap.provisional_exceptions(d.year).get(d)
    if exception is not None:
        return exception
    return d.weekday() < 5


def is_workday(d: date) -> bool:
    """True when `d` is a Chinese working day (provisionally in an unconfirmed year).
    Raises CalendarYearUnknown for a year outside every source."""
    _check_date(d)
    return _is_workday(_snapshot(), d)


def year_is_confirmed(year: int) -> bool:
    """True when the table holds `year` as published (the State Council's notice or
    chinese-calendar); False for a provisional or unknown year."""
    return year in _snapshot().published_years


def span_is_provisional(start: date | datetime, end: date | datetime) -> bool:
    """True when a day between `start` and `end` (either order; datetimes are read in
    Asia/Shanghai) lies in a year the table has not confirmed: a deadline computed across
    that span is provisional and must be recomputed once the year is confirmed."""
    years = {(v.astimezone(CHINA_TZ) if isinstance(v, datetime) else v).year for v in (start, end)}
    published = _snapshot().published_years
    return any(y not in published for y in range(min(years), max(years) + 1))


def add_workdays(start: date, n: int) -> date:
    """The date `n` working days after `start` (before it when n < 0).

    The start day itself never counts, whether or not it is a workday. For n != 0 the
    result is always a workday; for n == 0 it is `start`. Example: 3 working days
    from Wed 2026-09-30 is Sat 2026-10-10 (a 调休 make-up workday).
    """
    _check_date(start)
    snap = _snapshot()
    snap.require_year(start.year)
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    current = start
    while remaining:
        current += step
        if _is_workday(snap, current):
            remaining -= 1
    return current


def workdays_between(start: date, end: date) -> int:
    """Working days crossed going from `start` to `end`, counting the day arrived at
    and not the day left: the workdays in (start, end] when end >= start, and minus
    the workdays in [end, start) when end < start.

    So `workdays_between(s, add_workdays(s, n)) == n` for every n.
    """
    _check_date(start)
    _check_date(end)
    snap = _snapshot()
    snap.require_year(start.year)
    snap.require_year(end.year)
    if end >= start:
        lo, hi, sign = start + timedelta(days=1), end, 1
    else:
        lo, hi, sign = end, start - timedelta(days=1), -1
    count = 0
    current = lo
    while current <= hi:
        if _is_workday(snap, current):
            count += 1
        current += timedelta(days=1)
    return sign * count


# --- office hours -----------------------------------------------------------------


def _parse_hhmm(value: str) -> time:
    hours, _sep, minutes = str(value).strip().partition(":")
    return time(int(hours), int(minutes or 0))


@lru_cache(maxsize=64)
def _parse_periods(frozen: tuple[tuple[str, ...], ...]) -> Periods:
    periods: list[tuple[time, time]] = []
    for pair in frozen:
        if len(pair) != 2:
            raise ValueError(f"an office period needs a start and an end: {list(pair)!r}")
        begin, end = _parse_hhmm(pair[0]), _parse_hhmm(pair[1])
        if begin >= end:
            raise ValueError(f"office period ends before it starts: {list(pair)!r}")
        if periods and begin < periods[-1][1]:
            raise ValueError(f"office periods must be in order and not overlap: {frozen!r}")
        periods.append((begin, end))
    if not periods:
        raise ValueError("office hours are empty")
    return tuple(periods)


def parse_office_hours(office_hours: OfficeHours | None) -> Periods:
    """Validate `[["08:30","12:00"],["14:00","17:30"]]` into ordered (start, end) times.
    None or an empty list means DEFAULT_OFFICE_HOURS. Raises ValueError when malformed."""
    if not office_hours:
        office_hours = DEFAULT_OFFICE_HOURS
    try:
        frozen = tuple(tuple(str(v) for v in pair) for pair in office_hours)
    except TypeError as exc:
        raise ValueError(f"malformed office hours: {office_hours!r}") from exc
    return _parse_periods(frozen)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value.astimezone(CHINA_TZ)


def hours_to_timedelta(hours: float | int | Decimal) -> timedelta:
    """Exact conversion of a (possibly fractional) number of hours, to the microsecond."""
    amount = hours if isinstance(hours, Decimal) else Decimal(str(hours))
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"hours must be a finite non-negative number, not {hours!r}")
    micro = (amount * 3_600_000_000).to_integral_value(rounding=ROUND_HALF_UP)
    return timedelta(microseconds=int(micro))


def add_office_time(
    start: datetime, duration: timedelta, office_hours: OfficeHours | None = None
) -> datetime:
    """Like `add_work_hours`, with the duration as a timedelta."""
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    periods = parse_office_hours(office_hours)
    cursor = _require_aware(start, "start")
    snap = _snapshot()
    day = cursor.date()
    remaining = duration
    while True:
        if _is_workday(snap, day):
            for begin, end in periods:
                period_start = datetime.combine(day, begin, tzinfo=CHINA_TZ)
                period_end = datetime.combine(day, end, tzinfo=CHINA_TZ)
                cursor = max(cursor, period_start)
                if cursor >= period_end:
                    continue
                available = period_end - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
                cursor = period_end
        day += timedelta(days=1)


def add_work_hours(
    start: datetime, hours: float | int | Decimal, office_hours: OfficeHours | None = None
) -> datetime:
    """The moment `hours` of office time after `start`, in Asia/Shanghai.

    Only office periods of working days are consumed (lunch breaks, nights, weekends
    and holidays are skipped). A start outside office hours begins at the next office
    period. The result is aware, lies inside an office period of a working day (an
    end such as 17:30 included), and `office_time_between(start, result)` equals
    `hours`. Zero hours gives the first office moment at or after `start`.
    """
    return add_office_time(start, hours_to_timedelta(hours), office_hours)


def office_time_between(
    start: datetime, end: datetime, office_hours: OfficeHours | None = None
) -> timedelta:
    """Office time of working days within [start, end]; zero when end <= start."""
    periods = parse_office_hours(office_hours)
    lo = _require_aware(start, "start")
    hi = _require_aware(end, "end")
    total = timedelta(0)
    if hi <= lo:
        return total
    snap = _snapshot()
    day = lo.date()
    while day <= hi.date():
        if _is_workday(snap, day):
            for begin, finish in periods:
                overlap_start = max(lo, datetime.combine(day, begin, tzinfo=CHINA_TZ))
                overlap_end = min(hi, datetime.combine(day, finish, tzinfo=CHINA_TZ))
                if overlap_end > overlap_start:
                    total += overlap_end - overlap_start
        day += timedelta(days=1)
    return total
