"""The JSON API at /api/v1/budget/ (civicloop/budgeting/api.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.budgeting.ballots import ballot_open, vote_cast
from civicloop.budgeting.models import Phase
from civicloop.budgeting.pabulib import pabulib_read
from civicloop.budgeting.rules import BallotKind
from tests.budgeting.conftest import add_projects, make_process


@pytest.fixture
def voted(city: None) -> tuple[Any, list[Any]]:
    """A process whose approval vote is over: A (600k) 5 votes, B (300k) 3, C (200k) 4,
    budget 800k."""
    process = make_process(code="api-test", phase=Phase.VOTING, total_budget=800_000)
    a, b, c = add_projects(process, [600_000, 300_000, 200_000])
    now = timezone.now()
    ballot = ballot_open(
        process=process,
        title="票决",
        kind=BallotKind.APPROVAL,
        opens_at=now - timedelta(days=2),
        closes_at=now - timedelta(days=1),
    )
    during = now - timedelta(days=1, hours=12)
    picks = [[a, c]] * 3 + [[a, b]] * 2 + [[b]] + [[c]]
    for i, pick in enumerate(picks):
        vote_cast(
            ballot=ballot,
            voter_key=f"panel:{i}",
            voter_kind="panel",
            choices={str(p.pk): 1 for p in pick},
            now=during,
        )
    return process, [a, b, c]


def test_process_shows_its_phase_and_accepted_projects(voted: tuple[Any, list[Any]]) -> None:
    process, projects = voted
    body = Client().get(f"/api/v1/budget/{process.code}").json()
    assert body["phase"] == "voting"
    assert body["phase_label"] == "投票"
    assert [p["phase"] for p in body["phases"]][:2] == ["collecting", "screening"]
    assert [p["current"] for p in body["phases"]].index(True) == 4
    assert [p["id"] for p in body["projects"]] == [p.pk for p in projects]


def test_pabulib_file_reads_back_with_pabutools(voted: tuple[Any, list[Any]]) -> None:
    process, projects = voted
    response = Client().get(f"/api/v1/budget/{process.code}/pabulib.pb")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.startswith("META\n")
    instance, profile = pabulib_read(text)
    assert instance.budget_limit == 800_000
    assert {p.name for p in instance} == {str(p.pk) for p in projects}
    assert len(profile) == 7


def test_outcome_by_rule(voted: tuple[Any, list[Any]]) -> None:
    process, (a, _b, c) = voted
    client = Client()
    # greedy on approval funds by votes: A (5) then C (4) = 800k; B (3) no longer fits
    greedy = client.get(f"/api/v1/budget/{process.code}/outcome?rule=greedy").json()
    assert [p["id"] for p in greedy["projects"]] == [a.pk, c.pk]
    assert greedy["total_cost"] == 800_000 and greedy["rule"] == "greedy"
    for rule in ("mes", "phragmen"):
        body = client.get(f"/api/v1/budget/{process.code}/outcome", {"rule": rule}).json()
        assert body["rule"] == rule
        assert body["total_cost"] <= 800_000
        assert body["total_cost"] == sum(p["cost"] for p in body["projects"])
    unknown = client.get(f"/api/v1/budget/{process.code}/outcome?rule=dictator")
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_rule"
    assert "dictator" in unknown.json()["detail"]


def test_unknown_process_and_unpublished_panel_are_not_found(voted: tuple[Any, list[Any]]) -> None:
    process, _projects = voted
    client = Client()
    assert client.get("/api/v1/budget/no-such").status_code == 404
    assert client.get("/api/v1/budget/no-such/pabulib.pb").status_code == 404
    assert client.get(f"/api/v1/budget/{process.code}/panel").status_code == 404


def test_the_endpoints_are_in_the_openapi_schema(db: None) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/budget/{code}/pabulib.pb" in paths
    assert "/api/v1/budget/{code}/outcome" in paths
