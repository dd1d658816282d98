"""Open311 GeoReport v2: every endpoint in JSON and XML, submissions, errors."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from civicloop.api.open311 import views as open311_views
from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import transition
from civicloop.core.units.models import Unit

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

ZEGUO_STATION = "station-331081100"
ZEGUO_TOWN = "331081100"
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


def get_json(client: Client, url: str, status: int = 200, **extra: Any) -> Any:
    response = client.get(url, **extra)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def get_xml(client: Client, url: str, status: int = 200, **extra: Any) -> ET.Element:
    response = client.get(url, **extra)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def valid_fields(api_key: str, **overrides: str | None) -> dict[str, str]:
    """A valid submission; an override of None leaves the field out."""
    fields: dict[str, str | None] = {
        "api_key": api_key,
        "service_code": "opinion",
        "lat": "28.5130",
        "long": "121.3650",
        "description": "泽国镇大桥路口路灯不亮，晚上行人不安全。",
        "attribute[category]": "road",
        "first_name": "小明",
        "last_name": "陈",
        "phone": "13912345678",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def error_of(response: Any) -> dict[str, Any]:
    body = json.loads(response.content)
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"code", "description"}
    assert body[0]["code"] == response.status_code
    return body[0]


# --------------------------------------------------------------------------- discovery


def test_discovery_json(client: Client) -> None:
    doc = get_json(client, "/open311/v2/discovery.json")
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


def test_discovery_xml(client: Client) -> None:
    root = get_xml(client, "/open311/v2/discovery.xml")
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "text/xml",
        "application/json",
    ]


# --------------------------------------------------------------------------- services


def test_services_json_lists_open311_channels(client: Client) -> None:
    services = get_json(client, "/open311/v2/services.json")
    opinion = next(s for s in services if s["service_code"] == "opinion")
    assert opinion == {
        "service_code": "opinion",
        "service_name": "民意直达",
        "description": opinion["description"],
        "metadata": True,
        "type": "realtime",
        "keywords": "民意,人大代表,联络站",
        "group": "人大代表",
    }
    assert opinion["description"]


def test_services_xml(client: Client) -> None:
    root = get_xml(client, "/open311/v2/services.xml")
    assert root.tag == "services"
    service = next(s for s in root.findall("service") if s.findtext("service_code") == "opinion")
    assert service.findtext("service_name") == "民意直达"
    assert service.findtext("metadata") == "true"
    assert service.findtext("type") == "realtime"
    assert service.findtext("group") == "人大代表"


def test_service_definition_json(client: Client) -> None:
    doc = get_json(client, "/open311/v2/services/opinion.json")
    assert doc["service_code"] == "opinion"
    (attribute,) = doc["attributes"]
    assert attribute["code"] == "category"
    assert attribute["datatype"] == "singlevaluelist"
    assert attribute["variable"] is True and attribute["required"] is False
    assert {"key": "road", "name": "道路交通"} in attribute["values"]


def test_service_definition_xml(client: Client) -> None:
    root = get_xml(client, "/open311/v2/services/opinion.xml")
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute is not None
    assert attribute.findtext("datatype") == "singlevaluelist"
    keys = [v.findtext("key") for v in attribute.findall("values/value")]
    assert "road" in keys and "other" in keys


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404(client: Client, fmt: str) -> None:
    response = client.get(f"/open311/v2/services/nosuch.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        assert error_of(response)["description"] == "没有这项服务。"
    else:
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        assert root.findtext("error/code") == "404"
        assert root.findtext("error/description") == "没有这项服务。"


# --------------------------------------------------------------------------- POST


def test_post_by_lat_long_goes_to_zeguo_station(
    client: Client, demo_city: None, api_key: str
) -> None:
    response = client.post("/open311/v2/requests.json", valid_fields(api_key))
    assert response.status_code == 201, response.content
    (item,) = json.loads(response.content)
    assert set(item) == {"service_request_id", "service_notice", "account_id"}
    assert item["account_id"] is None
    assert item["service_request_id"].startswith("MY-")
    case = Case.objects.get(number=item["service_request_id"])
    assert case.holder_unit is not None and case.holder_unit.code == ZEGUO_STATION
    assert case.source == "open311"
    assert case.category == "road"
    assert case.contact_name == "陈小明"
    assert case.contact_phone == "13912345678"
    assert float(case.lat) == pytest.approx(28.513)
    assert Unit.objects.get(code=ZEGUO_STATION).name in item["service_notice"]


def test_post_by_address_goes_to_zeguo_station(
    client: Client, demo_city: None, api_key: str
) -> None:
    fields = valid_fields(api_key, lat=None, long=None, address_string="温岭市泽国镇文昌路88号")
    response = client.post("/open311/v2/requests.xml", fields)
    assert response.status_code == 201, response.content
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    assert root.find("request/account_id") is not None
    case = Case.objects.get(number=number)
    assert case.holder_unit is not None and case.holder_unit.code == ZEGUO_STATION
    assert case.address == "温岭市泽国镇文昌路88号"


def test_post_by_address_id(client: Client, demo_city: None, api_key: str) -> None:
    fields = valid_fields(api_key, lat=None, long=None, address_id="331081100001")
    response = client.post("/open311/v2/requests.json", fields)
    assert response.status_code == 201, response.content
    number = json.loads(response.content)[0]["service_request_id"]
    assert Case.objects.get(number=number).owner_unit.code == ZEGUO_STATION


@pytest.mark.parametrize("key", ["cl_nope_wrong", "", None])
def test_post_with_bad_or_missing_key_is_403(
    client: Client, demo_city: None, key: str | None
) -> None:
    fields = valid_fields("x")
    fields.pop("api_key")
    if key is not None:
        fields["api_key"] = key
    response = client.post("/open311/v2/requests.json", fields)
    assert response.status_code == 403
    assert error_of(response)["description"] == "API 密钥无效或缺失。"
    assert not Case.objects.filter(source="open311").exists()


def test_post_bad_key_xml_error_shape(client: Client, demo_city: None) -> None:
    response = client.post("/open311/v2/requests.xml", valid_fields("cl_x_y"))
    assert response.status_code == 403
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "403"


def test_post_missing_description_is_400(client: Client, demo_city: None, api_key: str) -> None:
    response = client.post("/open311/v2/requests.json", valid_fields(api_key, description="  "))
    assert response.status_code == 400
    assert error_of(response)["description"] == "请填写问题描述。"


@pytest.mark.parametrize(
    "overrides",
    [
        {"lat": "abc"},
        {"lat": "91"},
        {"lat": "nan"},
        {"long": "-181"},
        {"long": ""},
        {"lat": "1e400"},
    ],
)
def test_post_bad_location_is_400(
    client: Client, demo_city: None, api_key: str, overrides: dict[str, str]
) -> None:
    response = client.post("/open311/v2/requests.json", valid_fields(api_key, **overrides))
    assert response.status_code == 400, response.content
    assert error_of(response)["description"]


@pytest.mark.parametrize(("lat", "lng"), [("0", "0"), ("-33.8688", "151.2093")])
def test_post_outside_the_city_is_400_not_a_border_town(
    client: Client, demo_city: None, api_key: str, lat: str, lng: str
) -> None:
    """Given a phone whose GPS answered 0,0 or a point in Sydney, when it is posted,
    then it is refused saying the place is outside the city, and nothing is stored."""
    before = Case.objects.count()
    response = client.post("/open311/v2/requests.json", valid_fields(api_key, lat=lat, long=lng))
    assert response.status_code == 400, response.content
    assert "不在本市范围内" in error_of(response)["description"]
    assert Case.objects.count() == before


def test_post_without_any_location_is_400(client: Client, demo_city: None, api_key: str) -> None:
    fields = valid_fields(api_key, lat=None, long=None)
    response = client.post("/open311/v2/requests.json", fields)
    assert response.status_code == 400
    assert "位置" in error_of(response)["description"]


def test_post_unroutable_address_is_400(client: Client, demo_city: None, api_key: str) -> None:
    fields = valid_fields(api_key, lat=None, long=None, address_string="火星基地一号")
    response = client.post("/open311/v2/requests.json", fields)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "overrides",
    [
        {"phone": "12345"},
        {"phone": "0576-86123456"},
        {"email": "not-an-email"},
        {"media_url": "javascript:alert(1)"},
        {"attribute[category]": "nosuch"},
        {"description": "长" * 5001},
    ],
)
def test_post_bad_fields_are_400(
    client: Client, demo_city: None, api_key: str, overrides: dict[str, str]
) -> None:
    response = client.post("/open311/v2/requests.json", valid_fields(api_key, **overrides))
    assert response.status_code == 400, response.content


def test_post_unknown_service_is_400(client: Client, demo_city: None, api_key: str) -> None:
    response = client.post(
        "/open311/v2/requests.json", valid_fields(api_key, service_code="nosuch")
    )
    assert response.status_code == 400
    assert error_of(response)["description"] == "没有这项服务。"


def test_error_in_english_with_accept_language(
    client: Client, demo_city: None, api_key: str
) -> None:
    response = client.post(
        "/open311/v2/requests.json",
        valid_fields(api_key, phone="12345"),
        HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9",
    )
    assert response.status_code == 400
    assert error_of(response)["description"] == (
        "phone must be an 11-digit mainland China mobile number."
    )
    response = client.get("/open311/v2/services/nosuch.xml", HTTP_ACCEPT_LANGUAGE="en")
    assert ET.fromstring(response.content).findtext("error/description") == "No such service."


def test_chinese_preferred_over_english_by_quality(client: Client) -> None:
    response = client.get(
        "/open311/v2/services/nosuch.json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8"
    )
    assert error_of(response)["description"] == "没有这项服务。"


def test_post_rate_limited_per_key(
    client: Client, demo_city: None, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(open311_views, "SUBMISSIONS_PER_MINUTE", 2)
    for _ in range(2):
        assert client.post("/open311/v2/requests.json", valid_fields(api_key)).status_code == 201
    response = client.post("/open311/v2/requests.json", valid_fields(api_key))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert error_of(response)["code"] == 429


def test_post_rate_limited_per_ip_even_with_bad_keys(
    client: Client, demo_city: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(open311_views, "SUBMISSIONS_PER_MINUTE", 3)
    codes = [
        client.post("/open311/v2/requests.json", valid_fields(f"cl_{i}_guess")).status_code
        for i in range(5)
    ]
    assert codes == [403, 403, 403, 429, 429]


def test_post_is_csrf_exempt(demo_city: None, api_key: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/open311/v2/requests.json", valid_fields(api_key))
    assert response.status_code == 201


def test_unsupported_method_is_405(client: Client) -> None:
    response = client.put("/open311/v2/services.json")
    assert response.status_code == 405
    assert error_of(response)["code"] == 405


# --------------------------------------------------------------------------- GET requests


def _created(client: Client, api_key: str, **overrides: str) -> str:
    response = client.post("/open311/v2/requests.json", valid_fields(api_key, **overrides))
    assert response.status_code == 201, response.content
    return str(json.loads(response.content)[0]["service_request_id"])


def test_requests_json_lists_public_fields_only(
    client: Client, demo_city: None, api_key: str
) -> None:
    number = _created(client, api_key)
    items = get_json(client, "/open311/v2/requests.json")
    assert len(items) == Case.objects.filter(channel="opinion").count()
    item = next(i for i in items if i["service_request_id"] == number)
    assert set(item) == REQUEST_FIELDS
    assert item["status"] == "open"
    assert item["status_notes"] == ""
    assert item["service_code"] == "opinion"
    assert item["service_name"] == "民意直达"
    assert item["agency_responsible"] == Unit.objects.get(code=ZEGUO_STATION).name
    # No consent was given through Open311: neither the text nor the place, only the town.
    assert item["description"] == "" and item["lat"] is None and item["long"] is None
    assert item["address"] == Area.objects.get(code=ZEGUO_TOWN).name
    assert ISO_WITH_OFFSET.match(item["requested_datetime"])
    assert ISO_WITH_OFFSET.match(item["updated_datetime"])
    assert ISO_WITH_OFFSET.match(item["expected_datetime"])
    text = json.dumps(items, ensure_ascii=False)
    assert "13912345678" not in text and "陈小明" not in text and "陈群众" not in text


def test_requests_xml(client: Client, demo_city: None, api_key: str) -> None:
    number = _created(client, api_key)
    root = get_xml(client, "/open311/v2/requests.xml")
    assert root.tag == "service_requests"
    request = next(r for r in root.findall("request") if r.findtext("service_request_id") == number)
    assert {child.tag for child in request} == REQUEST_FIELDS
    assert request.findtext("status") == "open"
    assert ISO_WITH_OFFSET.match(request.findtext("requested_datetime") or "")


def test_requests_filters(client: Client, demo_city: None, api_key: str) -> None:
    first = _created(client, api_key)
    second = _created(client, api_key, description="第二件")
    by_id = get_json(client, f"/open311/v2/requests.json?service_request_id={first},{second}")
    assert {i["service_request_id"] for i in by_id} == {first, second}
    closed = get_json(client, "/open311/v2/requests.json?status=closed")
    assert closed and all(i["status"] == "closed" for i in closed)
    opened = get_json(client, "/open311/v2/requests.json?status=open&service_code=opinion")
    assert {first, second} <= {i["service_request_id"] for i in opened}
    assert all(i["status"] == "open" for i in opened)
    future = get_json(client, "/open311/v2/requests.json?start_date=2099-01-01T00:00:00Z")
    assert future == []
    window = get_json(
        client,
        "/open311/v2/requests.json?start_date=2000-01-01&end_date=2099-12-31T23:59:59%2B08:00",
    )
    assert {first, second} <= {i["service_request_id"] for i in window}


@pytest.mark.parametrize(
    "query",
    [
        "status=pending",
        "start_date=yesterday",
        "start_date=2026-13-45",
        "end_date=2026-02-30T25:00:00",
        "start_date=2026-02-01&end_date=2026-01-01",
        "service_code=nosuch",
    ],
)
def test_requests_bad_filters_are_400(client: Client, db: None, query: str) -> None:
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400, response.content
    assert error_of(response)["description"]


def test_request_detail_json_and_xml(client: Client, demo_city: None, api_key: str) -> None:
    number = _created(client, api_key)
    items = get_json(client, f"/open311/v2/requests/{number}.json")
    assert len(items) == 1 and items[0]["service_request_id"] == number
    root = get_xml(client, f"/open311/v2/requests/{number}.xml")
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [number]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_request_detail_unknown_is_404(client: Client, db: None, fmt: str) -> None:
    response = client.get(f"/open311/v2/requests/MY-2000-999999.{fmt}")
    assert response.status_code == 404


def test_status_notes_after_answer(
    client: Client, demo_city: None, api_key: str, station_user: User
) -> None:
    number = _created(client, api_key)
    case = Case.objects.get(number=number)
    transition(
        case=case, action="answer", actor=station_user, note="已联系供电所，路灯已于今日修复。"
    )
    (item,) = get_json(client, f"/open311/v2/requests/{number}.json")
    assert item["status"] == "closed"
    assert item["status_notes"] == "已联系供电所，路灯已于今日修复。"
    assert item["expected_datetime"] is None
    assert item["agency_responsible"] == Unit.objects.get(code=ZEGUO_STATION).name
    root = get_xml(client, f"/open311/v2/requests/{number}.xml")
    assert root.findtext("request/status_notes") == "已联系供电所，路灯已于今日修复。"
    assert root.findtext("request/expected_datetime") == ""


def test_control_characters_are_dropped(
    client: Client, demo_city: None, api_key: str, full_key: str
) -> None:
    number = _created(
        client, api_key, description="路灯\x00不亮\x07了", address_string="泽国镇\x01"
    )
    assert Case.objects.get(number=number).body == "路灯不亮了"
    root = get_xml(client, f"/open311/v2/requests/{number}.xml?api_key={full_key}")
    assert root.findtext("request/description") == "路灯不亮了"
    assert root.findtext("request/address") == "泽国镇"


def test_nul_in_request_ids_is_not_a_500(client: Client, db: None) -> None:
    items = get_json(client, "/open311/v2/requests.json?service_request_id=MY%00,%00")
    assert items == []
