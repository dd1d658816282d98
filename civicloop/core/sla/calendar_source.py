"""Where calendar data comes from: seeding the table from the installed
chinese-calendar library, and the provisional years computed with `holidays`.

chinese-calendar is only a seed: computations never call it. Used by the data
migration (with historical models) and by `manage.py seed_calendar` (after a library
upgrade). `provisional_days` stands in for a year nobody has confirmed yet.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import chinese_calendar
import holidays

from civicloop.core.sla.models import SOURCE_ADMIN, SOURCE_CHINESE_CALENDAR

FIRST_LIBRARY_YEAR = 2004
# The years a provisional calendar may be computed for: none before the table's own
# first year (the past is confirmed or unknown), none beyond what `holidays` computes.
PROVISIONAL_FIRST_YEAR = FIRST_LIBRARY_YEAR
PROVISIONAL_LAST_YEAR: int = holidays.China.end_year
MAKE_UP_SUFFIX = "调休上班"
# The library names holidays in English; its Holiday enum carries the Chinese names.
CHINESE_NAMES: dict[str, str] = {h.value: h.chinese for h in chinese_calendar.Holiday}


def library_years() -> list[int]:
    """Every year the installed library knows: from 2004 upward until it raises."""
    years = []
    for year in itertools.count(FIRST_LIBRARY_YEAR):
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            break
        years.append(year)
    return years


def _chinese_name(day: date) -> str:
    _is_holiday, english = chinese_calendar.get_holiday_detail(day)
    if not english:
        return ""
    return CHINESE_NAMES.get(english, english)


def library_days(year: int) -> dict[date, tuple[bool, str]]:
    """The library's exceptions for `year`: date -> (is_workday, Chinese name).

    Holidays include the weekend days inside a holiday span (e.g. 国庆节 10-01..10-07),
    which documents the span without changing any result.
    """
    days: dict[date, tuple[bool, str]] = {}
    for day in chinese_calendar.holidays:
        if day.year == year:
            days[day] = (False, _chinese_name(day))
    for day in chinese_calendar.workdays:
        if day.year == year:
            name = _chinese_name(day)
            days[day] = (True, f"{name}{MAKE_UP_SUFFIX}" if name else MAKE_UP_SUFFIX)
    return days


@dataclass
class SeedReport:
    created_years: list[int] = field(default_factory=list)
    updated_years: list[int] = field(default_factory=list)
    unchanged_years: list[int] = field(default_factory=list)
    skipped_admin_years: list[int] = field(default_factory=list)
    days_written: int = 0
    days_deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created_years or self.updated_years)


def seed_from_library(year_model: Any, day_model: Any) -> SeedReport:
    """Make the table hold the library's data for every year it knows. Idempotent.

    A year an administrator entered or took over (source "admin") is left alone: the
    admin's word beats the library. Takes the model classes so the data migration
    can pass historical models. Callers handle transactions and cache invalidation.
    """
    report = SeedReport()
    for year in library_years():
        wanted = library_days(year)
        row, created = year_model.objects.get_or_create(
            year=year,
            defaults={
                "is_published": True,
                "source": SOURCE_CHINESE_CALENDAR,
                "note": f"chinese-calendar {chinese_calendar_version()}",
            },
        )
        if not created and row.source == SOURCE_ADMIN:
            report.skipped_admin_years.append(year)
            continue
        changed = created
        if not row.is_published:
            row.is_published = True
            row.save(update_fields=["is_published", "updated_at"])
            changed = True
        existing = {d.date: d for d in day_model.objects.filter(year_id=year)}
        stale = [entry.pk for day, entry in existing.items() if day not in wanted]
        if stale:
            day_model.objects.filter(pk__in=stale).delete()
            report.days_deleted += len(stale)
            changed = True
        new_rows = []
        for day, (is_workday, name) in sorted(wanted.items()):
            current = existing.get(day)
            if current is None:
                new_rows.append(day_model(date=day, year_id=year, is_workday=is_workday, name=name))
            elif (current.is_workday, current.name) != (is_workday, name):
                current.is_workday, current.name = is_workday, name
                current.save(update_fields=["is_workday", "name"])
                report.days_written += 1
                changed = True
        if new_rows:
            day_model.objects.bulk_create(new_rows)
            report.days_written += len(new_rows)
            changed = True
        if created:
            report.created_years.append(year)
        elif changed:
            row.save(update_fields=["updated_at"])
            report.updated_years.append(year)
        else:
            report.unchanged_years.append(year)
    return report


def chinese_calendar_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinesecalendar")
    except PackageNotFoundError:
        return "unknown"


def provisional_days(year: int) -> dict[date, bool]:
    """The exceptions to the weekday rule for a year the table has not confirmed:
    date -> is_workday, from the `holidays` package's China calendar (no network).

    The statutory holidays (and the package's own in-lieu days) that fall on a weekday
    are days off; weekend days are workdays only where the package carries the State
    Council's make-up days, which it does not for a year whose notice it lacks. So such a
    year is weekends plus statutory holidays, an estimate until an administrator
    confirms the year. Raises ValueError outside PROVISIONAL_FIRST_YEAR..LAST_YEAR.
    """
    if not PROVISIONAL_FIRST_YEAR <= year <= PROVISIONAL_LAST_YEAR:
        raise ValueError(f"no provisional calendar for {year}")
    china = holidays.China(years=year)
    days: dict[date, bool] = {day: False for day in china if day.year == year}
    for day in getattr(china, "weekend_workdays", ()):
        if day.year == year:
            days[day] = True
    return days


def holidays_version() -> str:
    return str(holidays.__version__)
