"""Properties of the working-day arithmetic over the seeded years (2004-2026)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicloop.core.sla.working_days import (
    add_work_hours,
    add_workdays,
    is_workday,
    office_time_between,
    parse_office_hours,
    workdays_between,
)

pytestmark = pytest.mark.django_db

CN = ZoneInfo("Asia/Shanghai")
# Far enough from both ends of the table that ±40 working days stay inside it.
starts = st.dates(min_value=date(2004, 4, 1), max_value=date(2026, 10, 31))
counts = st.integers(min_value=1, max_value=40)
halves = st.integers(min_value=1, max_value=20)
signed_counts = st.integers(min_value=-40, max_value=40)
moments = st.datetimes(
    min_value=datetime(2004, 4, 1), max_value=datetime(2026, 10, 31), timezones=st.just(CN)
)
hours = st.decimals(min_value=0, max_value=60, places=2)
quick = settings(deadline=None, max_examples=60)


@quick
@given(start=starts, n=counts)
def test_the_result_is_a_workday_after_the_start(start, n):
    result = add_workdays(start, n)
    assert result > start
    assert is_workday(result)


@quick
@given(start=starts, n=signed_counts)
def test_workdays_between_inverts_add_workdays(start, n):
    assert workdays_between(start, add_workdays(start, n)) == n


@quick
@given(start=starts, n=signed_counts)
def test_add_workdays_is_strictly_monotonic_in_n(start, n):
    assert add_workdays(start, n) < add_workdays(start, n + 1)


@quick
@given(start=starts, n=halves, m=halves)
def test_add_workdays_composes(start, n, m):
    assert add_workdays(add_workdays(start, n), m) == add_workdays(start, n + m)


@quick
@given(start=moments, amount=hours)
def test_add_work_hours_ends_inside_office_hours_of_a_workday(start, amount):
    result = add_work_hours(start, amount)
    local = result.astimezone(CN)
    assert result >= start
    assert result.utcoffset() == timedelta(hours=8)
    assert is_workday(local.date())
    assert any(begin <= local.time() <= end for begin, end in parse_office_hours(None))
    assert office_time_between(start, result) == timedelta(hours=float(amount))


@quick
@given(start=moments, a=hours, b=hours)
def test_add_work_hours_is_monotonic(start, a, b):
    low, high = sorted((a, b))
    assert add_work_hours(start, low) <= add_work_hours(start, high)


@quick
@given(day=starts)
def test_the_table_and_the_weekday_rule_agree_with_the_library(day):
    import chinese_calendar

    assert is_workday(day) == chinese_calendar.is_workday(day)


def test_office_periods_are_ordered():
    assert parse_office_hours(None) == ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))
