from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from civicloop.core.sla.models import CalendarDay, CalendarSource, CalendarYear
from civicloop.core.sla.services import calendar_year_publish

pytestmark = pytest.mark.django_db


def test_publish_creates_a_published_admin_year_with_its_days():
    row = calendar_year_publish(
        year=2027,
        holidays=[(date(2027, 1, 1), "元旦"), (date(2027, 10, 1), "国庆节")],
        workdays=[(date(2027, 9, 26), "国庆节调休上班")],
        note="国办发明电〔2026〕X号",
    )
    assert (row.year, row.is_published, row.source) == (2027, True, CalendarSource.ADMIN)
    assert list(row.days.order_by("date").values_list("date", "is_workday", "name")) == [
        (date(2027, 1, 1), False, "元旦"),
        (date(2027, 9, 26), True, "国庆节调休上班"),
        (date(2027, 10, 1), False, "国庆节"),
    ]


def test_publish_replaces_a_previous_version_of_the_year():
    calendar_year_publish(year=2027, holidays=[(date(2027, 1, 1), "元旦")], workdays=[])
    calendar_year_publish(year=2027, holidays=[(date(2027, 2, 8), "春节")], workdays=[])
    assert list(CalendarDay.objects.filter(year_id=2027).values_list("date", flat=True)) == [
        date(2027, 2, 8)
    ]


@pytest.mark.parametrize(
    ("holidays", "workdays"),
    [
        ([(date(2028, 1, 1), "元旦")], []),  # wrong year
        ([(date(2027, 1, 1), "元旦")], [(date(2027, 1, 1), "调休上班")]),  # both lists
        ([(date(2027, 1, 1), "元旦"), (date(2027, 1, 1), "元旦")], []),  # twice
    ],
)
def test_publish_rejects_bad_dates_and_writes_nothing(holidays, workdays):
    with pytest.raises(ValidationError):
        calendar_year_publish(year=2027, holidays=holidays, workdays=workdays)
    assert not CalendarYear.objects.filter(year=2027).exists()
