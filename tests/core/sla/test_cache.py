"""The per-process snapshot: read once, reused without queries, reloaded when the
shared version moves (another process changed the table) or after a local change."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache

from civicloop.core.sla import working_days
from civicloop.core.sla.models import CalendarDay
from civicloop.core.sla.services import calendar_year_publish
from civicloop.core.sla.working_days import VERSION_CACHE_KEY, add_workdays, is_workday

pytestmark = pytest.mark.django_db


def test_the_snapshot_is_reused_without_queries(django_assert_num_queries):
    is_workday(date(2026, 10, 8))
    with django_assert_num_queries(0):
        assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_the_shared_version_is_bumped_only_on_commit(django_capture_on_commit_callbacks):
    before = cache.get(VERSION_CACHE_KEY, 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        calendar_year_publish(year=2027, holidays=[], workdays=[])
    assert cache.get(VERSION_CACHE_KEY, 0) == before
    for callback in callbacks:
        callback()
    assert cache.get(VERSION_CACHE_KEY, 0) > before


def test_another_process_change_is_seen_after_the_recheck_interval(monkeypatch):
    # Given this process's snapshot says 2026-10-08 is a workday
    assert is_workday(date(2026, 10, 8)) is True
    # When another process adds a holiday (no local signal: a queryset bulk write)
    # and bumps the shared version
    CalendarDay.objects.bulk_create(
        [CalendarDay(year_id=2026, date=date(2026, 10, 8), is_workday=False, name="x")]
    )
    cache.add(VERSION_CACHE_KEY, 0, timeout=None)
    cache.incr(VERSION_CACHE_KEY)
    # Then it is not seen before the recheck interval, and is seen after it
    assert is_workday(date(2026, 10, 8)) is True
    monkeypatch.setattr(working_days, "RECHECK_SECONDS", 0.0)
    assert is_workday(date(2026, 10, 8)) is False
