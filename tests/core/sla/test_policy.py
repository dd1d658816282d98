from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicloop.core.sla.policy import SLA, due_at, escalate_at, remind_at
from civicloop.core.sla.working_days import is_workday, parse_office_hours

CN = ZoneInfo("Asia/Shanghai")


def cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CN)


@pytest.mark.parametrize(
    ("code", "sla", "label"),
    [
        ("3wd", SLA(3, "workday"), "3个工作日"),
        ("5wh", SLA(5, "workhour"), "5个工作时"),
        (" 15WD ", SLA(15, "workday"), "15个工作日"),
    ],
)
def test_parse_and_label(code, sla, label):
    assert SLA.parse(code) == sla
    assert sla.label == label
    assert SLA.parse(sla.code) == sla


@pytest.mark.parametrize("code", ["", "3", "wd", "3d", "-3wd", "0wd", "3.5wh"])
def test_parse_refuses_anything_else(code):
    with pytest.raises(ValueError):
        SLA.parse(code)


@pytest.mark.django_db
def test_workday_deadline_is_closing_time_of_the_last_day():
    # Received Wed 2026-09-30 10:00 with 3 working days: closes Sat 10-10 (make-up) 17:30
    due = due_at(start=cn(2026, 9, 30, 10, 0), sla=SLA.parse("3wd"))
    assert due == cn(2026, 10, 10, 17, 30)


@pytest.mark.django_db
def test_workday_deadline_uses_the_china_date_of_an_utc_start():
    # 2026-09-30 17:00 UTC is already 10-01 01:00 in Shanghai (a holiday)
    due = due_at(start=datetime(2026, 9, 30, 17, 0, tzinfo=ZoneInfo("UTC")), sla=SLA(1, "workday"))
    assert due == cn(2026, 10, 8, 17, 30)


@pytest.mark.django_db
def test_workday_deadline_ends_at_the_units_own_closing_time():
    due = due_at(
        start=cn(2026, 3, 9, 10, 0), sla=SLA(1, "workday"), office_hours=[["09:00", "17:00"]]
    )
    assert due == cn(2026, 3, 10, 17, 0)


@pytest.mark.django_db
def test_workhour_deadline():
    assert due_at(start=cn(2026, 3, 6, 16, 30), sla=SLA.parse("5wh")) == cn(2026, 3, 9, 14, 30)


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        due_at(start=datetime(2026, 3, 9, 10, 0), sla=SLA(1, "workday"))


@pytest.mark.django_db
def test_a_five_day_limit_is_reminded_at_the_opening_of_its_last_day():
    # Given 5 working days from Mon 2026-03-09 17:30 (closing time): due Mon 03-16 17:30
    start = cn(2026, 3, 9, 17, 30)
    due = due_at(start=start, sla=SLA(5, "workday"))
    assert due == cn(2026, 3, 16, 17, 30)
    # Then the reminder comes when the office opens on the deadline's day, not on the
    # evening before (which is the same office moment)
    assert remind_at(start=start, due=due) == cn(2026, 3, 16, 8, 30)
    # And with the unit's own office hours, at its own opening
    hours = [["09:00", "12:00"], ["13:30", "18:00"]]
    due = due_at(start=start, sla=SLA(5, "workday"), office_hours=hours)
    assert remind_at(start=start, due=due, office_hours=hours) == cn(2026, 3, 16, 9, 0)


@pytest.mark.django_db
def test_a_limit_across_a_holiday_is_reminded_on_its_last_office_day():
    # Given 3 working days from Wed 2026-09-30: due Sat 10-10 (a make-up workday)
    start = cn(2026, 9, 30, 10, 0)
    due = due_at(start=start, sla=SLA(3, "workday"))
    assert due == cn(2026, 10, 10, 17, 30)
    # Then the reminder is that Saturday's opening, not 80 % of the wall-clock span
    # (which would fall in the National Day holiday)
    assert remind_at(start=start, due=due) == cn(2026, 10, 10, 8, 30)


