"""SLA time limits ("3个工作日", "5个工作时") and the deadlines they give.

Guarantees: deadlines are aware datetimes in Asia/Shanghai, computed only from the
calendar table (an unknown year raises CalendarYearUnknown) and office hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
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

# Remind when a fifth of the office time is left: 1 working day of a 5-day limit,
# 1 hour of a 5-hour limit.
DEFAULT_REMIND_FRACTION_LEFT = Decimal("0.2")
_MICROSECOND = timedelta(microseconds=1)


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
    *,
    start: datetime,
    due: datetime,
    fraction_left: Decimal | float = DEFAULT_REMIND_FRACTION_LEFT,
    office_hours: OfficeHours | None = None,
) -> datetime:
    """When to send the "about to expire" reminder: the moment at which
    `fraction_left` of the office time between `start` and `due` remains.

    Measured in office time, so for the default 0.2 a 5-working-day limit reminds
    when exactly 1 working day is left, and nights/holidays never eat the warning.
    Guaranteed `result <= due`; `due` itself when there is no office time between.
    """
    fraction = Decimal(str(fraction_left))
    if not Decimal(0) <= fraction <= Decimal(1):
        raise ValueError("fraction_left must be between 0 and 1")
    total = office_time_between(start, due, office_hours)
    if not total:
        return due.astimezone(CHINA_TZ)
    total_us = Decimal(total // _MICROSECOND)
    used = (total_us * (1 - fraction)).to_integral_value()
    return min(
        add_office_time(start, _MICROSECOND * int(used), office_hours),
        due.astimezone(CHINA_TZ),
    )
