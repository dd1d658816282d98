"""Working days around National Day and Spring Festival 2026, from our own table.

2026 per the State Council (and chinese-calendar 1.11.0):
- 春节: 02-15 (Sun) .. 02-23 (Mon) off; Sat 02-14 and Sat 02-28 are make-up workdays.
- 中秋: 09-25 (Fri) .. 09-27 off; Sun 09-20 is a make-up workday.
- 国庆节: 10-01 .. 10-07 off; Sat 10-10 is a make-up workday.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from civicloop.core.sla.calendar_source import PROVISIONAL_LAST_YEAR
from civicloop.core.sla.models import CalendarYear
from civicloop.core.sla.services import calendar_year_publish
from civicloop.core.sla.working_days import (
    CalendarYearUnknown,
    add_workdays,
    is_workday,
    workdays_between,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 30), True),  # Wednesday before the holiday
        (date(2026, 10, 1), False),  # 国庆节
        (date(2026, 10, 5), False),  # Monday inside the holiday
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 10, 11), False),  # ordinary Sunday
        (date(2026, 9, 20), True),  # make-up Sunday
        (date(2026, 9, 25), False),  # 中秋 Friday
        (date(2026, 2, 14), True),  # make-up Saturday before 春节
        (date(2026, 2, 16), False),  # 春节 Monday
        (date(2026, 2, 23), False),  # last day of 春节
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # make-up Saturday after 春节
        (date(2026, 3, 7), False),  # ordinary Saturday
    ],
)
def test_is_workday_2026(day, expected):
    assert is_workday(day) is expected


def test_three_working_days_from_30_september_2026_end_on_the_make_up_saturday():
    # Given Wednesday 2026-09-30 (the start day itself does not count)
    # When adding 3 working days across 国庆节 (10-01..10-07)
    result = add_workdays(date(2026, 9, 30), 3)
    # Then they are Thu 10-08, Fri 10-09 and the make-up Sat 10-10
    assert result == date(2026, 10, 10)


def test_counting_backward_over_national_day():
    assert add_workdays(date(2026, 10, 10), -3) == date(2026, 9, 30)
    assert add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)


def test_zero_working_days_is_the_start_day():
    assert add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_spring_festival_2026():
    # Friday 02-13 + 1 is the make-up Saturday 02-14
    assert add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    # 02-14 + 1 skips the whole festival (02-15..02-23)
    assert add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)
    # 02-24 (Tue) + 4: Wed, Thu, Fri, make-up Sat 02-28
    assert add_workdays(date(2026, 2, 24), 4) == date(2026, 2, 28)
    # starting on a holiday still does not count the start day
    assert add_workdays(date(2026, 2, 18), 1) == date(2026, 2, 24)


def test_workdays_between_counts_the_arrival_day_only():
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert workdays_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert workdays_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
    assert workdays_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
    assert workdays_between(date(2026, 10, 10), date(2026, 9, 30)) == -3


def test_crossing_a_year_boundary_inside_the_table():
    # 2025-12-31 (Wed) + 1: 2026-01-01..03 are 元旦, Sunday 01-04 is a make-up workday
    assert add_workdays(date(2025, 12, 31), 1) == date(2026, 1, 4)


def test_a_year_before_the_table_is_unknown_and_says_where_to_add_it():
    # Given the table starts in 2004, and no provisional year is computed for the past
    # When a computation reaches 2003
    with pytest.raises(CalendarYearUnknown) as excinfo:
        add_workdays(date(2004, 1, 2), -3)
    # Then the error is a configuration error naming the year and the admin page
    message = str(excinfo.value)
    assert excinfo.value.year == 2003
    assert "2003" in message
    assert "日历 → 年份" in message
    with pytest.raises(CalendarYearUnknown):
        is_workday(date(2003, 12, 31))
    with pytest.raises(CalendarYearUnknown):
        workdays_between(date(2003, 12, 1), date(2004, 1, 5))


def test_a_year_beyond_the_provisional_source_is_unknown():
    with pytest.raises(CalendarYearUnknown):
        is_workday(date(PROVISIONAL_LAST_YEAR + 1, 1, 4))


def test_an_unpublished_year_is_provisional_not_its_draft_rows():
    # Given a draft 2027 whose rows say Monday 01-04 is a holiday
    row = CalendarYear.objects.create(year=2027, is_published=False)
    row.days.create(date=date(2027, 1, 4), is_workday=False, name="草稿")
    # Then 2027 is computed provisionally, the draft ignored until it is published
    assert is_workday(date(2027, 1, 4)) is True
    assert is_workday(date(2027, 1, 1)) is False


def test_datetimes_are_refused_because_their_day_depends_on_the_time_zone():
    with pytest.raises(TypeError):
        is_workday(datetime(2026, 10, 8, 1, 0))


def test_publishing_2027_through_the_service_is_seen_at_once():
    # Given a process that already computed with the provisional 2027 (no make-up days)
    assert is_workday(date(2027, 1, 9)) is False
    assert add_workdays(date(2027, 1, 8), 1) == date(2027, 1, 11)
    # When 2027 is published with 元旦 on Friday 01-01 and a (hypothetical) make-up Saturday
    calendar_year_publish(
        year=2027,
        holidays=[(date(2027, 1, 1), "元旦")],
        workdays=[(date(2027, 1, 9), "调休上班")],
    )
    # Then computations in 2027 use it
    assert is_workday(date(2027, 1, 1)) is False
    assert is_workday(date(2027, 1, 9)) is True
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert add_workdays(date(2027, 1, 8), 1) == date(2027, 1, 9)
