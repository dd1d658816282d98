from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from civicloop.core.sla.policy import SLA, due_at, remind_at

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
def test_reminder_of_a_five_day_limit_comes_with_one_working_day_left():
    # Given 5 working days from Mon 2026-03-09 17:30 (closing time): due Mon 03-16 17:30
    start = cn(2026, 3, 9, 17, 30)
    due = due_at(start=start, sla=SLA(5, "workday"))
    assert due == cn(2026, 3, 16, 17, 30)
    # When 20% of the office time is left, exactly one working day remains
    assert remind_at(start=start, due=due) == cn(2026, 3, 13, 17, 30)


@pytest.mark.django_db
def test_reminder_of_a_five_hour_limit_comes_with_one_hour_left():
    start = cn(2026, 3, 6, 16, 30)
    due = due_at(start=start, sla=SLA(5, "workhour"))
    # Due Mon 14:30; one office hour before is 11:30 (14:00-14:30 and 11:30-12:00)
    assert due == cn(2026, 3, 9, 14, 30)
    assert remind_at(start=start, due=due) == cn(2026, 3, 9, 11, 30)
    assert remind_at(start=start, due=due, fraction_left=Decimal("0.5")) == cn(2026, 3, 9, 10, 0)


@pytest.mark.django_db
def test_reminder_without_office_time_is_the_due_time():
    due = cn(2026, 10, 3, 12, 0)
    assert remind_at(start=cn(2026, 10, 2, 9, 0), due=due) == due


def test_reminder_fraction_must_be_a_fraction():
    with pytest.raises(ValueError):
        remind_at(start=cn(2026, 3, 9, 9, 0), due=cn(2026, 3, 10, 9, 0), fraction_left=1.5)
