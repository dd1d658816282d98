"""GET /api/v1/cockpit: the figures equal a direct SQL count of the cases behind them, on
the demo, for the city and three towns; who may read which area; bad input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.services import api_key_create
from civicloop.core.areas.models import Area
from civicloop.core.cases.services import CaseDraft, case_submit
from civicloop.core.units.models import Unit
from tests.core.cases.direct_counts import direct_counts

# The figures are checked on the 民意 demo (its channel, stations and deputies).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

URL = "/api/v1/cockpit"
TOWNS = ("331081100", "331081001", "331081103")  # 泽国镇, 太平街道, 箬横镇


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _expected(area: Area, day_from: date, day_to: date, now: Any) -> dict[str, dict[str, int]]:
    return direct_counts(area_path=area.path, day_from=day_from, day_to=day_to, now=now)


def _check(body: dict[str, Any], expected: dict[str, dict[str, int]]) -> None:
    for code, figures in expected.items():
        got = body["channels"][code]
        for name, value in figures.items():
            assert got[name] == value, (code, name)
        assert got["open"] == figures["received"] - figures["closed"]
    for code, got in body["channels"].items():
        if code not in expected:
            assert got["received"] == 0
    for name in ("received", "closed", "closed_on_time", "overdue"):
        assert body["total"][name] == sum(f[name] for f in expected.values())
    for rate in ("on_time_close_rate", "rework_rate", "satisfaction_rate"):
        value = body["total"][rate]
        assert value is None or 0 <= value <= 1


def test_city_and_three_towns_equal_a_direct_count_on_the_demo(demo_year: None) -> None:
    client = signed_in("leader")
    today = timezone.localdate()
    day_from = date(today.year - 1, 1, 1)
    for code in ("331081", *TOWNS):
        response = client.get(
            URL, {"area": code, "from": day_from.isoformat(), "to": today.isoformat()}
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["area"]["code"] == code
        area = Area.objects.get(code=code)
        expected = _expected(area, day_from, today, timezone.now())
        assert sum(f["received"] for f in expected.values()) > 0 or code != "331081"
        _check(body, expected)
    # Every registered channel is there, with its name, even with no case.
    assert {"opinion", "firelane"} <= set(body["channels"])


def test_a_new_case_shows_at_once(demo_city: None) -> None:
    client = signed_in("leader")
    before = client.get(URL, {"area": "331081100"}).json()["channels"]["opinion"]["received"]
    case_submit(
        draft=CaseDraft(
            channel="opinion",
            title="路灯不亮",
            body="泽国镇某路段路灯不亮。",
            category="road",
            contact_name="陈群众",
            contact_phone="13912345678",
            area=Area.objects.get(code="331081100"),
            owner_unit=Unit.objects.get(code="station-331081100"),
        )
    )
    after = client.get(URL, {"area": "331081100"}).json()["channels"]["opinion"]
    assert after["received"] == before + 1
    assert after["open"] >= 1


def test_rates_are_null_without_a_denominator(demo_city: None) -> None:
    body = (
        signed_in("leader")
        .get(URL, {"area": "331081", "from": "2020-01-01", "to": "2020-01-31"})
        .json()
    )
    assert body["total"]["received"] == 0
    for rate in ("on_time_close_rate", "rework_rate", "satisfaction_rate", "on_time_handle_rate"):
        assert body["total"][rate] is None


def test_an_api_key_reads_the_city(demo_city: None) -> None:
    _key, raw = api_key_create(name="大屏")
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["area"]["code"] == "331081"


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        (None, {}, 401),
        ("handler_housing", {}, 403),  # unit staff without a cockpit
        ("npc_zeguo", {"area": "331081001"}, 403),  # 泽国镇人大主席团 asking for 太平街道
        ("npc_zeguo", {"area": "331081"}, 403),  # ... or for the whole city
        ("leader", {"area": "999999"}, 404),
        ("leader", {"from": "2026-13-01"}, 400),
        ("leader", {"from": "2026-12-01", "to": "2026-11-01"}, 400),
        ("leader", {"from": "2010-01-01", "to": "2026-11-01"}, 400),
    ],
)
def test_refusals(demo_city: None, who: str | None, query: dict[str, str], status: int) -> None:
    client = signed_in(who) if who else Client()
    response = client.get(URL, query)
    assert response.status_code == status, response.content
    assert response.json()["code"]


def test_a_town_presidium_reads_its_town_by_default(demo_city: None) -> None:
    body = signed_in("npc_zeguo").get(URL).json()
    assert body["area"]["code"] == "331081100"
    body = signed_in("npc_office").get(URL).json()
    assert body["area"]["code"] == "331081"
