"""GET /api/v1/deputies and GET /api/v1/stations: public JSON, never a phone number."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from civicloop.opinions.models import Deputy, Station

pytestmark = pytest.mark.django_db

SITE = "https://my.wenling.example.cn"
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
DEPUTY_FIELDS = {
    "id", "slug", "name", "level", "level_name", "constituency", "town", "town_code",
    "station", "profile", "photo", "url", "code_url", "code_png", "code_svg", "poster",
}  # fmt: skip
STATION_FIELDS = {
    "id", "slug", "name", "town", "town_code", "address", "lat", "lng", "opening_hours",
    "speciality", "intro", "url", "code_url", "code_png", "code_svg", "poster",
}  # fmt: skip


@pytest.fixture
def site(settings) -> str:
    settings.SITE_URL = SITE
    return SITE


def _all(client: Client, path: str, **params: str) -> tuple[list[dict], list[str]]:
    items: list[dict] = []
    bodies: list[str] = []
    page = 1
    while True:
        response = client.get(path, {**params, "page": page, "page_size": 25})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        bodies.append(response.content.decode())
        data = response.json()
        assert isinstance(data, list)
        items += data
        links = response.headers.get("Link", "")
        if 'rel="next"' not in links:
            assert int(response["X-Total-Count"]) == len(items)
            return items, bodies
        assert links.startswith(f"<{SITE}{path}?")
        page += 1


def test_one_plain_request_lists_every_deputy_and_station(site: str, demo_city: None) -> None:
    client = Client()
    deputies = client.get("/api/v1/deputies").json()
    stations = client.get("/api/v1/stations").json()
    assert isinstance(deputies, list) and len(deputies) == Deputy.objects.count() >= 60
    assert isinstance(stations, list) and len(stations) == 16
    assert all(item["url"].startswith(SITE + "/") for item in deputies + stations)
    assert client.get("/api/v1/stations/").json() == stations


def test_deputies_lists_all_with_public_fields_only(site: str, demo_city: None) -> None:
    client = Client()
    items, bodies = _all(client, "/api/v1/deputies")
    assert len(items) == Deputy.objects.count() >= 60
    for item in items:
        assert set(item) == DEPUTY_FIELDS
        assert item["url"] == f"{SITE}/deputies/{item['id']}/"
        assert item["code_url"] == f"{SITE}/q/{item['slug']}/"
        assert item["code_png"] == f"{SITE}/codes/{item['slug']}.png"
        assert item["station"]["url"].startswith(f"{SITE}/stations/")
    for body in bodies:
        assert "phone" not in body
        assert not PHONE.search(body), "a phone number leaked"
    # The url leads to the deputy's page.
    wang = next(i for i in items if i["id"] == Deputy.objects.order_by("pk")[0].pk)
    page = client.get(wang["url"].removeprefix(SITE))
    assert page.status_code == 200 and wang["name"] in page.content.decode()
    assert client.get(wang["code_url"].removeprefix(SITE), follow=True).request[
        "PATH_INFO"
    ] == wang["url"].removeprefix(SITE)


def test_no_deputy_phone_appears_even_in_the_raw_json(site: str, demo_city: None) -> None:
    phones = [d.phone for d in Deputy.objects.all() if d.phone]
    assert phones  # the demo keeps private phones
    body = Client().get("/api/v1/deputies", {"page_size": 200}).content.decode()
    assert len(json.loads(body)) == Deputy.objects.count()
    for phone in phones:
        assert phone not in body


def test_deputies_filters(site: str, demo_city: None) -> None:
    client = Client()
    name = Deputy.objects.order_by("pk")[0].name
    data = client.get("/api/v1/deputies", {"q": name}).json()
    assert name in [d["name"] for d in data]
    assert len(data) < Deputy.objects.count()  # the query narrowed the list
    data = client.get("/api/v1/deputies", {"town": "331081100", "page_size": 200}).json()
    assert len(data) == Deputy.objects.filter(town__code="331081100").count()
    assert {d["town"] for d in data} == {"泽国镇"}
    by_name = client.get("/api/v1/deputies", {"town": "泽国镇", "page_size": 200}).json()
    assert len(by_name) == len(data)
    national = client.get("/api/v1/deputies", {"level": "national"}).json()
    assert len(national) == 1 and national[0]["level"] == "national"
    assert client.get("/api/v1/deputies", {"q": "不存在的人"}).json() == []


def test_stations_lists_16_with_location_and_urls(site: str, demo_city: None) -> None:
    client = Client()
    items, bodies = _all(client, "/api/v1/stations")
    assert len(items) == 16
    for item in items:
        assert set(item) == STATION_FIELDS
        assert item["url"] == f"{SITE}/stations/{item['id']}/"
        assert item["address"].startswith("温岭市")
        assert isinstance(item["lat"], float) and isinstance(item["lng"], float)
        assert item["code_url"].startswith(f"{SITE}/q/")
    assert not any(PHONE.search(b) for b in bodies)
    zeguo = client.get("/api/v1/stations", {"town": "331081100"}).json()
    expected = Station.objects.filter(unit__code="station-331081100")
    assert [(s["id"], s["name"]) for s in zeguo] == list(expected.values_list("pk", "name"))
    courts = client.get("/api/v1/stations", {"q": "共享法庭"})
    assert len(courts.json()) == 3 and courts["X-Total-Count"] == "3"


def test_english_level_names(site: str, demo_city: None) -> None:
    data = Client().get("/api/v1/deputies", {"q": "王建国"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert data[0]["level_name"] == "Deputy of the Wenling People's Congress"


def test_bad_paging_params_do_not_fail(site: str, demo_city: None) -> None:
    client = Client()
    first = client.get("/api/v1/stations", {"page": "x", "page_size": "-4"})
    assert len(first.json()) == 1 and 'rel="next"' in first["Link"]
    assert 'rel="prev"' not in first["Link"]
    last = client.get("/api/v1/stations", {"page": "999", "page_size": "5"})
    assert len(last.json()) == 1 and 'rel="next"' not in last.get("Link", "")


def test_directory_api_query_count(
    site: str, demo_city: None, django_assert_max_num_queries
) -> None:
    client = Client()
    with django_assert_max_num_queries(6):
        client.get("/api/v1/deputies", {"page_size": 200})
    with django_assert_max_num_queries(6):
        client.get("/api/v1/stations")


def test_trailing_slash_and_head_answer_like_the_plain_path(site: str, demo_city: None) -> None:
    client = Client()
    for path in ("/api/v1/deputies", "/api/v1/stations"):
        plain = client.get(path, {"page_size": 5})
        slash = client.get(path + "/", {"page_size": 5})
        head = client.head(path, {"page_size": 5})

        assert slash.status_code == head.status_code == 200
        assert slash.json() == plain.json()
        for response in (slash, head):
            assert response["X-Total-Count"] == plain["X-Total-Count"]
            assert 'rel="next"' in response["Link"]
        assert client.post(path).status_code == 405
