"""The JSON API at /api/v1/: channels, the staff case list and detail, transitions,
integration submissions, errors, the OpenAPI schema and the docs page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from civicloop.core.cases.models import Case

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

ZEGUO_STATION = "station-331081100"


def body(response: Any) -> Any:
    return json.loads(response.content)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    data = body(response)
    assert set(data) == {"code", "detail", "field"}
    assert data["detail"]
    if code is not None:
        assert data["code"] == code
    return data


def demo_case(state: str) -> Case:
    return Case.objects.get(source="demo", state=state)


# --------------------------------------------------------------------------- schema, docs


def test_openapi_schema_loads(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = body(response)
    assert schema["info"]["title"] == "civicloop API"
    assert schema["info"]["version"] == "1"
    assert {
        "/api/v1/channels",
        "/api/v1/cases",
        "/api/v1/cases/{number}",
        "/api/v1/cases/{number}/transitions",
    } <= set(schema["paths"])
    schemes = schema["components"]["securitySchemes"]
    assert {"ApiKeyBearerAuth", "StaffSessionAuth"} <= set(schemes)


def test_docs_page_uses_no_cdn(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/api/v1/docs/assets/") for a in assets)
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200
        assert b"".join(r.streaming_content)
    assert client.get("/api/v1/docs/assets/..%2Fsettings.py").status_code == 404
    assert client.get("/api/v1/docs/assets/redoc.standalone.js").status_code == 404


# --------------------------------------------------------------------------- channels


def test_channels_public(client: Client) -> None:
    response = client.get("/api/v1/channels")
    assert response.status_code == 200
    opinion = next(c for c in body(response) if c["code"] == "opinion")
    assert opinion["name"] == "民意直达"
    assert opinion["open311"] is True
    assert {"code": "road", "name": "道路交通"} in opinion["categories"]


# --------------------------------------------------------------------------- case list


def test_cases_require_staff_session(client: Client, demo_city: None, api_key: str) -> None:
    assert_error(client.get("/api/v1/cases"), 401, "unauthorized")
    bearer = client.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert_error(bearer, 401, "unauthorized")


def test_cases_list_scoped_filtered_paginated(station_client: Client) -> None:
    data = body(station_client.get("/api/v1/cases"))
    assert data["count"] == 6
    assert {i["number"][:3] for i in data["items"]} == {"MY-"}
    item = data["items"][0]
    assert item["owner_unit"]["code"] == ZEGUO_STATION
    assert item["created_at"].endswith("+08:00")
    submitted = body(station_client.get("/api/v1/cases?state=submitted"))
    assert submitted["count"] == 1 and submitted["items"][0]["state_label"] == "待受理"
    page = body(station_client.get("/api/v1/cases?page=2&page_size=4"))
    assert page["count"] == 6 and len(page["items"]) == 2 and page["page"] == 2
    assert body(station_client.get("/api/v1/cases?channel=nosuch"))["count"] == 0
    assert body(station_client.get("/api/v1/cases?overdue=true"))["count"] >= 0


def test_cases_list_other_unit_sees_none(demo_city: None) -> None:
    """The housing bureau's handler sees none of the 泽国镇 opinions (other modules' demos
    may give the bureau cases of its own: those it sees, and only those)."""
    client = Client()
    from civicloop.core.accounts.models import User
    from civicloop.core.cases.access import cases_visible_to

    user = User.objects.get(username="handler_housing")
    client.force_login(user)
    listed = body(client.get("/api/v1/cases?page_size=100"))
    numbers = {item["number"] for item in listed["items"]}
    opinions = set(Case.objects.filter(channel="opinion").values_list("number", flat=True))
    assert opinions and not numbers & opinions
    assert listed["count"] == cases_visible_to(user).count()


@pytest.mark.parametrize(
    "query", ["page=0", "page_size=1000", "page=abc", "overdue=maybe", "state=" + "x" * 40]
)
def test_cases_list_bad_query_is_400(station_client: Client, query: str) -> None:
    assert_error(station_client.get(f"/api/v1/cases?{query}"), 400, "invalid")


# --------------------------------------------------------------------------- case detail


def test_case_detail_masks_contact(station_client: Client) -> None:
    case = demo_case("submitted")
    data = body(station_client.get(f"/api/v1/cases/{case.number}"))
    assert data["number"] == case.number
    assert data["contact"] == {"name": "陈**", "phone": "139****0000"}
    assert {a["code"] for a in data["actions"]} >= {"accept", "answer"}
    assert "13900000000" not in json.dumps(data)


def test_case_detail_not_visible_is_404(demo_city: None) -> None:
    from civicloop.core.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="handler_housing"))
    case = demo_case("submitted")
    assert_error(client.get(f"/api/v1/cases/{case.number}"), 404, "not_found")


def test_case_detail_unknown_is_404(station_client: Client) -> None:
    assert_error(station_client.get("/api/v1/cases/MY-1999-000001"), 404, "not_found")


# --------------------------------------------------------------------------- transitions


def post_json(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def test_transition_accept_then_dispatch(station_client: Client) -> None:
    case = demo_case("submitted")
    url = f"/api/v1/cases/{case.number}/transitions"
    accepted = post_json(station_client, url, {"action": "accept"})
    assert accepted.status_code == 200, accepted.content
    assert body(accepted)["state"] == "accepted"
    dispatched = post_json(
        station_client,
        url,
        {"action": "dispatch", "unit_code": "town-331081100", "grade": "town"},
    )
    assert dispatched.status_code == 200, dispatched.content
    data = body(dispatched)
    assert data["state"] == "dispatched"
    assert data["holder_unit"]["code"] == "town-331081100"
    assert data["grade"] == "town"


def test_transition_answer_sets_result(station_client: Client) -> None:
    case = demo_case("submitted")
    response = post_json(
        station_client,
        f"/api/v1/cases/{case.number}/transitions",
        {"action": "answer", "note": "已答复。"},
    )
    assert response.status_code == 200
    assert body(response)["state"] == "closed" and body(response)["result"] == "已答复。"


def test_transition_errors(station_client: Client) -> None:
    case = demo_case("submitted")
    url = f"/api/v1/cases/{case.number}/transitions"
    assert_error(post_json(station_client, url, {"action": "fly"}), 400, "unknown_action")
    missing = assert_error(post_json(station_client, url, {"action": "answer"}), 400, "missing")
    assert missing["field"] == "note"
    assert_error(post_json(station_client, url, {"action": "claim"}), 409, "invalid_state")
    bad_unit = post_json(station_client, url, {"action": "dispatch", "unit_code": "nosuch"})
    assert_error(bad_unit, 400, "invalid_unit")
    assert_error(post_json(station_client, url, {}), 400, "invalid")
    malformed = station_client.post(url, "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert_error(
        post_json(station_client, url, {"action": "accept", "due_at": "tomorrow"}), 400, "invalid"
    )


def test_transition_forbidden_is_403(demo_city: None) -> None:
    from civicloop.core.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="handler_zeguo"))
    case = demo_case("dispatched")  # held by the town office; transfer is the station's
    response = post_json(
        client,
        f"/api/v1/cases/{case.number}/transitions",
        {"action": "transfer", "unit_code": "dept-housing", "note": "改派"},
    )
    assert_error(response, 403, "forbidden")


def test_transition_needs_csrf_token_with_session(station_user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(station_user)
    case = demo_case("submitted")
    response = post_json(client, f"/api/v1/cases/{case.number}/transitions", {"action": "accept"})
    assert response.status_code in (401, 403)
    case.refresh_from_db()
    assert case.state == "submitted"


def test_transition_error_in_english(station_client: Client) -> None:
    case = demo_case("submitted")
    response = post_json(
        station_client,
        f"/api/v1/cases/{case.number}/transitions",
        {"action": "claim"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    data = assert_error(response, 409, "invalid_state")
    assert data["detail"].startswith("This action is not possible")


# --------------------------------------------------------------------------- submit


def test_create_case_with_api_key(client: Client, demo_city: None, api_key: str) -> None:
    response = post_json(
        client,
        "/api/v1/cases",
        {
            "channel": "opinion",
            "body": "泽国镇牧屿村路口需要红绿灯",
            "lat": 28.513,
            "lng": 121.365,
            "category": "road",
            "contact_phone": "+86 139 1234 5678",
            "submission_key": "sys-1",
        },
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert response.status_code == 201, response.content
    data = body(response)
    assert data["owner_unit"]["code"] == ZEGUO_STATION
    assert data["state"] == "submitted"
    case = Case.objects.get(number=data["number"])
    assert case.source == "api" and case.contact_phone == "13912345678"
    again = post_json(
        client,
        "/api/v1/cases",
        {
            "channel": "opinion",
            "body": "泽国镇牧屿村路口需要红绿灯",
            "address": "泽国镇",
            "submission_key": "sys-1",
        },
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert body(again)["number"] == data["number"]


@pytest.mark.skipif(
    not apps.is_installed("civicloop.firelane"), reason="the firelane module is disabled"
)
def test_channel_taken_only_by_its_module_is_refused(
    client: Client, demo_city: None, api_key: str
) -> None:
    """Given a channel whose cases only its module opens (a fire-lane violation needs a
    camera's stay and evidence), when an integration posts one to the generic API or to
    Open311, then it is refused as an unknown channel and no case is created."""
    payload = {"channel": "firelane", "body": "x", "address": "太平街道"}
    response = post_json(client, "/api/v1/cases", payload, HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert_error(response, 400, "unknown_channel")
    open311 = client.post(
        "/open311/v2/requests.json",
        {
            "service_code": "firelane",
            "description": "x",
            "address_string": "太平街道",
            "api_key": api_key,
        },
    )
    assert open311.status_code in (400, 404), open311.content
    assert not Case.objects.filter(channel="firelane").exists()
    listed = {c["code"]: c for c in body(client.get("/api/v1/channels"))}
    assert listed["firelane"]["intakes"] == ["module"]
    assert "api" in listed["opinion"]["intakes"]


def test_create_case_needs_api_key(client: Client, demo_city: None) -> None:
    payload = {"channel": "opinion", "body": "x", "address": "泽国镇"}
    assert_error(post_json(client, "/api/v1/cases", payload), 401, "unauthorized")
    wrong = post_json(client, "/api/v1/cases", payload, HTTP_AUTHORIZATION="Bearer cl_a_b")
    assert_error(wrong, 401, "unauthorized")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (
            {"channel": "opinion", "body": "x", "address": "泽国镇", "contact_phone": "123"},
            "invalid_phone",
        ),
        ({"channel": "opinion", "body": "x"}, "missing_location"),
        ({"channel": "nosuch", "body": "x", "address": "泽国镇"}, "unknown_channel"),
        ({"channel": "opinion", "body": "x", "lat": 28.5}, "invalid_location"),
        ({"channel": "opinion", "body": "x", "lat": 128.5, "lng": 1}, "invalid"),
        ({"channel": "opinion", "body": "x", "lat": 28.37, "lng": False}, "invalid"),
        ({"channel": "opinion", "body": "x", "lat": 0, "lng": 0}, "out_of_area"),
        ({"channel": "opinion", "body": "x", "lat": -33.8688, "lng": 151.2093}, "out_of_area"),
        (
            {"channel": "opinion", "body": "x", "lat": 0, "lng": 0, "address": "泽国镇"},
            "out_of_area",
        ),
        ({"channel": "opinion", "body": "", "address": "泽国镇"}, "invalid"),
        ({"channel": "opinion", "body": "x", "area_code": "000"}, "invalid_location"),
        (
            {"channel": "opinion", "body": "x", "address": "泽国镇", "category": "zzz"},
            "invalid_category",
        ),
    ],
)
def test_create_case_bad_input_is_400(
    client: Client, demo_city: None, api_key: str, payload: dict[str, Any], code: str
) -> None:
    response = post_json(client, "/api/v1/cases", payload, HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert_error(response, 400, code)


def test_create_case_error_in_english(client: Client, demo_city: None, api_key: str) -> None:
    response = post_json(
        client,
        "/api/v1/cases",
        {"channel": "opinion", "body": "x", "address": "泽国镇", "contact_phone": "123"},
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    data = assert_error(response, 400, "invalid_phone")
    assert data["detail"] == "phone must be an 11-digit mainland China mobile number."
    assert data["field"] == "phone"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases?state=%00",
        "/api/v1/cases?channel=a%00b",
        "/api/v1/cases/MY-2026%00",
    ],
)
def test_nul_characters_never_500(station_client: Client, url: str) -> None:
    response = station_client.get(url)
    assert response.status_code in (200, 400, 404), response.content
