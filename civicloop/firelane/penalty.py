"""The legal constants and arithmetic of the fire-lane penalty procedure (行政处罚法):
the statement period, the decision's payment period and its rights, and the late-payment
surcharge. Read by the notices, the owner's page and the payments alike."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from civicloop.core.sla.working_days import add_workdays

# 行政处罚法 第七十二条第一款第（一）项: 到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款，
# 加处罚款的数额不得超出罚款的数额.
LATE_PERCENT_PER_DAY = 3
# 行政处罚法 第六十七条第三款: 当事人应当自收到行政处罚决定书之日起十五日内缴纳罚款.
PAYMENT_PERIOD_DAYS_DEFAULT = 15
# 行政复议法 第二十条: 自知道该行政行为之日起六十日内提出行政复议申请.
REVIEW_APPLICATION_DAYS = 60
# 行政诉讼法 第四十六条: 自知道或者应当知道作出行政行为之日起六个月内提出.
LAWSUIT_MONTHS = 6


def statement_days() -> int:
    """The working days the owner has to state their case (陈述、申辩), from the setting.
    Working days: 行政处罚法 第八十五条 counts its short periods in working days."""
    return int(getattr(settings, "FIRELANE_STATEMENT_DAYS", 3))


def payment_days() -> int:
    """The days the owner has to pay after the decision (第六十七条: fifteen)."""
    return int(getattr(settings, "FIRELANE_PAYMENT_DAYS", PAYMENT_PERIOD_DAYS_DEFAULT))


def _end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def statement_due(*, served_at: datetime) -> datetime:
    """The end of the statement period: the last moment of the `statement_days()`-th
    working day after the day the notice was served (the serving day does not count)."""
    return _end_of_day(add_workdays(timezone.localtime(served_at).date(), statement_days()))


def payment_due(*, decided_at: datetime) -> date:
    """The last day to pay without surcharge: `payment_days()` calendar days after the
    day of the decision (the decision day does not count)."""
    return timezone.localtime(decided_at).date() + timedelta(days=payment_days())


def late_days(*, due: date, today: date) -> int:
    """Whole days past the payment date (0 on or before it)."""
    return max(0, (today - due).days)


def late_fee_fen(*, fine_fen: int, due: date, today: date) -> int:
    """The surcharge of 第七十二条: 3 % of the fine for each day past `due`, never more
    than the fine itself; in whole fen, rounded down (never above what the law allows)."""
    days = late_days(due=due, today=today)
    return min(fine_fen, fine_fen * LATE_PERCENT_PER_DAY * days // 100)
