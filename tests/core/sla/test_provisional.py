"""A year the calendar has not confirmed is computed provisionally, never refused:
weekends plus the statutory holidays of the `holidays` package. Deadlines that cross
it are marked provisional on the case, its step, the pages and the API, and counted
again once an administrator (or a chinese-calendar release) confirms the year."""

from __future__ import annotations

import logging
from datetime import date
from io import StringIO

import pytest
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from civicloop.core.accounts.models import User
from civicloop.core.cases.deadlines import (
    RECOMPUTED_ENTRY,
    deadlines_recompute,
    deadlines_recompute_if_confirmed,
)
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import transition
from civicloop.core.sla import calendar_source, checks
from civicloop.core.sla.services import calendar_year_publish
from civicloop.core.sla.working_days import (
    is_workday,
    span_is_provisional,
    year_is_confirmed,
)
from tests.core.cases.helpers import at, opinion, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

# 15 working days (市级) from Mon 2026-12-21 10:05, with the provisional 2027: 元旦
# (Fri 01-01) off, so Tue 2027-01-12 at the close of office.
PROVISIONAL_DUE = "2027-01-12 17:30"


@pytest.fixture(autouse=True)
def _city(demo_city: None) -> None:
    """Wenling's units and staff, for the cases these tests dispatch."""


def dispatched_into_2027() -> Case:
    case = opinion(now=at("2026-12-21 10:00"))
    transition(case=case, action="accept", actor=user("station_zeguo"), now=at("2026-12-21 10:00"))
    return transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("dept-housing"),
        grade="city",
        now=at("2026-12-21 10:05"),
    )


