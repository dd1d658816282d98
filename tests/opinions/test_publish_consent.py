"""The citizen's consent to publish: the submit page says what is published and asks,
the answer is stored, and Open311 (the public view) follows it.

Given the demo city and a station's code, when a citizen submits the form with or
without the consent box, then `Case.data["publish_consent"]` says so and
`GET /open311/v2/requests.json` (no key) shows the text only with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from civicloop.core.accounts.services import sms_code_issue
from civicloop.core.cases.models import Case
from civicloop.opinions.codes import code_issue
from civicloop.opinions.models import Code, Station
from civicloop.opinions.services import SUBMIT_PURPOSE

pytestmark = pytest.mark.django_db

STATION_UNIT = "station-331081100"
PHONE = "13912345678"
BODY = "牧屿村村口路口车流量大，希望增设红绿灯。我是陈群众，电话13900001111。"


@pytest.fixture(autouse=True)
def fresh_counters(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "zh-hans"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def station_code(demo_city: None) -> Code:
    return code_issue(station=Station.objects.get(unit__code=STATION_UNIT))


def _submit(client: Client, code: Code, key: str, **extra: str) -> Case:
    _phone, sms = sms_code_issue(phone=PHONE, ip=None, purpose=SUBMIT_PURPOSE)
    form = {
        "category": "road",
        "body": BODY,
        "phone": PHONE,
        "code": sms,
        "contact_name": "陈群众",
        "address": "泽国镇牧屿村村口",
        "lat": "28.513490",
        "lng": "121.365510",
        "submission_key": key * 32,
        **extra,
    }
    response = client.post(f"/q/{code.slug}/submit/", form)
    assert response.status_code == 302, response.content
    return Case.objects.get(submission_key=key * 32)


def _public(client: Client) -> tuple[list[dict[str, Any]], str]:
    response = client.get("/open311/v2/requests.json")
    assert response.status_code == 200
    return json.loads(response.content), response.content.decode()


def test_the_submit_page_says_what_is_published_and_asks_for_consent(
    client: Client, station_code: Code
) -> None:
    page = client.get(f"/q/{station_code.slug}/submit/").content.decode()
    assert 'name="publish_consent"' in page and 'type="checkbox"' in page
    assert "同意公开反映内容" in page and "不含姓名、电话" in page
    assert 'id="privacy-notice"' in page
    for part in ("用途", "谁能看到", "公开什么", "保存多久"):
        assert part in page


def test_without_consent_the_public_never_sees_the_text_or_the_exact_place(
    client: Client, station_code: Code
) -> None:
    case = _submit(client, station_code, "a")
    assert case.data["publish_consent"] is False
    items, body = _public(client)
    item = next(i for i in items if i["service_request_id"] == case.number)
    assert item["description"] == "" and item["lat"] is None and item["long"] is None
    for secret in ("牧屿村", "13900001111", "陈群众", PHONE, "28.51", "121.36"):
        assert secret not in body


def test_with_consent_the_text_and_a_rounded_place_are_published(
    client: Client, station_code: Code
) -> None:
    case = _submit(client, station_code, "b", publish_consent="on")
    assert case.data["publish_consent"] is True
    items, body = _public(client)
    item = next(i for i in items if i["service_request_id"] == case.number)
    assert item["description"].startswith("牧屿村村口路口")
    assert "13900001111" not in body and "139****1111" in item["description"]
    assert (item["lat"], item["long"]) == (28.513, 121.366)
    assert PHONE not in body  # the contact fields never


def test_an_anonymous_opinion_shows_only_category_town_and_status(
    client: Client, station_code: Code
) -> None:
    case = _submit(client, station_code, "c", publish_consent="on", anonymous="on")
    assert case.anonymous is True
    items, body = _public(client)
    assert case.number not in body and "牧屿村" not in body and "28.51" not in body
    unnumbered = [i for i in items if not i["service_request_id"]]
    assert unnumbered
    for item in unnumbered:
        shown = {k for k, v in item.items() if v not in ("", None)}
        assert shown == {"service_code", "service_name", "address", "address_id", "status"}
