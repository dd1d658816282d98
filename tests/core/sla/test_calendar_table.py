"""The calendar table is seeded from chinese-calendar by the data migration."""

from __future__ import annotations

from datetime import date
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import call_command

from civicloop.core.sla.calendar_source import library_years
from civicloop.core.sla.models import CalendarDay, CalendarSource, CalendarYear
from civicloop.core.sla.services import calendar_year_publish

pytestmark = pytest.mark.django_db


def test_the_library_knows_2004_to_2026_and_not_2027():
    assert library_years() == list(range(2004, 2027))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


def test_migration_seeded_every_library_year_as_published():
    years = set(CalendarYear.objects.filter(is_published=True).values_list("year", flat=True))
    assert years == set(range(2004, 2027))
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert CalendarYear.objects.get(year=2026).source == CalendarSource.CHINESE_CALENDAR


def test_national_day_2026_is_stored_with_chinese_names():
    national_day = CalendarDay.objects.get(date=date(2026, 10, 1))
    make_up = CalendarDay.objects.get(date=date(2026, 10, 10))

    assert (national_day.is_workday, national_day.name) == (False, "国庆节")
    assert (make_up.is_workday, make_up.name) == (True, "国庆节调休上班")
    assert CalendarDay.objects.get(date=date(2026, 2, 17)).name == "春节"


def test_every_seeded_day_agrees_with_the_library():
    for day in CalendarDay.objects.all():
        assert day.date.year == day.year_id
        assert day.is_workday == chinese_calendar.is_workday(day.date)


def test_seed_calendar_is_idempotent_and_keeps_admin_years():
    # Given 2026 taken over by an administrator
    calendar_year_publish(year=2026, holidays=[(date(2026, 10, 1), "国庆节")], workdays=[])
    out = StringIO()

    # When the seed runs twice
    call_command("seed_calendar", stdout=out)
    call_command("seed_calendar", stdout=out)

    # Then nothing changes and the admin's 2026 is untouched
    lines = out.getvalue().splitlines()
    assert all("created -; updated -; unchanged 22 years" in line for line in lines)
    assert all("kept admin years 2026" in line for line in lines)
    assert CalendarDay.objects.filter(year_id=2026).count() == 1


def test_seed_calendar_restores_a_damaged_library_year():
    # Given a library year with a deleted holiday and a renamed one
    CalendarDay.objects.filter(date=date(2025, 10, 1)).delete()
    CalendarDay.objects.filter(date=date(2025, 10, 2)).update(name="x")

    # When seeding again
    out = StringIO()
    call_command("seed_calendar", stdout=out)

    # Then the library's data is back
    assert "updated 2025" in out.getvalue()
    assert CalendarDay.objects.get(date=date(2025, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2025, 10, 2)).name == "国庆节"
