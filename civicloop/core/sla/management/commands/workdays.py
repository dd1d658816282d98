"""`manage.py workdays 2026-09-30 +3` prints the date 3 working days later (2026-10-10).

The count may be `+3`, `3` or `-3`. When the days counted cross a year the calendar
has not confirmed (the State Council's notice not entered yet), the date is computed
with the provisional year and marked, e.g. `2027-01-11 (provisional: 2027 not
confirmed)`. A malformed date or count, or a year outside every calendar source, is an
error on stderr with exit status 1.
"""

from __future__ import annotations

import re
from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from civicloop.core.sla.working_days import (
    CalendarYearUnknown,
    add_workdays,
    span_is_provisional,
    year_is_confirmed,
)

_COUNT = re.compile(r"^[+-]?\d+$")


class Command(BaseCommand):
    help = "计算某日之后（或之前）第 N 个工作日，例如：workdays 2026-09-30 +3"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("date", help="YYYY-MM-DD")
        parser.add_argument("count", help="+N, N or -N working days")

    def handle(self, *args: Any, **options: Any) -> None:
        raw_date, raw_count = str(options["date"]), str(options["count"]).strip()
        try:
            start = date.fromisoformat(raw_date)
        except ValueError as exc:
            raise CommandError(
                _("日期格式错误：%(value)s（应为 YYYY-MM-DD）") % {"value": raw_date}
            ) from exc
        if not _COUNT.match(raw_count):
            raise CommandError(
                _("工作日数格式错误：%(value)s（应为 +3、3 或 -3）") % {"value": raw_count}
            )
        try:
            result = add_workdays(start, int(raw_count))
        except CalendarYearUnknown as exc:
            raise CommandError(str(exc)) from exc
        if not span_is_provisional(start, result):
            self.stdout.write(result.isoformat())
            return
        # Machine-read output: the mark is in English, like the date, whatever the locale.
        years = range(min(start, result).year, max(start, result).year + 1)
        unconfirmed = ", ".join(str(y) for y in years if not year_is_confirmed(y))
        self.stdout.write(f"{result.isoformat()} (provisional: {unconfirmed} not confirmed)")
