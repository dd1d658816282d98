"""Administrators extend the calendar through the admin (日历 → 年份)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from civicloop.core.sla.models import CalendarDay, CalendarSource, CalendarYear
from civicloop.core.sla.working_days import add_workdays, is_workday

pytestmark = [
    pytest.mark.django_db,
    # WhiteNoise warns that collectstatic has not run; irrelevant to these tests.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        username="calendar-admin", email="admin@example.org", password="not-used-here-123"
    )
    client.force_login(user)
    return client


def year_form(year: str, days: list[tuple[str, bool, str]]) -> dict[str, str]:
    """The add form's POST: the year's fields plus the inline formset ("days-")."""
    data = {
        "year": year,
        "is_published": "on",
        "source": CalendarSource.ADMIN,
        "note": "国务院办公厅关于2027年部分节假日安排的通知",
        "days-TOTAL_FORMS": str(len(days)),
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    for i, (day, makeup, name) in enumerate(days):
        data[f"days-{i}-date"] = day
        data[f"days-{i}-name"] = name
        if makeup:
            data[f"days-{i}-is_workday"] = "on"
    return data


def test_2027_entered_in_the_admin_is_used_at_once(admin_client):
    # Given 2027 is provisional, and this process has already computed with it
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)

    # When an administrator adds 2027 with a holiday on Monday 01-04
    # and a make-up workday on Saturday 01-09
    response = admin_client.post(
        reverse("admin:sla_calendaryear_add"),
        year_form(
            "2027",
            [
                ("2027-01-01", False, "元旦"),
                ("2027-01-04", False, "元旦"),
                ("2027-01-09", True, "调休上班"),
            ],
        ),
    )

    # Then it is saved
    assert response.status_code == 302, response.content.decode()[:2000]
    row = CalendarYear.objects.get(year=2027)
    assert (row.is_published, row.source) == (True, CalendarSource.ADMIN)
    assert CalendarDay.objects.filter(year=row).count() == 3
    # And computations in 2027 work and honour the new holiday and make-up day
    assert is_workday(date(2027, 1, 4)) is False
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 5)
    assert add_workdays(date(2027, 1, 8), 1) == date(2027, 1, 9)


def test_a_holiday_added_to_an_existing_year_in_the_admin_is_honoured(admin_client):
    # Given 2026-10-08 is an ordinary workday
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    existing = CalendarYear.objects.get(year=2026)
    days = list(existing.days.order_by("date"))

    # When an administrator adds it as a holiday on the change form
    data = {
        "is_published": "on",
        "source": existing.source,
        "note": existing.note,
        "days-TOTAL_FORMS": str(len(days) + 1),
        "days-INITIAL_FORMS": str(len(days)),
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    for i, day in enumerate(days):
        data |= {
            f"days-{i}-id": str(day.pk),
            f"days-{i}-year": "2026",
            f"days-{i}-date": day.date.isoformat(),
            f"days-{i}-name": day.name,
        }
        if day.is_workday:
            data[f"days-{i}-is_workday"] = "on"
    data |= {f"days-{len(days)}-date": "2026-10-08", f"days-{len(days)}-name": "测试假日"}
    response = admin_client.post(reverse("admin:sla_calendaryear_change", args=[2026]), data)

    # Then the next computation skips it
    assert response.status_code == 302, response.content.decode()[:2000]
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 9)


def test_the_admin_refuses_a_date_outside_the_year(admin_client):
    response = admin_client.post(
        reverse("admin:sla_calendaryear_add"),
        year_form("2027", [("2028-01-01", False, "元旦")]),
    )
    assert response.status_code == 200
    assert "不在 2027 年内" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_admin_pages_render(admin_client):
    changelist = admin_client.get(reverse("admin:sla_calendaryear_changelist"))
    change = admin_client.get(reverse("admin:sla_calendaryear_change", args=[2026]))
    index = admin_client.get(reverse("admin:index"))
    assert changelist.status_code == change.status_code == index.status_code == 200
    assert "日历" in index.content.decode()
    assert "年份" in index.content.decode()
    assert "国庆节调休上班" in change.content.decode()
