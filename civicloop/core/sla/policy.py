"""SLA time limits ("3个工作日", "5个工作时") and the deadlines they give.

Guarantees: deadlines are aware datetimes in Asia/Shanghai, computed only from the
calendar table (an unknown year raises CalendarYearUnknown) and office hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.utils.translation import gettext as _

from civicloop.core.sla.working_days import (
    CHINA_TZ,
    OfficeHours,
    add_office_time,
    add_work_hours,
    add_workdays,
    office_time_between,
    parse_office_hours,
)

SLAUnit = Literal["workday", "workhour"]
_CODES: dict[str, SLAUnit] = {"wd": "workday", "wh": "workhour"}
_PATTERN = re.compile(r"^\s*(\d+)\s*(wd|wh)\s*$", re.IGNORECASE)

# Our own rule, not a regulation: a reminder comes at least one office hour after the
# step began and at least one office hour before its deadline (see remind_at).
REMIND_LEAD = timedelta(hours=1)


@dataclass(frozen=True)
class SLA:
    """A time limit: `amount` working days or working (office) hours, amount >= 1."""

    amount: int
    unit: SLAUnit

    def __post_init__(self) -> None:
        if self.unit not in _CODES.values():
            raise ValueError(f"unknown SLA unit {self.unit!r}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise ValueError(f"SLA amount must be a positive integer, not {self.amount!r}")

    @classmethod
    def parse(cls, code: str) -> SLA:
        """'3wd' -> 3 working days, '5wh' -> 5 working hours. Raises ValueError."""
        match = _PATTERN.match(code or "")
        if not match:
            raise ValueError(f"not an SLA code (like '3wd' or '5wh'): {code!r}")
        return cls(amount=int(match[1]), unit=_CODES[match[2].lower()])

    @property
    def code(self) -> str:
        """The inverse of `parse`: '3wd', '5wh'."""
        suffix = "wd" if self.unit == "workday" else "wh"
        return f"{self.amount}{suffix}"

    @property
    def label(self) -> str:
        """User-facing text: '3个工作日', '5个工作时'."""
        if self.unit == "workday":
            return _("%(n)d个工作日") % {"n": self.amount}
        return _("%(n)d个工作时") % {"n": self.amount}

    def __str__(self) -> str:
        return self.label


def due_at(*, start: datetime, sla: SLA, office_hours: OfficeHours | None = None) -> datetime:
    """The deadline of `sla` for something received at `start` (aware).

    Working days: the end of the last office period (e.g. 17:30) of the day
    `add_workdays(local date of start, amount)`; the day of receipt never counts.
    Working hours: `add_work_hours(start, amount, office_hours)`.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    if sla.unit == "workhour":
        return add_work_hours(start, sla.amount, office_hours)
    periods = parse_office_hours(office_hours)
    due_date = add_workdays(start.astimezone(CHINA_TZ).date(), sla.amount)
    return datetime.combine(due_date, periods[-1][1], tzinfo=CHINA_TZ)


def remind_at(
    *, start: datetime, due: datetime, office_hours: OfficeHours | None = None
) -> datetime:
    """When to send the "about to expire" reminder of a step that began at `start` and
    is due at `due`; all in office time of working days, never in wall-clock time.

    The rule:
    - On the opening (e.g. 08:30) of the office day on which the deadline falls, so
      the holder starts the last day knowing it is the last. The deadline's office day
      is the day of its last office moment: a deadline at 08:00, or on a holiday,
      belongs to the office day before it.
    - Unless that opening is less than `REMIND_LEAD` (one office hour) after the step
      began (the step began on the deadline's day, or just before it) or less than
      `REMIND_LEAD` before the deadline (a deadline early in its day): then
      `REMIND_LEAD` of office time before the deadline, and halfway through the
      office time of a limit shorter than twice `REMIND_LEAD`.
    - A moment that falls at the end of an office period (12:00, 17:30) moves to the
      next opening, when someone is there to read the reminder.

    Guaranteed: `start < result <= due` whenever there is office time between them,
    and the result lies in an office period of a working day; `due` itself when there
    is none. Raises CalendarYearUnknown like every computation here."""
    periods = parse_office_hours(office_hours)
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    local_due = due.astimezone(CHINA_TZ)
    total = office_time_between(start, due, office_hours)
    if not total:
        return local_due
    last_office_moment = add_office_time(start, total, office_hours)
    opening = datetime.combine(last_office_moment.date(), periods[0][0], tzinfo=CHINA_TZ)
    if (
        office_time_between(start, opening, office_hours) >= REMIND_LEAD
        and office_time_between(opening, due, office_hours) >= REMIND_LEAD
    ):
        return opening
    lead = min(REMIND_LEAD, total / 2)
    moment = add_office_time(start, total - lead, office_hours)
    # Zero office time from a period's end is the next period's opening.
    return min(add_office_time(moment, timedelta(0), office_hours), local_due)


def escalate_at(*, due: datetime, office_hours: OfficeHours | None = None) -> datetime:
    """When a step still open after its deadline goes up to the supervising unit: one
    working day after the deadline, i.e. the close of office (e.g. 17:30) of the next
    working day after the deadline's date. Always later than `due`."""
    return due_at(start=due, sla=SLA(1, "workday"), office_hours=office_hours)
