"""The demo directory: 16 stations, 60+ deputies, duty days and codes; idempotent."""

from __future__ import annotations

import pytest

from civicloop.core.demo import demo_city_build
from civicloop.opinions.models import Code, Deputy, DeputyLevel, DutyDay, Station

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Station.objects.count(),
        Deputy.objects.count(),
        DutyDay.objects.count(),
        Code.objects.count(),
    )


def test_demo_has_a_station_in_every_town_and_60_plus_deputies(demo_city: None) -> None:
    stations = Station.objects.select_related("unit", "town")
    assert stations.count() == 16
    assert {s.town.kind for s in stations} == {"town", "street"}
    for station in stations:
        assert station.unit.code == f"station-{station.town.code}"
        assert station.address.startswith("温岭市" + station.town.name)
        assert station.opening_hours
        assert station.lat is not None
        assert station.deputies.count() >= 4
    assert Deputy.objects.count() >= 60
    assert Station.objects.exclude(speciality="").count() >= 5


def test_demo_deputies_are_plausible_and_varied(demo_city: None) -> None:
    names = list(Deputy.objects.values_list("name", flat=True))
    assert len(names) == len(set(names))
    assert all(2 <= len(n) <= 3 for n in names)
    levels = set(Deputy.objects.values_list("level", flat=True))
    assert {DeputyLevel.NATIONAL, DeputyLevel.PROVINCIAL, DeputyLevel.TAIZHOU} <= levels
    assert Deputy.objects.filter(level__in=[DeputyLevel.WENLING, DeputyLevel.TOWN]).count() > 50
    town_deputy = Deputy.objects.filter(level=DeputyLevel.TOWN).first()
    assert town_deputy is not None and "选区" in town_deputy.constituency
    assert not Deputy.objects.filter(level=DeputyLevel.TOWN, town__kind="street").exists()
    assert all(d.profile for d in Deputy.objects.all())


def test_the_demo_deputy_login_is_linked_to_a_deputy_of_a_station(demo_city: None) -> None:
    # Given the demo's deputy login (the one the walkthrough signs in with), then it is a
    # deputy's account, of a station in the deputy's own town, with duty days to show.
    deputy = Deputy.objects.select_related("user", "station").get(user__username="deputy_wang")
    assert deputy.name and deputy.station.town_id == deputy.town_id
    assert deputy.duty_days.exists()


def test_every_deputy_and_station_has_one_active_code(demo_city: None) -> None:
    for deputy in Deputy.objects.all():
        assert deputy.codes.filter(revoked_at__isnull=True).count() == 1
    for station in Station.objects.all():
        assert station.codes.filter(revoked_at__isnull=True).count() == 1


def test_duty_days_cover_the_coming_weeks(demo_city: None) -> None:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    upcoming = DutyDay.objects.filter(date__gte=today)
    assert upcoming.values("station").distinct().count() == 16
    assert upcoming.filter(date__gte=today + timedelta(days=14)).exists()
    assert all(d.deputy.station_id == d.station_id for d in upcoming.select_related("deputy"))


def test_loading_the_demo_twice_changes_nothing(demo_city: None) -> None:
    before = _counts()
    slugs = set(Code.objects.values_list("slug", flat=True))
    demo_city_build()
    assert _counts() == before
    assert set(Code.objects.values_list("slug", flat=True)) == slugs


def test_the_demo_opinions_are_still_created(demo_city: None) -> None:
    from civicloop.core.cases.models import Case

    assert Case.objects.filter(channel="opinion", source="demo").count() >= 6
