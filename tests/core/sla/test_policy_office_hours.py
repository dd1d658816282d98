"""A unit's own office hours (a town office open 09:00-11:00 and 13:00-16:00) shape every
deadline it is given, its reminder and its escalation; the default hours never stand in
for them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from civicloop.core.sla.policy import SLA, due_at, escalate_at, remind_at

pytestmark = pytest.mark.django_db

CN = ZoneInfo("Asia/Shanghai")
SHORT_HOURS = [["09:00", "11:00"], ["13:00", "16:00"]]


def cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CN)


MONDAY = cn(2026, 11, 2, 9, 0)


def test_working_hours_are_counted_in_the_units_own_hours() -> None:
    # 6 office hours from 09:00: 09-11 and 13-16 on Monday, 09-10 on Tuesday
    six = SLA(6, "workhour")
    assert due_at(start=MONDAY, sla=six, office_hours=SHORT_HOURS) == cn(2026, 11, 3, 10, 0)
    assert due_at(start=MONDAY, sla=six) == cn(2026, 11, 2, 17, 0)


def test_a_working_day_ends_when_the_unit_closes() -> None:
    assert due_at(start=MONDAY, sla=SLA(2, "workday"), office_hours=SHORT_HOURS) == cn(
        2026, 11, 4, 16, 0
    )
    assert escalate_at(due=cn(2026, 11, 4, 16, 0), office_hours=SHORT_HOURS) == cn(
        2026, 11, 5, 16, 0
    )


def test_the_reminder_comes_at_the_units_opening_on_the_last_day() -> None:
    due = cn(2026, 11, 4, 16, 0)
    assert remind_at(start=MONDAY, due=due, office_hours=SHORT_HOURS) == cn(2026, 11, 4, 9, 0)
    assert remind_at(start=MONDAY, due=due) == cn(2026, 11, 4, 8, 30)


def test_a_short_limits_reminder_is_an_office_hour_before_in_the_units_hours() -> None:
    # started 09:00, due 14:00 the same day: one office hour before is 13:00 in short
    # hours (11:00-13:00 is closed), the close of 11:00 moving to the 13:00 opening
    due = cn(2026, 11, 2, 14, 0)
    short = remind_at(start=MONDAY, due=due, office_hours=SHORT_HOURS)
    assert short == cn(2026, 11, 2, 13, 0)
    assert remind_at(start=MONDAY, due=due) != short


# --------------------------------------------------------------------------- refusals


def test_a_datetime_is_no_date_and_a_naive_time_no_moment() -> None:
    from datetime import timedelta

    from civicloop.core.sla.working_days import (
        add_office_time,
        add_workdays,
        office_time_between,
        workdays_between,
    )

    with pytest.raises(TypeError, match="not a datetime"):
        add_workdays(MONDAY, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a datetime"):
        workdays_between(MONDAY, MONDAY.date())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a datetime"):
        workdays_between(MONDAY.date(), MONDAY)  # type: ignore[arg-type]
    naive = datetime(2026, 11, 2, 9, 0)
    with pytest.raises(ValueError, match=r"^start must be an aware datetime$"):
        office_time_between(naive, MONDAY)
    with pytest.raises(ValueError, match=r"^end must be an aware datetime$"):
        office_time_between(MONDAY, naive)
    with pytest.raises(ValueError, match=r"^start must be an aware datetime$"):
        add_office_time(naive, timedelta(hours=1))
    with pytest.raises(ValueError, match=r"^duration must not be negative$"):
        add_office_time(MONDAY, timedelta(hours=-1))
    with pytest.raises(ValueError, match=r"^start must be an aware datetime$"):
        due_at(start=naive, sla=SLA(1, "workday"))
    with pytest.raises(ValueError, match=r"^start must be an aware datetime$"):
        remind_at(start=naive, due=MONDAY)
