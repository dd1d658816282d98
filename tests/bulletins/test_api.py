"""/api/v1/bulletins: list and search, an item, the reading heartbeat, the study record,
and who has not read (代表工委 only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.bulletins.conftest import People

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_api_flow(people: People, publish: Any) -> None:
    item = publish(title="2026年政府工作报告", required=True, tags="报告")
    publish(title="学习课程", section="learning", category="training", body="第一讲 选题。")
    deputy = _client(people.deputy)

    listing = deputy.get("/api/v1/bulletins/items", {"q": "政府工作"}).json()
    assert [i["id"] for i in listing] == [item.pk]
    assert listing[0]["read_finished"] is False and listing[0]["tags"] == ["报告"]

    detail = deputy.get(f"/api/v1/bulletins/items/{item.pk}").json()
    assert detail["body"] and detail["files"] == []

    beat = deputy.post(
        f"/api/v1/bulletins/items/{item.pk}/reading",
        {"event": "finish", "seconds": 5},
        content_type="application/json",
    )
    assert beat.status_code == 200 and beat.json()["finished_at"]
    bad = deputy.post(
        f"/api/v1/bulletins/items/{item.pk}/reading",
        {"event": "nonsense"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "event"

    study = deputy.get("/api/v1/bulletins/study").json()
    assert study["required_finished"] == 1 and study["rows"][0]["item"] == item.pk

    assert deputy.get(f"/api/v1/bulletins/items/{item.pk}/pending").status_code == 403
    pending = _client(people.editor).get(f"/api/v1/bulletins/items/{item.pk}/pending").json()
    assert [p["user_id"] for p in pending] == [people.deputy2.pk]


def test_api_refuses_strangers(people: People, publish: Any) -> None:
    item = publish()
    assert Client().get("/api/v1/bulletins/items").status_code == 401
    assert _client(people.citizen).get(f"/api/v1/bulletins/items/{item.pk}").status_code == 401
    assert _client(people.deputy).get("/api/v1/bulletins/items/999999").status_code == 404


def test_endpoints_are_in_the_schema(people: People) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/bulletins/items" in paths
    assert "/api/v1/bulletins/items/{item_id}/reading" in paths
