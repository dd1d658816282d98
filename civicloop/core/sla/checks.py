"""Warning administrators, from October on, that next year's calendar is not confirmed.

The State Council publishes the next year's holiday arrangement around November; until
an administrator enters it (or `seed_calendar` loads a chinese-calendar release with it)
deadlines reaching into that year are provisional. The warning appears as a system check
(`manage.py migrate`, `manage.py check --database default`), on the admin's calendar
page, and once a day in the log of the SLA sweep (`calendar_warning_log`)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.core.cache import cache
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.core.sla.working_days import CHINA_TZ, year_is_confirmed

logger = logging.getLogger(__name__)

# From this month on, next year's arrangement is due (our rule: the notice usually comes
# in October or November) and a 15-working-day deadline soon reaches into it.
WARN_FROM_MONTH = 10
WARNING_ID = "sla.W001"
_LOGGED_KEY = "civicloop:sla:calendar-warning-logged:{day}"


def _today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


def calendar_unconfirmed_years(*, today: date | None = None) -> list[int]:
    """The years the calendar should already confirm and does not: this year always,
    next year from October on."""
    today = today or _today()
    years = [today.year]
    if today.month >= WARN_FROM_MONTH:
        years.append(today.year + 1)
    return [y for y in years if not year_is_confirmed(y)]


def calendar_warning(*, today: date | None = None) -> str | None:
    """The warning for administrators, or None when the calendar is complete."""
    years = calendar_unconfirmed_years(today=today)
    if not years:
        return None
    return _(
        "工作日历尚未确认 %(years)s 年的节假日安排：涉及该年的办理期限按法定节假日暂算"
        "（标注“暂定”）。国务院办公厅通知发布后，请在管理后台 日历 → 年份 中录入并勾选"
        "“已发布”，或升级 chinese-calendar 后执行 manage.py seed_calendar；"
        "暂定期限将自动重算。"
    ) % {"years": "、".join(str(y) for y in years)}


@register(Tags.database)
def check_calendar_confirmed(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Runs with the database checks (`migrate`, `check --database default`); every
    other command's checks pass no database and get nothing from here."""
    if not databases:
        return []
    try:
        message = calendar_warning()
    except DatabaseError:
        # Not migrated yet: migrate itself creates the table.
        return []
    if message is None:
        return []
    return [CheckWarning(message, id=WARNING_ID)]


def calendar_warning_log(*, today: date | None = None) -> str | None:
    """Log the warning at WARNING level, at most once a day per shared cache; returns
    the warning (logged or not) for the caller's report."""
    today = today or _today()
    message = calendar_warning(today=today)
    if message is None:
        return None
    try:
        first_today = cache.add(_LOGGED_KEY.format(day=today.isoformat()), 1, timeout=86_400)
    except Exception:
        first_today = True
    if first_today:
        logger.warning("%s (%s)", message, WARNING_ID)
    return message
