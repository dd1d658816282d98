"""The pages of 督政议事: each user sees their part, refusals come back on the page with
their status, the vote form and the public summary (published only, no names)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from civicloop.core.cases.models import Case
from civicloop.core.cases.services import transition
from civicloop.oversight import services
from civicloop.oversight.models import Meeting, Question, Topic, Vote
from tests.oversight.conftest import City

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _url(meeting: Meeting, action: str = "") -> str:
    return f"/oversight/meetings/{meeting.pk}/" + (f"act/{action}/" if action else "")


def test_the_overview_shows_each_user_their_part(city: City) -> None:
    staff = _client(city.staff).get("/oversight/")
    assert staff.status_code == 200
    assert "新建会议" in staff.content.decode() and city.meeting.title in staff.content.decode()
    # The 代表工委 is a department too, but it is not asked questions.
    assert "向本单位提出的问题" not in staff.content.decode()
    assert "向本单位提出的问题" in _client(city.housing_handler).get("/oversight/").content.decode()
    deputy = _client(city.deputy).get("/oversight/").content.decode()
    assert city.meeting.title in deputy and "新建会议" not in deputy
    assert _client(city.citizen).get("/oversight/").status_code == 404
    assert Client().get("/oversight/").status_code == 302  # to the login page


def test_staff_run_a_meeting_through_the_page(city: City) -> None:
    client = _client(city.staff)
    answer_by = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = client.post(
        _url(city.meeting, "question"),
        {
            "asked_by": city.deputy.pk,
            "unit": city.transport.pk,
            "text": "公交线网何时优化？",
            "answer_by": answer_by,
        },
    )
    assert response.status_code == 302
    question = Question.objects.get(meeting=city.meeting)
    assert question.unit == city.transport
    page = client.get(_url(city.meeting)).content.decode()
    assert question.case.number in page and "公交线网何时优化" in page
    # A refusal comes back on the page with its status: an empty question.
    refused = client.post(
        _url(city.meeting, "question"), {"asked_by": city.deputy.pk, "unit": city.transport.pk}
    )
    assert refused.status_code == 400 and "请填写必填项" in refused.content.decode()
    # A deputy cannot take staff actions.
    assert _client(city.deputy).post(_url(city.meeting, "open_vote")).status_code == 403
    # Minutes with a file whose content is not a PDF: refused on the page.
    bad = SimpleUploadedFile("纪要.pdf", b"<html><script>alert(1)</script>", "application/pdf")
    refused = client.post(_url(city.meeting, "minutes"), {"minutes": "纪要", "files": bad})
    assert refused.status_code == 400
    assert not Meeting.objects.get(pk=city.meeting.pk).minutes


def test_a_deputy_votes_on_the_page_once(city: City) -> None:
    question = services.question_ask(
        actor=city.staff, meeting=city.meeting, asked_by=city.deputy, unit=city.housing, text="问"
    )
    transition(case=question.case, action="answer", actor=city.housing_handler, note="答复")
    services.voting_open(actor=city.staff, meeting=city.meeting)
    client = _client(city.deputy)
    page = client.get(_url(city.meeting)).content.decode()
    assert 'name="choice"' in page
    ok = client.post(_url(city.meeting, "vote"), {"unit": city.housing.pk, "choice": "satisfied"})
    assert ok.status_code == 302
    again = client.post(
        _url(city.meeting, "vote"), {"unit": city.housing.pk, "choice": "unsatisfied"}
    )
    assert again.status_code == 409 and "不能重复测评" in again.content.decode()
    assert list(Vote.objects.values_list("choice", flat=True)) == ["satisfied"]
    assert "您已测评" in client.get(_url(city.meeting)).content.decode()
    # Someone not at the meeting does not even see it.
    assert _client(city.outsider_deputy).get(_url(city.meeting)).status_code == 404


def test_a_department_sees_its_questions_and_answers_on_the_case_page(city: City) -> None:
    question = services.question_ask(
        actor=city.staff, meeting=city.meeting, asked_by=city.deputy, unit=city.housing, text="问"
    )
    client = _client(city.housing_handler)
    assert question.case.number in client.get("/oversight/").content.decode()
    case_page = client.get(f"/cases/{question.case.number}/")
    assert case_page.status_code == 200 and "书面答复" in case_page.content.decode()
    client.post(
        f"/cases/{question.case.number}/act/answer/",
        {"answer-note": "已安排。", "answer-idempotency_key": "k1"},
    )
    assert Case.objects.get(pk=question.case_id).state == "answered"
    # The channel's staff page leads to the meeting.
    assert client.get(f"/oversight/cases/{question.case.number}/").url == _url(city.meeting)


def test_the_public_summary_is_shown_only_once_published_and_names_no_one(city: City) -> None:
    question = services.question_ask(
        actor=city.staff,
        meeting=city.meeting,
        asked_by=city.deputy,
        unit=city.housing,
        text="停车难",
    )
    transition(case=question.case, action="answer", actor=city.housing_handler, note="新建车位")
    services.voting_open(actor=city.staff, meeting=city.meeting)
    services.vote_cast(
        actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="basically"
    )
    anonymous = Client()
    assert anonymous.get(f"/oversight/public/{city.meeting.pk}/").status_code == 404
    services.voting_close(actor=city.staff, meeting=city.meeting)
    services.meeting_publish(actor=city.staff, meeting=city.meeting)
    listing = anonymous.get("/oversight/public/").content.decode()
    assert city.meeting.title in listing
    page = anonymous.get(f"/oversight/public/{city.meeting.pk}/").content.decode()
    assert "停车难" in page and "新建车位" in page and "基本满意" in page
    for name in ("王建国", "林秀芳", "周工", "钱主任", "deputy_wang"):
        assert name not in page


def test_the_new_meeting_form(city: City) -> None:
    topic = Topic.objects.get()
    client = _client(city.staff)
    assert client.get("/oversight/meetings/new/").status_code == 200
    refused = client.post("/oversight/meetings/new/", {"topic": topic.pk, "kind": "inquiry"})
    assert refused.status_code == 400
    made = client.post(
        "/oversight/meetings/new/",
        {
            "topic": topic.pk,
            "kind": "deliberation",
            "title": "议事会",
            "held_at": "2026-12-20T09:00",
            "place": "泽国镇联络站",
        },
    )
    assert made.status_code == 302
    assert Meeting.objects.filter(title="议事会", kind="deliberation").exists()
    assert _client(city.deputy).get("/oversight/meetings/new/").status_code == 404


def test_minute_files_are_served_to_those_who_see_the_meeting(city: City) -> None:
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    meeting = services.minutes_save(
        actor=city.staff,
        meeting=city.meeting,
        minutes="纪要",
        uploads=[SimpleUploadedFile("纪要.pdf", pdf, "application/pdf")],
    )
    attachment = meeting.minute_files.get()
    url = f"/oversight/meetings/{meeting.pk}/files/{attachment.pk}/"
    response = _client(city.deputy).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert _client(city.outsider_deputy).get(url).status_code == 404
    assert _client(city.transport_handler).get(url).status_code == 404


def test_the_meeting_page_reads_a_bounded_number_of_queries(
    city: City, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        services.question_ask(
            actor=city.staff,
            meeting=city.meeting,
            asked_by=city.deputy,
            unit=city.housing if i % 2 else city.transport,
            text=f"问题{i}",
        )
    client = _client(city.staff)
    client.get(_url(city.meeting))
    with django_assert_max_num_queries(30):
        assert client.get(_url(city.meeting)).status_code == 200


def test_a_seated_deputy_puts_a_question_to_a_seated_department(city: City) -> None:
    client = _client(city.deputy)
    page = client.get(_url(city.meeting)).content.decode()
    assert 'data-form="my-question"' in page and 'data-form="question"' not in page
    done = client.post(_url(city.meeting, "question"), {"unit": city.housing.pk, "text": "停车难"})
    assert done.status_code == 302
    question = Question.objects.get()
    assert question.asked_by == city.deputy and question.case.submitter == city.deputy
    # A department not seated at the meeting is refused to a deputy.
    refused = client.post(
        _url(city.meeting, "question"), {"unit": city.transport.pk, "text": "公交"}
    )
    assert refused.status_code == 403 and "该部门没有参加本次会议" in refused.content.decode()
