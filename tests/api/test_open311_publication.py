"""What Open311 publishes: each channel's Publication, the citizen's consent, anonymous
opinions, and whole records for a key with that right (logged).

Given opinions sent through Open311 (then marked as the citizen chose), when anyone
without a full-records key lists or looks them up, in JSON and in XML, then they see
only what the channel and the citizen allow."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from io import StringIO
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from civicloop.core import registry
from civicloop.core.accounts.models import ApiKey, PersonalDataAccess, User
from civicloop.core.accounts.services import api_key_authenticate
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import transition

pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

ZEGUO_TOWN = "331081100"
PHONE_IN_TEXT = "13912345678"
TEXT = f"大桥路口路灯不亮，我家就在旁边，电话{PHONE_IN_TEXT}。"
TYPED_ADDRESS = "泽国镇文昌路88号3单元"
# 28.51349 / 121.36551: published as 28.513 / 121.366 (about 100 m).
LAT, LNG = "28.51349", "121.36551"
FORMATS = ["json", "xml"]


def _submit(client: Client, api_key: str, **overrides: str) -> Case:
    fields = {
        "api_key": api_key,
        "service_code": "opinion",
        "lat": LAT,
        "long": LNG,
        "address_string": TYPED_ADDRESS,
        "description": TEXT,
        "attribute[category]": "road",
        "first_name": "小明",
        "last_name": "陈",
        "phone": "13800001111",
    }
    fields.update(overrides)
    response = client.post("/open311/v2/requests.json", fields)
    assert response.status_code == 201, response.content
    return Case.objects.get(number=json.loads(response.content)[0]["service_request_id"])


def _mark(case: Case, *, consent: bool | None = None, anonymous: bool | None = None) -> Case:
    """Record what the citizen chose on the submit page."""
    if consent is not None:
        case.data = {**case.data, registry.PUBLISH_CONSENT: consent}
    if anonymous is not None:
        case.anonymous = anonymous
    Case.objects.filter(pk=case.pk).update(data=case.data, anonymous=case.anonymous)
    return case


def _items(
    client: Client, fmt: str, url: str, status: int = 200
) -> tuple[list[dict[str, Any]], str]:
    """The request items of a list document in either format, as dicts of strings (XML)
    or values (JSON), with the raw body for "never contains" checks."""
    path, _, query = url.partition("?")
    response = client.get(f"{path}.{fmt}{'?' if query else ''}{query}")
    assert response.status_code == status, response.content
    body = response.content.decode()
    if status != 200:
        return [], body
    if fmt == "json":
        return json.loads(body), body
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    return [{child.tag: child.text or "" for child in r} for r in root.findall("request")], body


def _empty(value: Any) -> bool:
    return value in ("", None)


def _town() -> Area:
    return Area.objects.get(code=ZEGUO_TOWN)


def _item_of(items: list[dict[str, Any]], number: str) -> dict[str, Any]:
    return next(i for i in items if i["service_request_id"] == number)


# --------------------------------------------------------------------------- consent


@pytest.mark.parametrize("fmt", FORMATS)
def test_without_consent_neither_the_text_nor_the_place_is_published(
    client: Client, demo_city: None, api_key: str, fmt: str
) -> None:
    case = _mark(_submit(client, api_key), consent=False)
    items, body = _items(client, fmt, "/open311/v2/requests")
    item = _item_of(items, case.number)
    assert _empty(item["description"]) and _empty(item["lat"]) and _empty(item["long"])
    assert _empty(item["media_url"])
    assert item["address"] == _town().name and item["address_id"] == ZEGUO_TOWN
    assert item["requested_datetime"] and item["status"] == "open"
    assert item["service_code"] == "opinion"
    for secret in ("路灯不亮", PHONE_IN_TEXT, TYPED_ADDRESS, "28.51", "121.36", "陈小明"):
        assert secret not in body
    # The same on the request's own page.
    (detail,), body = _items(client, fmt, f"/open311/v2/requests/{case.number}")
    assert _empty(detail["description"]) and "路灯不亮" not in body and "28.51" not in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_with_consent_the_text_is_published_with_phones_masked_and_the_place_rounded(
    client: Client, demo_city: None, api_key: str, fmt: str
) -> None:
    case = _mark(_submit(client, api_key), consent=True)
    items, body = _items(client, fmt, "/open311/v2/requests")
    item = _item_of(items, case.number)
    assert item["description"] == TEXT.replace(PHONE_IN_TEXT, "139****5678")
    assert float(item["lat"]) == 28.513 and float(item["long"]) == 121.366
    assert item["address"] == _town().name
    assert PHONE_IN_TEXT not in body and TYPED_ADDRESS not in body and "28.5134" not in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_answer_is_published_once_closed(
    client: Client, demo_city: None, api_key: str, fmt: str
) -> None:
    case = _mark(_submit(client, api_key), consent=False)
    items, _body = _items(client, fmt, "/open311/v2/requests")
    assert _empty(_item_of(items, case.number)["status_notes"])
    transition(
        case=case,
        action="answer",
        actor=User.objects.get(username="station_zeguo"),
        note="路灯已修复。",
    )
    items, _body = _items(client, fmt, "/open311/v2/requests")
    item = _item_of(items, case.number)
    assert item["status"] == "closed" and item["status_notes"] == "路灯已修复。"
    assert _empty(item["description"])


# --------------------------------------------------------------------------- anonymous


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_anonymous_opinion_shows_only_category_town_and_status(
    client: Client, demo_city: None, api_key: str, fmt: str
) -> None:
    # Given an anonymous opinion whose citizen even agreed to publish the text
    case = _mark(_submit(client, api_key), consent=True, anonymous=True)
    transition(
        case=case,
        action="answer",
        actor=User.objects.get(username="station_zeguo"),
        note="路灯已修复。",
    )
    # When the public lists the requests
    items, body = _items(client, fmt, "/open311/v2/requests?service_code=opinion")
    # Then its item carries the category, the town and the status, and nothing else
    (item,) = [i for i in items if _empty(i["service_request_id"])]
    shown = {k for k, v in item.items() if not _empty(v)}
    assert shown == {"service_code", "service_name", "address", "address_id", "status"}
    assert item["address"] == _town().name and item["status"] == "closed"
    for secret in (case.number, "路灯", PHONE_IN_TEXT, TYPED_ADDRESS, "28.51", "修复"):
        assert secret not in body
    # and it cannot be looked up by its number
    assert client.get(f"/open311/v2/requests/{case.number}.{fmt}").status_code == 404
    items, _body = _items(client, fmt, f"/open311/v2/requests?service_request_id={case.number}")
    assert items == []


def test_anonymous_opinions_are_dated_by_whole_days_and_listed_last(
    client: Client, demo_city: None, api_key: str
) -> None:
    anonymous = _mark(_submit(client, api_key), anonymous=True)
    named = _submit(client, api_key)
    # A window opening just after both were filed: the named one is out, the anonymous
    # one is still in (its day is), so the window does not date it.
    after = timezone.localtime(max(anonymous.created_at, named.created_at)) + timedelta(seconds=1)
    if after.date() != timezone.localtime(anonymous.created_at).date():
        pytest.skip("filed just before midnight")
    start = after.isoformat(timespec="seconds").replace("+", "%2B")
    items, _body = _items(client, "json", f"/open311/v2/requests?start_date={start}")
    assert [i["service_request_id"] for i in items if i["service_code"] == "opinion"] == [""]
    # Without a window it comes after every named request.
    items, _body = _items(client, "json", "/open311/v2/requests?service_code=opinion")
    assert items[-1]["service_request_id"] == ""
    assert all(i["service_request_id"] for i in items[:-1])


# --------------------------------------------------------------------------- policies


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_channel_that_publishes_nothing_is_not_listed(
    client: Client, demo_city: None, api_key: str, full_key: str, monkeypatch: Any, fmt: str
) -> None:
    case = _mark(_submit(client, api_key), consent=True)
    channel = replace(registry.channel("opinion"), publication=registry.Publication.NOTHING)
    monkeypatch.setitem(registry._channels, "opinion", channel)
    items, _body = _items(client, fmt, "/open311/v2/requests")
    assert items == []
    assert client.get(f"/open311/v2/requests/{case.number}.{fmt}").status_code == 404
    # A key with the right still reads it.
    items, _body = _items(client, fmt, f"/open311/v2/requests?api_key={full_key}")
    assert _item_of(items, case.number)["description"] == TEXT


def test_a_channel_that_publishes_all_shows_every_field_but_not_of_anonymous_cases(
    client: Client, demo_city: None, api_key: str, monkeypatch: Any
) -> None:
    named = _submit(client, api_key)
    anonymous = _mark(_submit(client, api_key), anonymous=True)
    channel = replace(registry.channel("opinion"), publication=registry.Publication.ALL)
    monkeypatch.setitem(registry._channels, "opinion", channel)
    items, body = _items(client, "json", "/open311/v2/requests?service_code=opinion")
    item = _item_of(items, named.number)
    assert item["description"] == TEXT and item["address"] == TYPED_ADDRESS
    assert item["lat"] == pytest.approx(28.51349)
    assert anonymous.number not in body
    assert next(i for i in items if not i["service_request_id"])["description"] == ""


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_full_records_key_reads_whole_records_and_each_read_is_logged(
    client: Client, demo_city: None, api_key: str, full_key: str, fmt: str
) -> None:
    case = _mark(_submit(client, api_key), consent=False, anonymous=True)
    items, _body = _items(client, fmt, f"/open311/v2/requests?api_key={full_key}")
    item = _item_of(items, case.number)
    assert item["description"] == TEXT and item["address"] == TYPED_ADDRESS
    assert float(item["lat"]) == pytest.approx(28.51349)
    reader = api_key_authenticate(raw=full_key)
    logged = PersonalDataAccess.objects.filter(api_key=reader, object_id=case.number)
    assert logged.count() == 1 and logged.get().user is None
    assert PersonalDataAccess.objects.filter(api_key=reader).count() == len(items)
    # The request's own page is logged too.
    (detail,), _body = _items(client, fmt, f"/open311/v2/requests/{case.number}?api_key={full_key}")
    assert detail["description"] == TEXT
    assert logged.count() == 2


def test_a_key_without_the_right_gets_the_public_view_and_logs_nothing(
    client: Client, demo_city: None, api_key: str
) -> None:
    case = _mark(_submit(client, api_key), consent=False)
    items, body = _items(client, "json", f"/open311/v2/requests?api_key={api_key}")
    assert _item_of(items, case.number)["description"] == "" and "路灯" not in body
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_key_on_a_read_is_refused(client: Client, db: None, fmt: str) -> None:
    for url in ("/open311/v2/requests", "/open311/v2/requests/MY-2026-000001"):
        response = client.get(f"{url}.{fmt}?api_key=ck_nosuch_key")
        assert response.status_code == 403, response.content


def test_create_api_key_grants_the_right_only_when_asked(db: None) -> None:
    out = StringIO()
    call_command("create_api_key", "records office", "--full-records", stdout=out)
    assert ApiKey.objects.get(name="records office").can_read_full_records is True
    call_command("create_api_key", "a map", stdout=StringIO())
    assert ApiKey.objects.get(name="a map").can_read_full_records is False
    assert api_key_authenticate(raw=out.getvalue().strip()) is not None


# --------------------------------------------------------------------------- status list


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_takes_a_comma_list(client: Client, demo_city: None, api_key: str, fmt: str) -> None:
    opened = _submit(client, api_key)
    closed = _submit(client, api_key)
    transition(
        case=closed,
        action="answer",
        actor=User.objects.get(username="station_zeguo"),
        note="已办结。",
    )
    for status in ("open,closed", "closed, open"):
        items, _body = _items(client, fmt, f"/open311/v2/requests?status={status}")
        numbers = {i["service_request_id"] for i in items}
        assert {opened.number, closed.number} <= numbers
    items, _body = _items(client, fmt, "/open311/v2/requests?status=closed")
    assert {i["status"] for i in items} == {"closed"}
    _items(client, fmt, "/open311/v2/requests?status=open,pending", status=400)
