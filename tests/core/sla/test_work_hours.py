"""Working hours: office minutes of working days only, in Asia/Shanghai.
Default office hours are 08:30-12:00 and 14:00-17:30 (7 hours a day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from civicloop.core.sla.working_days import (
    CalendarYearUnknown,
    add_work_hours,
    office_time_between,
)

pytestmark = pytest.mark.django_db

CN = ZoneInfo("Asia/Shanghai")


def cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CN)


def test_friday_afternoon_plus_5_hours_ends_monday_afternoon():
    # Given Friday 2026-03-06 16:30: 1 hour left today
    # When adding 5 working hours
    result = add_work_hours(cn(2026, 3, 6, 16, 30), 5)
    # Then Monday morning gives 3.5 hours and the last 0.5 hour runs after lunch
    assert result == cn(2026, 3, 9, 14, 30)


def test_thursday_before_mid_autumn_plus_5_hours_skips_the_holiday():
    # Thu 2026-09-24 16:30; Fri 09-25 .. Sun 09-27 are 中秋 holidays
    assert add_work_hours(cn(2026, 9, 24, 16, 30), 5) == cn(2026, 9, 28, 14, 30)


def test_national_day_make_up_saturday_is_a_working_day():
    # Fri 2026-10-09 17:00 + 1 hour: 0.5 today, 0.5 on the make-up Saturday
    assert add_work_hours(cn(2026, 10, 9, 17, 0), 1) == cn(2026, 10, 10, 9, 0)


def test_lunch_break_is_skipped():
    assert add_work_hours(cn(2026, 3, 9, 11, 0), 2) == cn(2026, 3, 9, 15, 0)


def test_a_start_outside_office_hours_begins_at_the_next_period():
    assert add_work_hours(cn(2026, 3, 9, 7, 0), 1) == cn(2026, 3, 9, 9, 30)
    assert add_work_hours(cn(2026, 3, 9, 12, 30), 1) == cn(2026, 3, 9, 15, 0)
    assert add_work_hours(cn(2026, 3, 9, 20, 0), 1) == cn(2026, 3, 10, 9, 30)
    assert add_work_hours(cn(2026, 3, 7, 10, 0), 1) == cn(2026, 3, 9, 9, 30)  # Saturday


def test_a_deadline_may_fall_exactly_at_closing_time():
    assert add_work_hours(cn(2026, 3, 9, 14, 0), 3.5) == cn(2026, 3, 9, 17, 30)


def test_zero_hours_is_the_first_office_moment():
    assert add_work_hours(cn(2026, 3, 9, 10, 0), 0) == cn(2026, 3, 9, 10, 0)
    assert add_work_hours(cn(2026, 3, 9, 12, 0), 0) == cn(2026, 3, 9, 14, 0)


def test_fractional_hours_are_exact():
    assert add_work_hours(cn(2026, 3, 9, 8, 30), Decimal("0.25")) == cn(2026, 3, 9, 8, 45)
    assert add_work_hours(cn(2026, 3, 9, 8, 30), 0.1) == cn(2026, 3, 9, 8, 36)


def test_utc_input_is_read_in_china_time_and_the_result_is_aware():
    # 08:30 UTC is 16:30 in Shanghai
    result = add_work_hours(datetime(2026, 3, 6, 8, 30, tzinfo=UTC), 5)
    assert result == cn(2026, 3, 9, 14, 30)
    assert result.utcoffset() == timedelta(hours=8)


def test_a_unit_with_its_own_office_hours():
    hours = [["09:00", "12:00"], ["13:00", "17:00"]]
    assert add_work_hours(cn(2026, 3, 9, 11, 0), 2, hours) == cn(2026, 3, 9, 14, 0)


@pytest.mark.parametrize(
    "hours",
    [[], None],
)
def test_empty_office_hours_mean_the_default(hours):
    assert add_work_hours(cn(2026, 3, 9, 11, 0), 2, hours) == cn(2026, 3, 9, 15, 0)


@pytest.mark.parametrize(
    "hours",
    [[["12:00", "08:30"]], [["08:30", "12:00"], ["11:00", "17:00"]], [["08:30"]], [["x", "y"]]],
)
def test_malformed_office_hours_are_refused(hours):
    with pytest.raises(ValueError):
        add_work_hours(cn(2026, 3, 9, 11, 0), 1, hours)


def test_naive_datetimes_and_negative_hours_are_refused():
    with pytest.raises(ValueError):
        add_work_hours(datetime(2026, 3, 9, 11, 0), 1)
    with pytest.raises(ValueError):
        add_work_hours(cn(2026, 3, 9, 11, 0), -1)


def test_work_hours_into_an_unconfirmed_year_use_the_provisional_year():
    # 2026-12-31 16:00 + 8 office hours: 1.5 h that day, 元旦 (Fri 2027-01-01) off,
    # the weekend, then 6.5 h of Monday 2027-01-04
    assert add_work_hours(cn(2026, 12, 31, 16, 0), 8) == cn(2027, 1, 4, 17, 0)


def test_work_hours_into_an_unknown_year_fail_loudly():
    with pytest.raises(CalendarYearUnknown):
        add_work_hours(cn(2003, 12, 31, 16, 0), 8)


def test_office_time_between():
    assert office_time_between(cn(2026, 3, 6, 16, 30), cn(2026, 3, 9, 14, 30)) == timedelta(hours=5)
    assert office_time_between(cn(2026, 9, 30, 8, 0), cn(2026, 10, 8, 23, 0)) == timedelta(hours=14)
    assert office_time_between(cn(2026, 3, 9, 12, 0), cn(2026, 3, 9, 11, 0)) == timedelta(0)