def staff(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def publish_2027_with_an_extra_holiday_on_monday_01_04() -> None:
    # Hypothetical notice: 元旦 Fri 01-01 and Mon 01-04 off, so every deadline counted
    # across them moves one working day later than the provisional one.
    calendar_year_publish(
        year=2027,
        holidays=[(date(2027, 1, 1), "元旦"), (date(2027, 1, 4), "元旦")],
        workdays=[],
        note="国务院办公厅关于2027年部分节假日安排的通知",
    )


def test_an_unconfirmed_year_is_weekends_plus_statutory_holidays():
    # Given the table confirms 2004-2026 only
    assert year_is_confirmed(2026) and not year_is_confirmed(2027)
    # Then 2027 is computed: statutory holidays off, weekends off, no make-up days
    assert is_workday(date(2027, 1, 1)) is False  # 元旦, a Friday
    assert is_workday(date(2027, 2, 8)) is False  # 春节, a Monday
    assert is_workday(date(2027, 10, 1)) is False  # 国庆节, a Friday
    assert is_workday(date(2027, 1, 4)) is True
    assert is_workday(date(2027, 1, 9)) is False  # a Saturday stays off
    # And a span is provisional exactly when it touches 2027, read in China's time
    assert span_is_provisional(date(2026, 12, 1), date(2026, 12, 31)) is False
    assert span_is_provisional(date(2026, 12, 31), date(2027, 1, 4)) is True
    assert span_is_provisional(at("2026-12-31 10:00"), at("2027-01-01 00:30")) is True


def test_a_deadline_into_an_unconfirmed_year_is_computed_and_flagged():
    # When a case is dispatched on 2026-12-21 with 15 working days
    case = dispatched_into_2027()
    # Then it is not refused: the deadline is computed and flagged on case and step
    step = case.steps.get(ended_at__isnull=True)
    assert (case.due_at, case.due_provisional) == (at(PROVISIONAL_DUE), True)
    assert (step.due_at, step.due_provisional) == (at(PROVISIONAL_DUE), True)
    # And a deadline inside the confirmed year is not flagged
    november = opinion(now=at("2026-11-02 10:00"))
    assert november.due_provisional is False
    assert november.steps.get().due_provisional is False


def test_the_api_and_the_case_page_show_the_flag():
    # Given a provisional deadline and a confirmed one
    provisional = dispatched_into_2027()
    confirmed = opinion(now=at("2026-11-02 10:00"))
    client = staff("station_zeguo")
    # Then the API case detail says which is which
    detail = client.get(f"/api/v1/cases/{provisional.number}").json()
    assert detail["due_provisional"] is True
    assert client.get(f"/api/v1/cases/{confirmed.number}").json()["due_provisional"] is False
    # And the staff case page marks the provisional one, with an explanation
    page = client.get(reverse("web:case_detail", args=[provisional.number])).content.decode()
    assert "（暂定）" in page
    assert "尚未公布节假日安排" in page
    other = client.get(reverse("web:case_detail", args=[confirmed.number])).content.decode()
    assert "（暂定）" not in other


def test_confirming_the_year_recomputes_open_deadlines_and_clears_the_flag(
    django_capture_on_commit_callbacks,
):
    # Given a provisional deadline, claimed since (the claim keeps the dispatch's clock)
    case = dispatched_into_2027()
    case = transition(
        case=case, action="claim", actor=user("handler_housing"), now=at("2026-12-22 09:00")
    )
    # When an administrator publishes 2027's notice
    with django_capture_on_commit_callbacks(execute=True):
        publish_2027_with_an_extra_holiday_on_monday_01_04()
    # Then the deadline is counted again from the dispatch, one day later, confirmed
    case.refresh_from_db()
    step = case.steps.get(ended_at__isnull=True)
    assert (case.due_at, case.due_provisional) == (at("2027-01-13 17:30"), False)
    assert (step.due_at, step.escalate_at, step.due_provisional) == (
        at("2027-01-13 17:30"),
        at("2027-01-14 17:30"),
        False,
    )
    assert step.remind_at == at("2027-01-13 08:30")
    # And the timeline records the move
    entry = case.timeline.get(action=RECOMPUTED_ENTRY)
    assert entry.data["old_due_at"] == at(PROVISIONAL_DUE).isoformat()
    assert entry.data["new_due_at"] == at("2027-01-13 17:30").isoformat()
    # And recomputing again changes nothing
    assert deadlines_recompute().moved == 0
    assert case.timeline.filter(action=RECOMPUTED_ENTRY).count() == 1


def test_confirming_the_year_in_the_admin_recomputes(django_capture_on_commit_callbacks):
    # Given a provisional deadline
    case = dispatched_into_2027()
    admin = User.objects.create_superuser("calendar_admin", password="x")
    client = Client()
    client.force_login(admin)
    # When an administrator enters 2027 on the admin's calendar page
    form = {
        "year": "2027",
        "is_published": "on",
        "source": "admin",
        "note": "国务院办公厅通知",
        "days-TOTAL_FORMS": "2",
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2027-01-01",
        "days-0-name": "元旦",
        "days-1-date": "2027-01-04",
        "days-1-name": "元旦",
        "_save": "保存",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:sla_calendaryear_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    # Then the deadline follows the confirmed year
    case.refresh_from_db()
    assert (case.due_at, case.due_provisional) == (at("2027-01-13 17:30"), False)


def test_seeding_a_chinese_calendar_that_knows_the_year_recomputes(
    monkeypatch, django_capture_on_commit_callbacks
):
    # Given a provisional deadline, and a chinese-calendar release that knows 2027
    case = dispatched_into_2027()
    known = calendar_source.library_years()
    monkeypatch.setattr(calendar_source, "library_years", lambda: [*known, 2027])
    real_days = calendar_source.library_days
    extra = {date(2027, 1, 1): (False, "元旦"), date(2027, 1, 4): (False, "元旦")}
    monkeypatch.setattr(
        calendar_source, "library_days", lambda y: extra if y == 2027 else real_days(y)
    )
    # When it is seeded
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_calendar", stdout=StringIO())
    # Then 2027 is confirmed and the deadline recomputed
    case.refresh_from_db()
    assert year_is_confirmed(2027)
    assert (case.due_at, case.due_provisional) == (at("2027-01-13 17:30"), False)


def test_the_sweep_recomputes_what_a_lost_confirmation_left_behind():
    # Given a provisional deadline, and 2027 confirmed without the recompute running
    # (the transaction's after-commit work never runs inside this test's transaction)
    case = dispatched_into_2027()
    publish_2027_with_an_extra_holiday_on_monday_01_04()
    assert Case.objects.get(pk=case.pk).due_provisional is True
    # When the SLA sweep's safety net runs
    moved = deadlines_recompute_if_confirmed(now=at("2026-12-22 10:00"))
    # Then the deadline is counted with the confirmed year
    case.refresh_from_db()
    assert moved == 1
    assert (case.due_at, case.due_provisional) == (at("2027-01-13 17:30"), False)
    # And with nothing left behind it does nothing
    assert deadlines_recompute_if_confirmed(now=at("2026-12-22 10:00")) == 0


def test_admins_are_warned_from_october_that_next_year_is_not_confirmed(monkeypatch):
    # Given 2027 is not confirmed: no warning in September, one from October 1st
    assert checks.calendar_warning(today=date(2026, 9, 30)) is None
    warning = checks.calendar_warning(today=date(2026, 10, 1))
    assert warning is not None and "2027" in warning
    # Then the database system checks (migrate, check --database) carry it
    monkeypatch.setattr(checks, "_today", lambda: date(2026, 10, 1))
    found = run_checks(tags=[Tags.database], databases=["default"])
    assert [m.id for m in found if m.id == checks.WARNING_ID] == [checks.WARNING_ID]
    # And the admin's calendar page shows it
    admin = User.objects.create_superuser("calendar_admin", password="x")
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("admin:sla_calendaryear_changelist")).content.decode()
    assert "尚未确认 2027 年" in page
    # And once 2027 is published, nothing warns
    publish_2027_with_an_extra_holiday_on_monday_01_04()
    assert checks.calendar_warning(today=date(2026, 10, 1)) is None
    assert not [
        m
        for m in run_checks(tags=[Tags.database], databases=["default"])
        if m.id == checks.WARNING_ID
    ]


def test_the_sla_sweep_logs_the_warning_once_a_day(monkeypatch, caplog):
    from civicloop.core.cases.tasks import sla_sweep

    # Given October 2026 with 2027 not confirmed
    monkeypatch.setattr(checks, "_today", lambda: date(2026, 10, 1))
    # When the SLA sweep runs twice that day
    with caplog.at_level(logging.WARNING, logger="civicloop.core.sla.checks"):
        sla_sweep()
        sla_sweep()
    # Then the log says it once
    logged = [r for r in caplog.records if checks.WARNING_ID in r.getMessage()]
    assert len(logged) == 1
    assert "2027" in logged[0].getMessage()
