"""The pages and the API: who may see and do what, and that no page or answer puts a
deputy next to how they voted."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from civicloop.projects.models import Ballot, Candidate, Cycle, CycleState, VoterRecord
from civicloop.projects.services import ballot_cast, voting_close, voting_open

pytestmark = pytest.mark.django_db


def _client(user: Any | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _approve_all(cycle: Cycle) -> dict[str, str]:
    return {
        f"c{pk}": "for" for pk in Candidate.objects.filter(cycle=cycle).values_list("pk", flat=True)
    }


def test_public_proposal_and_its_limit(office: Any, settings: Any) -> None:
    from civicloop.projects.services import cycle_create

    settings.PROJECTS_PROPOSALS_PER_IP_PER_HOUR = 2
    cycle_create(year=2027, title="", actor=office)
    client = _client()
    assert client.get("/projects/propose/").status_code == 200
    empty = client.post("/projects/propose/", {"title": "", "description": ""})
    assert empty.status_code == 400 and "field-error" in empty.content.decode()
    for i in range(2):
        ok = client.post(
            "/projects/propose/", {"title": f"城区停车位{i}", "description": "增加停车位"}
        )
        assert ok.status_code == 200 and "MS-" in ok.content.decode()
    limited = client.post("/projects/propose/", {"title": "第三个", "description": "x"})
    assert limited.status_code == 429 and limited["Retry-After"]
    assert Candidate.objects.filter(source="public").count() == 2
    case = Candidate.objects.first().case  # type: ignore[union-attr]
    assert case.channel == "project" and case.owner_unit.code == "dept-npc-deputies"


def test_proposal_closed_after_collecting(cycle: Any, office: Any) -> None:
    voting_open(cycle=cycle, actor=office)
    page = _client().get("/projects/propose/")
    assert "征集已结束" in page.content.decode()


def test_manage_page_is_the_office_s(cycle: Any, office: Any, deputies: list[Any]) -> None:
    assert _client(deputies[0]).get("/projects/2026/manage/").status_code == 404
    assert _client().get("/projects/2026/manage/").status_code == 302
    page = _client(office).get("/projects/2026/manage/")
    assert page.status_code == 200 and "项目1" in page.content.decode()
    # The office opens the vote from the page.
    _client(office).post("/projects/2026/manage/open/")
    assert Cycle.objects.get().state == CycleState.VOTING
    # A deputy cannot close it.
    assert _client(deputies[0]).post("/projects/2026/manage/close/").status_code == 404
    assert Cycle.objects.get().state == CycleState.VOTING


def test_ballot_page_casts_once_and_shows_the_receipt_once(
    cycle: Any, office: Any, deputies: list[Any]
) -> None:
    voting_open(cycle=cycle, actor=office)
    client = _client(deputies[0])
    page = client.get("/projects/2026/ballot/")
    assert page.status_code == 200 and 'id="ballot-form"' in page.content.decode()
    incomplete = client.post("/projects/2026/ballot/", {})
    assert incomplete.status_code == 400 and "请对每个项目作出选择" in incomplete.content.decode()
    cast = client.post("/projects/2026/ballot/", _approve_all(cycle))
    assert cast.status_code == 200 and cast["Cache-Control"] == "no-store"
    html = cast.content.decode()
    receipt = re.search(r'id="receipt">([A-Z2-7-]+)<', html)
    assert receipt is not None
    assert receipt.group(1) not in str(dict(client.session))
    assert "回执码已经显示过" in client.get("/projects/2026/cast/").content.decode()
    again = client.post("/projects/2026/ballot/", _approve_all(cycle))
    assert again.status_code == 409
    assert client.get("/projects/2026/ballot/").content.decode().count('id="already"') == 1
    # Anyone holding the receipt sees the ballot, and nothing says whose it is.
    checked = _client().post("/projects/receipt/", {"receipt": receipt.group(1)})
    body = checked.content.decode()
    assert checked.status_code == 200 and "该选票已计入" in body and "赞成" in body
    assert deputies[0].username not in body
    assert (
        _client().post("/projects/receipt/", {"receipt": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}).status_code == 404
    )


def test_non_deputy_gets_no_ballot(cycle: Any, office: Any, lead_handler: Any) -> None:
    voting_open(cycle=cycle, actor=office)
    client = _client(lead_handler)
    assert 'id="not-on-roll"' in client.get("/projects/2026/ballot/").content.decode()
    refused = client.post("/projects/2026/ballot/", _approve_all(cycle))
    assert refused.status_code == 403
    assert not Ballot.objects.exists()


def test_results_pages_and_api_name_no_deputy(cycle: Any, office: Any, deputies: list[Any]) -> None:
    voting_open(cycle=cycle, actor=office)
    ids = list(Candidate.objects.order_by("ballot_number").values_list("pk", flat=True))
    for k, deputy in enumerate(deputies[:5]):
        choices = {str(pk): "for" if j <= 4 - k else "against" for j, pk in enumerate(ids)}
        ballot_cast(cycle=cycle, user=deputy, choices=choices)
    voting_close(cycle=cycle, actor=office)
    pages = [
        _client().get("/projects/2026/"),
        _client(office).get("/projects/2026/manage/"),
        _client().get("/projects/"),
        _client().get("/api/v1/projects/cycles/2026"),
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        for deputy in deputies:
            assert deputy.username not in body and deputy.full_name not in body
    data = json.loads(pages[-1].content)
    assert data["published"] and data["voters"] == 5
    assert [c["votes_for"] for c in data["candidates"]] == [5, 4, 3, 2, 1]
    assert [c["votes_against"] for c in data["candidates"]] == [0, 1, 2, 3, 4]
    # More than half of the 7 deputies: 4 votes for.
    assert [c["chosen"] for c in data["candidates"]] == [True, True, False, False, False]
    assert 'id="result"' in pages[0].content.decode()


def test_api_cast_and_receipt(cycle: Any, office: Any, deputies: list[Any]) -> None:
    voting_open(cycle=cycle, actor=office)
    ids = list(Candidate.objects.values_list("pk", flat=True))
    client = _client(deputies[1])
    answer = client.post(
        "/api/v1/projects/cycles/2026/ballots",
        json.dumps({"choices": {str(pk): "against" for pk in ids}}),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    receipt = answer.json()["receipt"]
    twice = client.post(
        "/api/v1/projects/cycles/2026/ballots",
        json.dumps({"choices": {str(pk): "against" for pk in ids}}),
        content_type="application/json",
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_voted"
    check = _client().post(
        "/api/v1/projects/receipts",
        json.dumps({"receipt": receipt}),
        content_type="application/json",
    )
    assert check.status_code == 200
    assert {line["choice"] for line in check.json()["lines"]} == {"反对"}
    assert VoterRecord.objects.count() == 1
    schema = _client().get("/api/v1/openapi.json").json()
    assert "/api/v1/projects/cycles/{year}/ballots" in schema["paths"]


def test_no_quorum_page_says_why(cycle: Any, office: Any, deputies: list[Any]) -> None:
    voting_open(cycle=cycle, actor=office)
    ids = Candidate.objects.values_list("pk", flat=True)
    receipt = ballot_cast(cycle=cycle, user=deputies[0], choices={str(pk): "for" for pk in ids})
    voting_close(cycle=cycle, actor=office)
    body = _client().get("/projects/2026/").content.decode()
    assert "不足法定人数" in body and 'id="result"' not in body
    checked = _client().post("/projects/receipt/", {"receipt": receipt}).content.decode()
    assert 'id="void"' in checked and "该选票已计入" not in checked


def test_deputy_and_department_proposals_say_their_source(
    office: Any, deputies: list[Any], lead_handler: Any
) -> None:
    from civicloop.projects.services import cycle_create

    cycle_create(year=2027, title="", actor=office)
    _client(deputies[0]).post("/projects/propose/", {"title": "老年食堂", "description": "建设"})
    _client(lead_handler).post("/projects/propose/", {"title": "背街小巷", "description": "改造"})
    rows = dict(Candidate.objects.values_list("title", "source"))
    assert rows == {"老年食堂": "deputy", "背街小巷": "department"}
    assert Candidate.objects.get(title="背街小巷").lead_unit.code == "dept-housing"  # type: ignore[union-attr]


def test_k_of_n_ballot_page(office: Any, deputies: list[Any]) -> None:
    from tests.projects.conftest import shortlisted_cycle

    cycle = shortlisted_cycle(office=office, count=4, places=2, mode="k_of_n")
    voting_open(cycle=cycle, actor=office)
    ids = list(Candidate.objects.order_by("ballot_number").values_list("pk", flat=True))
    client = _client(deputies[0])
    page = client.get("/projects/2026/ballot/").content.decode()
    assert page.count('type="checkbox" name="chosen"') == 4
    too_many = client.post("/projects/2026/ballot/", {"chosen": ids[:3]})
    assert too_many.status_code == 400 and "最多可选 2 项" in too_many.content.decode()
    ok = client.post("/projects/2026/ballot/", {"chosen": ids[:2]})
    assert ok.status_code == 200 and 'id="receipt"' in ok.content.decode()
    assert Ballot.objects.get().choices == {"chosen": sorted(str(pk) for pk in ids[:2])}


def test_satisfaction_page(cycle: Any, office: Any, deputies: list[Any]) -> None:
    from civicloop.projects.services import delivery_start, evaluation_open

    voting_open(cycle=cycle, actor=office)
    ids = list(Candidate.objects.order_by("ballot_number").values_list("pk", flat=True))
    for deputy in deputies[:5]:
        ballot_cast(
            cycle=cycle,
            user=deputy,
            choices={str(pk): "for" if pk == ids[0] else "against" for pk in ids},
        )
    voting_close(cycle=cycle, actor=office)
    delivery_start(cycle=cycle, actor=office)
    client = _client(deputies[6])
    assert 'id="not-open"' in client.get("/projects/2026/satisfaction/").content.decode()
    evaluation_open(cycle=cycle, actor=office)
    page = client.get("/projects/2026/satisfaction/").content.decode()
    assert "基本满意" in page and "项目1" in page and "项目2" not in page
    cast = client.post("/projects/2026/satisfaction/", {f"c{ids[0]}": "basically"})
    assert cast.status_code == 200 and 'id="receipt"' in cast.content.decode()
    office_page = _client(office).get("/projects/2026/manage/").content.decode()
    assert "已参加 1 人" in office_page


def test_office_promotes_a_case_by_number(office: Any, settings: Any, lead_handler: Any) -> None:
    """The office may promote a case of a promotable channel it does not handle; a
    case of another channel, or an unknown number, is refused with a message."""
    from civicloop.core.cases.links import case_became
    from civicloop.core.cases.services import CaseDraft, case_submit
    from civicloop.core.units.models import Unit
    from civicloop.projects.services import cycle_create

    settings.PROJECTS_PROMOTE_CHANNELS = ["project_finding"]
    cycle_create(year=2027, title="", actor=office)
    housing = Unit.objects.get(code="dept-housing")
    source = case_submit(
        draft=CaseDraft(
            channel="project_finding", title="停车难", body="小区停车难", owner_unit=housing
        )
    )
    client = _client(office)
    form = {
        "title": "停车位",
        "description": "新增停车位",
        "source": "promoted",
        "from_numbers": "NOPE-1",
    }
    client.post("/projects/2027/manage/add/", form)
    assert not Candidate.objects.exists()
    client.post("/projects/2027/manage/add/", {**form, "from_numbers": source.number})
    candidate = Candidate.objects.get()
    assert case_became(case=source) == [candidate.case.number]
    assert source.number in client.get(f"/projects/p/{candidate.pk}/").content.decode()
    # A lead unit's handler is not the office: the page is not theirs.
    assert _client(lead_handler).post("/projects/2027/manage/add/", form).status_code == 404
