"""/api/v1/oversight: meetings for a signed-in user, a meeting's detail, a deputy's vote
(once), the public summaries; all in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client

from civicloop.core.cases.services import transition
from civicloop.oversight import services
from tests.oversight.conftest import City

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _answered(city: City):  # type: ignore[no-untyped-def]
    question = services.question_ask(
        actor=city.staff, meeting=city.meeting, asked_by=city.deputy, unit=city.housing, text="问"
    )
    transition(case=question.case, action="answer", actor=city.housing_handler, note="答")
    return question


def test_meetings_and_a_meeting_for_those_who_take_part(city: City) -> None:
    question = _answered(city)
    listing = _client(city.deputy).get("/api/v1/oversight/meetings")
    assert listing.status_code == 200
    assert [m["title"] for m in listing.json()] == [city.meeting.title]
    detail = _client(city.housing_handler).get(f"/api/v1/oversight/meetings/{city.meeting.pk}")
    body = detail.json()
    assert body["questions"][0]["number"] == question.case.number
    assert body["questions"][0]["answer"] == "答" and body["results"][0]["outcome"] is None
    assert (
        _client(city.outsider_deputy)
        .get(f"/api/v1/oversight/meetings/{city.meeting.pk}")
        .status_code
        == 404
    )
    assert Client().get("/api/v1/oversight/meetings").status_code == 401


def test_a_deputy_votes_through_the_api_once(city: City) -> None:
    _answered(city)
    services.voting_open(actor=city.staff, meeting=city.meeting)
    client = _client(city.deputy)
    url = f"/api/v1/oversight/meetings/{city.meeting.pk}/votes"
    payload = {"unit_code": "dept-housing", "choice": "satisfied"}
    first = client.post(url, payload, content_type="application/json")
    assert first.status_code == 201 and first.json()["choice"] == "satisfied"
    second = client.post(url, payload, content_type="application/json")
    assert second.status_code == 409 and second.json()["code"] == "already_voted"
    bad = client.post(
        url, {"unit_code": "dept-housing", "choice": "meh"}, content_type="application/json"
    )
    assert bad.status_code in (400, 409)


def test_public_summaries_and_the_schema(city: City) -> None:
    _answered(city)
    services.voting_open(actor=city.staff, meeting=city.meeting)
    services.vote_cast(
        actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="satisfied"
    )
    anonymous = Client()
    assert anonymous.get("/api/v1/oversight/public/meetings").json() == []
    assert anonymous.get(f"/api/v1/oversight/public/meetings/{city.meeting.pk}").status_code == 404
    services.voting_close(actor=city.staff, meeting=city.meeting)
    services.meeting_publish(actor=city.staff, meeting=city.meeting)
    detail = anonymous.get(f"/api/v1/oversight/public/meetings/{city.meeting.pk}").json()
    assert detail["results"][0]["outcome"] == "satisfied"
    assert detail["results"][0]["satisfaction_rate"] == 1.0
    paths = anonymous.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/oversight/meetings" in paths
    assert "/api/v1/oversight/meetings/{meeting_id}/votes" in paths


def test_staff_create_a_meeting_and_record_a_question_through_the_api(city: City) -> None:
    client = _client(city.staff)
    made = client.post(
        "/api/v1/oversight/meetings",
        {
            "topic_id": city.meeting.topic_id,
            "kind": "deliberation",
            "title": "农村生活污水治理议事会",
            "held_at": "2026-12-20T14:30:00+08:00",
            "place": "泽国镇联络站",
        },
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["kind_label"] == "议事会"
    url = f"/api/v1/oversight/meetings/{city.meeting.pk}/questions"
    asked = client.post(
        url,
        {"asked_by": "deputy_wang", "unit_code": "dept-transport", "text": "公交何时优化？"},
        content_type="application/json",
    )
    assert asked.status_code == 201
    assert asked.json()["number"].startswith("DZ-") and asked.json()["state"] == "asked"
    # A deputy may not create meetings, nor record another deputy's question.
    deputy = _client(city.deputy)
    refused = deputy.post(
        "/api/v1/oversight/meetings",
        {
            "topic_id": city.meeting.topic_id,
            "kind": "inquiry",
            "title": "x",
            "held_at": "2026-12-20T14:30:00+08:00",
            "place": "y",
        },
        content_type="application/json",
    )
    assert refused.status_code == 403
    refused = deputy.post(
        url,
        {"asked_by": "deputy_002", "unit_code": "dept-housing", "text": "代问"},
        content_type="application/json",
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