@pytest.mark.django_db
def test_a_work_hour_limit_ending_on_the_next_day_is_reminded_at_its_opening():
    # Given 5 working hours from Fri 16:30: due Mon 14:30
    start = cn(2026, 3, 6, 16, 30)
    due = due_at(start=start, sla=SLA(5, "workhour"))
    assert due == cn(2026, 3, 9, 14, 30)
    # Then the holder hears on Monday morning that it ends that day
    assert remind_at(start=start, due=due) == cn(2026, 3, 9, 8, 30)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "sla", "due", "remind"),
    [
        # Within one office day: one office hour before the deadline
        (cn(2026, 3, 9, 9, 0), "3wh", cn(2026, 3, 9, 12, 0), cn(2026, 3, 9, 11, 0)),
        # One office hour before 15:00 is 14:00 (12:00 is the same office moment, when
        # nobody is there to read it)
        (cn(2026, 3, 9, 10, 0), "3wh", cn(2026, 3, 9, 15, 0), cn(2026, 3, 9, 14, 0)),
        # Shorter than two office hours: halfway through
        (cn(2026, 3, 9, 9, 0), "1wh", cn(2026, 3, 9, 10, 0), cn(2026, 3, 9, 9, 30)),
        # Begun late on the day before: the opening would come 30 minutes after the start,
        # so one office hour before the deadline instead
        (cn(2026, 3, 9, 17, 0), "2wh", cn(2026, 3, 10, 10, 0), cn(2026, 3, 10, 9, 0)),
    ],
)
def test_a_short_limit_is_reminded_an_office_hour_before_it_ends(start, sla, due, remind):
    assert due_at(start=start, sla=SLA.parse(sla)) == due
    assert remind_at(start=start, due=due) == remind


@pytest.mark.django_db
def test_a_deadline_early_in_its_day_is_reminded_the_office_hour_before():
    # Given a deadline at 09:00 (an extension may set any time), 30 office minutes into
    # its day
    start = cn(2026, 3, 9, 9, 0)
    due = cn(2026, 3, 12, 9, 0)
    # Then the reminder comes one office hour before it: 17:00 the day before
    assert remind_at(start=start, due=due) == cn(2026, 3, 11, 17, 0)


@pytest.mark.django_db
def test_reminder_without_office_time_is_the_due_time():
    due = cn(2026, 10, 3, 12, 0)
    assert remind_at(start=cn(2026, 10, 2, 9, 0), due=due) == due


@pytest.mark.django_db
def test_escalation_comes_one_working_day_after_the_deadline():
    # Due Wed 2026-09-30 17:30 is followed by the National Day holiday: the next
    # working day is Thu 10-08
    assert escalate_at(due=cn(2026, 9, 30, 17, 30)) == cn(2026, 10, 8, 17, 30)
    assert escalate_at(due=cn(2026, 3, 9, 14, 30)) == cn(2026, 3, 10, 17, 30)


@pytest.mark.django_db
@settings(deadline=None, max_examples=80)
@given(
    start=st.datetimes(
        min_value=datetime(2005, 1, 1), max_value=datetime(2026, 10, 31), timezones=st.just(CN)
    ),
    amount=st.integers(min_value=1, max_value=20),
    unit=st.sampled_from(["workday", "workhour"]),
)
def test_every_reminder_falls_in_office_hours_between_start_and_deadline(start, amount, unit):
    # Given any limit from any moment
    due = due_at(start=start, sla=SLA(amount, unit))
    # When its reminder and escalation are computed
    remind = remind_at(start=start, due=due)
    # Then the reminder lies after the start, not after the deadline, while the office is
    # open on a working day (never at a closing time), and the escalation after both
    assert start < remind <= due
    assert is_workday(remind.date())
    assert any(begin <= remind.time() < end for begin, end in parse_office_hours(None))
    assert escalate_at(due=due) > due
    # And a limit of several working days is reminded at its last day's opening
    if unit == "workday" and amount >= 2:
        opening = parse_office_hours(None)[0][0]
        assert remind == datetime.combine(due.date(), opening, tzinfo=CN)
