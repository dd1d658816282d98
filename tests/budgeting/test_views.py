"""Pages of 参与式预算 (civicloop/budgeting/views.py): who may see and do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicloop.budgeting.models import BudgetProject, PanelMember, Phase, Wave
from civicloop.budgeting.services import panel_draw, questionnaire_create
from tests.budgeting.conftest import add_projects, frame_csv, make_process


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_process_page_is_public_and_shows_the_phase(process: Any) -> None:
    add_projects(process, [100_000])
    page = Client().get(f"/budget/{process.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-phase="collecting"' in html and "征集" in html and "项目1" in html
    assert Client().get("/budget/no-such/").status_code == 404
    assert process.title in Client().get("/budget/").content.decode()


def test_public_proposal_is_stored_with_the_phone_encrypted_and_limited(
    process: Any, settings: Any
) -> None:
    settings.BUDGET_PROPOSALS_PER_IP_PER_HOUR = 2
    client = Client()
    assert client.get(f"/budget/{process.code}/propose/").status_code == 200
    empty = client.post(f"/budget/{process.code}/propose/", {"title": "", "cost": ""})
    assert empty.status_code == 400
    data = {
        "title": "村口路灯",
        "description": "晚上太黑",
        "cost": "80000",
        "contact_phone": "13912345678",
    }
    ok = client.post(f"/budget/{process.code}/propose/", data)
    assert ok.status_code == 200 and 'id="proposed"' in ok.content.decode()
    project = BudgetProject.objects.get(process=process, title="村口路灯")
    assert project.source == "public" and project.status == "proposed"
    assert project.contact_phone == "13912345678"
    assert (
        client.post(f"/budget/{process.code}/propose/", {**data, "title": "第二个"}).status_code
        == 200
    )
    limited = client.post(f"/budget/{process.code}/propose/", {**data, "title": "第三个"})
    assert limited.status_code == 429 and limited["Retry-After"]
    assert not BudgetProject.objects.filter(title="第三个").exists()


def test_proposals_are_closed_after_collecting(city: None) -> None:
    process = make_process(phase=Phase.SCREENING)
    page = Client().post(
        f"/budget/{process.code}/propose/", {"title": "x", "description": "y", "cost": "1"}
    )
    assert "项目征集已结束" in page.content.decode()
    assert not process.projects.exists()


def test_screening_is_the_town_staff_s(process: Any, town_staff: Any, other_staff: Any) -> None:
    (project,) = add_projects(process, [100_000], status="proposed")
    url = f"/budget/{process.code}/screen/"
    # anonymous: to the login page; another town's staff: 403, and nothing changes
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert _as(other_staff).get(url).status_code == 403
    refused = _as(other_staff).post(url, {"op": "accept", "project": project.pk})
    assert refused.status_code == 403
    project.refresh_from_db()
    assert project.status == "proposed"
    # the town's own staff: a rejection needs a reason
    staff = _as(town_staff)
    assert staff.get(url).status_code == 200
    staff.post(url, {"op": "reject", "project": project.pk, "reason": ""})
    project.refresh_from_db()
    assert project.status == "proposed"
    staff.post(url, {"op": "reject", "project": project.pk, "reason": "不属于公共工程"})
    project.refresh_from_db()
    assert project.status == "rejected" and project.screening_reason == "不属于公共工程"
    assert project.screened_by == town_staff


def test_merging_a_duplicate_accepts_the_one_it_goes_into(process: Any, town_staff: Any) -> None:
    keep, dup = add_projects(process, [100_000, 90_000], status="proposed")
    _as(town_staff).post(
        f"/budget/{process.code}/screen/",
        {"op": "merge", "project": dup.pk, "into": keep.pk, "reason": "重复"},
    )
    dup.refresh_from_db()
    keep.refresh_from_db()
    assert dup.status == "merged" and dup.merged_into == keep
    assert keep.status == "accepted"


def test_panel_page_imports_the_frame_and_draws_for_staff_only(
    city: None, town_staff: Any, other_staff: Any
) -> None:
    process = make_process(
        phase=Phase.SCREENING, panel_size=20, panel_reserve=2, panel_features=["sex_group", "band"]
    )
    url = f"/budget/{process.code}/panel/"
    upload = SimpleUploadedFile("frame.csv", frame_csv(200).getvalue().encode("utf-8"))
    assert _as(other_staff).post(url, {"op": "frame", "file": upload}).status_code == 403
    assert not process.frame.exists()
    staff = _as(town_staff)
    upload = SimpleUploadedFile("frame.csv", frame_csv(200).getvalue().encode("utf-8"))
    assert staff.post(url, {"op": "frame", "file": upload}).status_code == 302
    assert process.frame.count() == 200
    assert staff.post(url, {"op": "draw", "seed": "5"}).status_code == 302
    page = staff.get(url)
    assert page.status_code == 200 and "data-strata" in page.content.decode()
    assert PanelMember.objects.filter(draw__process=process, reserve=False).count() == 20
    # a re-draw without a reason is refused on the form
    again = staff.post(url, {"op": "draw", "seed": "6"})
    assert again.status_code == 409 and "理由" in again.content.decode()


def test_analysis_is_staff_only_until_published(
    process: Any, town_staff: Any, other_staff: Any
) -> None:
    url = f"/budget/{process.code}/analysis/"
    assert Client().get(url).status_code == 302
    assert _as(other_staff).get(url).status_code == 403
    assert _as(town_staff).get(url).status_code == 200
    process.phase = Phase.PUBLISHED
    process.save(update_fields=["phase"])
    assert Client().get(url).status_code == 200


@pytest.fixture
def member(city: None) -> PanelMember:
    process = make_process(
        phase=Phase.SCREENING, panel_size=10, panel_reserve=0, panel_features=["band"]
    )
    from civicloop.budgeting.services import frame_import_csv

    frame_import_csv(process=process, stream=frame_csv(60))
    add_projects(process, [100_000, 200_000])
    draw = panel_draw(process=process, seed=3)
    return draw.members.filter(reserve=False).first()  # type: ignore[return-value]


def test_member_answers_rsvp_and_t1_by_ticket(member: PanelMember) -> None:
    process = member.draw.process
    client = Client()
    assert client.get("/budget/t/not-a-ticket/").status_code == 404
    assert client.get(f"/budget/t/{member.ticket}/").status_code == 200
    client.post(f"/budget/t/{member.ticket}/", {"rsvp": "yes"})
    member.refresh_from_db()
    assert member.rsvp == "yes"
    questionnaire_create(
        process=process,
        wave=Wave.T1,
        title="T1",
        knowledge_items=[{"id": "k1", "text": "?", "options": ["a", "b"], "answer": 1}],
    )
    url = f"/budget/t/{member.ticket}/t1/"
    page = client.get(url)
    assert page.status_code == 200 and 'data-questionnaire="t1"' in page.content.decode()
    p1, p2 = process.projects.order_by("pk")
    incomplete = client.post(url, {f"p_{p1.pk}": "7"})
    assert incomplete.status_code == 400
    done = client.post(url, {f"p_{p1.pk}": "7", f"p_{p2.pk}": "3", "k_k1": "1"})
    assert done.status_code == 302
    response = member.responses.get()
    assert response.knowledge_score == 1
    assert dict(response.ratings.values_list("project_id", "score")) == {p1.pk: 7, p2.pk: 3}
    assert 'id="answered"' in client.get(url).content.decode()


def test_report_pdf_covers_the_process(member: PanelMember) -> None:
    from civicloop.core.accounts.models import User

    process = member.draw.process
    admin = User.objects.create(username="boss", is_staff=True)
    assert Client().get(f"/budget/{process.code}/report.pdf").status_code == 404
    pdf = _as(admin).get(f"/budget/{process.code}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_a_panel_member_votes_with_their_ticket_once(member: PanelMember) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from civicloop.budgeting.ballots import ballot_open
    from civicloop.budgeting.rules import BallotKind

    process = member.draw.process
    now = timezone.now()
    ballot = ballot_open(
        process=process,
        title="票决",
        kind=BallotKind.APPROVAL,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=1),
    )
    first = process.projects.order_by("pk").first()
    url = f"/budget/{process.code}/vote/?ticket={member.ticket}"
    assert Client().get(url).status_code == 200
    cast = Client().post(url, {"ticket": member.ticket, "project": [first.pk]})
    assert cast.status_code == 302
    vote = ballot.votes.get()
    assert vote.voter_key == f"panel:{member.pk}" and vote.choices == {str(first.pk): 1}
    again = Client().post(url, {"ticket": member.ticket, "project": [first.pk]})
    assert again.status_code == 409
    assert ballot.votes.count() == 1
    # a ticket that is not this process's is refused
    refused = Client().post(
        f"/budget/{process.code}/vote/?ticket=forged", {"ticket": "forged", "project": [first.pk]}
    )
    assert refused.status_code == 401
