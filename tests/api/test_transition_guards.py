"""The transitions endpoint refuses what the engine refuses: a case is never dispatched or
transferred through the API to a unit that was deactivated."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from civicloop.core.cases.models import Case
from civicloop.core.units.models import Unit
from tests.api.conftest import staff_client

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

TOWN = "town-331081100"


def post_json(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def test_dispatch_to_a_deactivated_unit_is_400_and_changes_nothing(
    station_client: Client,
) -> None:
    # given an accepted demo case and the town office deactivated
    case = Case.objects.get(source="demo", state="submitted")
    url = f"/api/v1/cases/{case.number}/transitions"
    assert post_json(station_client, url, {"action": "accept"}).status_code == 200
    Unit.objects.filter(code=TOWN).update(is_active=False)

    # when it is dispatched there through the API
    response = post_json(
        station_client, url, {"action": "dispatch", "unit_code": TOWN, "grade": "town"}
    )

    # then it is refused as invalid, naming the unit, and the case stays where it was
    assert response.status_code == 400, response.content
    assert json.loads(response.content)["code"] == "invalid"
    assert json.loads(response.content)["field"] in ("unit", "unit_code")
    case.refresh_from_db()
    assert case.state == "accepted" and case.holder_unit.code == "station-331081100"
    # an active unit is still accepted
    ok = post_json(
        station_client, url, {"action": "dispatch", "unit_code": "dept-housing", "grade": "city"}
    )
    assert ok.status_code == 200, ok.content


def test_transfer_to_a_deactivated_unit_is_400_and_changes_nothing(demo_city: None) -> None:
    # given a dispatched demo case the station may transfer, and a deactivated unit
    case = Case.objects.get(source="demo", state="dispatched")
    holder = case.holder_unit_id
    Unit.objects.filter(code="dept-housing").update(is_active=False)

    # when the station transfers it there through the API
    response = post_json(
        staff_client("station_zeguo"),
        f"/api/v1/cases/{case.number}/transitions",
        {"action": "transfer", "unit_code": "dept-housing", "note": "改派"},
    )

    # then it is refused and the holder is unchanged
    assert response.status_code == 400, response.content
    assert json.loads(response.content)["code"] == "invalid"
    case.refresh_from_db()
    assert case.holder_unit_id == holder and case.state == "dispatched"
