"""Writing the calendar table. Every write goes through here or the admin, so the
working-day caches are always invalidated, and deadlines counted provisionally are
counted again once the table confirms their year."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.core.sla.models import CalendarDay, CalendarSource, CalendarYear
from civicloop.core.sla.working_days import calendar_changed


def _check_days(year: int, entries: Iterable[tuple[date, str]], seen: set[date]) -> list[str]:
    errors = []
    for day, _name in entries:
        if day.year != year:
            errors.append(_("日期 %(date)s 不在 %(year)d 年内") % {"date": day, "year": year})
        if day in seen:
            errors.append(_("日期 %(date)s 重复出现") % {"date": day})
        seen.add(day)
    return errors


def deadlines_recompute_on_commit() -> None:
    """Once the current transaction (which changed the calendar) commits, count again
    every open deadline marked provisional (`cases.deadlines.deadlines_recompute`, one
    transaction per batch). The SLA sweep does it too if this is lost in a crash."""
    # Imported here: the case engine builds on this package, not the other way round.
    from civicloop.core.cases.deadlines import deadlines_recompute

    transaction.on_commit(lambda: deadlines_recompute())


@transaction.atomic
def calendar_year_publish(
    *,
    year: int,
    holidays: list[tuple[date, str]],
    workdays: list[tuple[date, str]],
    note: str = "",
) -> CalendarYear:
    """Publish the State Council's arrangement for `year`: replace all its exceptions
    with `holidays` (days off) and `workdays` (调休 make-up workdays), mark it
    published and administrator-sourced.

    All or nothing: raises ValidationError (nothing written) when a date is outside
    `year` or appears twice. Afterwards every process computes with the new data, and
    once committed the provisional deadlines of open cases are counted again.
    """
    seen: set[date] = set()
    errors = _check_days(year, holidays, seen) + _check_days(year, workdays, seen)
    if errors:
        raise ValidationError(errors)
    row, _created = CalendarYear.objects.update_or_create(
        year=year,
        defaults={"is_published": True, "source": CalendarSource.ADMIN, "note": note},
    )
    CalendarDay.objects.filter(year=row).delete()
    CalendarDay.objects.bulk_create(
        [CalendarDay(year=row, date=day, is_workday=False, name=name) for day, name in holidays]
        + [CalendarDay(year=row, date=day, is_workday=True, name=name) for day, name in workdays]
    )
    calendar_changed()
    deadlines_recompute_on_commit()
    return row
