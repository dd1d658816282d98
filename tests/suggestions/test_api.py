"""GET /api/v1/suggestions/{number} (fixed interface), the list and the figures."""

from __future__ import annotations

import pytest
from django.test import Client

from civicloop.core.accounts.services import api_key_create
from tests.suggestions.conftest import People, draft, to_answered

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_detail_has_the_fixed_fields(people: People) -> None:
    s = to_answered(people, category="B")
    body = client_for(people.office).get(f"/api/v1/suggestions/{s.case.number}").json()
    assert body["number"] == s.case.number
    assert body["state"] == "answered"
    assert body["lead_unit"] == {"code": "dept-housing", "name": people.housing_unit.name}
    assert body["assisting_units"] == [
        {"code": "dept-transport", "name": people.transport_unit.name}
    ]
    assert body["answer_category"] == "B"
    assert body["due_at"] is not None
    assert body["came_from"] == []


def test_detail_is_404_for_who_may_not_see_it_and_401_without_login(people: People) -> None:
    s = draft(people)
    assert client_for(people.chen).get(f"/api/v1/suggestions/{s.case.number}").status_code == 404
    assert Client().get(f"/api/v1/suggestions/{s.case.number}").status_code == 401
    assert client_for(people.office).get("/api/v1/suggestions/JY-2026-999999").status_code == 404


def test_an_integration_key_reads_any(people: People) -> None:
    s = draft(people)
    raw = _key()
    resp = Client().get(f"/api/v1/suggestions/{s.case.number}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert resp.status_code == 200 and resp.json()["state"] == "drafted"


def _key() -> str:
    return api_key_create(name="acceptance")[1]


def test_figures_for_the_office_only(people: People) -> None:
    to_answered(people)
    body = client_for(people.office).get("/api/v1/suggestions/figures").json()
    assert body["total"] == 1 and body["answered"] == 1 and body["categories"]["A"] == 1
    assert client_for(people.wang).get("/api/v1/suggestions/figures").status_code == 403


def test_in_the_openapi_schema(people: People) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/suggestions/{number}" in paths


def test_list_reads_a_fixed_number_of_queries(
    people: People, django_assert_max_num_queries: object
) -> None:
    from tests.suggestions.conftest import to_handling

    for _ in range(4):
        to_handling(people)
    c = client_for(people.office)
    c.get("/api/v1/suggestions")
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        rows = c.get("/api/v1/suggestions").json()
    assert len(rows) == 4 and all(r["lead_unit"]["code"] == "dept-housing" for r in rows)
