"""`manage.py seed_calendar`: load the installed chinese-calendar library's years
into the calendar table. Idempotent; years entered by administrators are kept. A year
it adds is confirmed: open deadlines counted provisionally are counted again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from civicloop.core.sla.calendar_source import chinese_calendar_version, seed_from_library
from civicloop.core.sla.models import CalendarDay, CalendarYear
from civicloop.core.sla.services import deadlines_recompute_on_commit
from civicloop.core.sla.working_days import calendar_changed


def _years(years: list[int]) -> str:
    return ", ".join(str(y) for y in years) or "-"


class Command(BaseCommand):
    help = "从已安装的 chinese-calendar 库补充工作日历（可重复执行；管理员录入的年份不会被覆盖）"

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            report = seed_from_library(CalendarYear, CalendarDay)
            if report.changed:
                calendar_changed()
                # A release that knows a provisional year confirms it.
                deadlines_recompute_on_commit()
        self.stdout.write(
            f"chinese-calendar {chinese_calendar_version()}: "
            f"created {_years(report.created_years)}; updated {_years(report.updated_years)}; "
            f"unchanged {len(report.unchanged_years)} years; "
            f"kept admin years {_years(report.skipped_admin_years)}; "
            f"days written {report.days_written}, deleted {report.days_deleted}"
        )
