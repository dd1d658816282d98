"""The services of 督政议事: who may do what, questions as core cases, the vote (once
each, only when answered), closing it onto the cases, follow-ups linked both ways, the
minutes files checked by content, and publication."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.links import case_became, case_came_from
from civicloop.core.cases.models import Case
from civicloop.core.cases.selectors import workbench_for
from civicloop.core.cases.services import transition
from civicloop.oversight import services
from civicloop.oversight.errors import OversightError, OversightErrorCode
from civicloop.oversight.hooks import QUESTION
from civicloop.oversight.models import MeetingStatus, TopicState, Vote
from civicloop.oversight.selectors import department_results, meetings_for
from tests.oversight.conftest import City

pytestmark = pytest.mark.django_db


def _ask(city: City, unit=None, *, asked_by=None, text="请问停车场建设进度如何？"):  # type: ignore[no-untyped-def]
    return services.question_ask(
        actor=city.staff,
        meeting=city.meeting,
        asked_by=asked_by or city.deputy,
        unit=unit or city.housing,
        text=text,
        answer_by=timezone.localdate() + timedelta(days=10),
    )


def _answer(city: City, question, handler=None) -> Case:  # type: ignore[no-untyped-def]
    return transition(
        case=question.case,
        action="answer",
        actor=handler or city.housing_handler,
        note="今年新建停车场6处，已建成3处。",
    )


# --------------------------------------------------------------------------- topics


def test_a_deputy_proposes_and_only_staff_decide(city: City) -> None:
    topic = services.topic_propose(actor=city.deputy2, title="电动车充电", description="飞线充电。")
    assert topic.proposer_kind == "deputy" and topic.state == TopicState.PROPOSED
    with pytest.raises(OversightError) as refused:
        services.topic_decide(actor=city.deputy, topic=topic, accept=True)
    assert refused.value.code == OversightErrorCode.FORBIDDEN
    with pytest.raises(OversightError) as refused:
        services.topic_decide(actor=city.staff, topic=topic, accept=False)
    assert refused.value.field == "note"  # turning it down needs a reason
    services.topic_decide(actor=city.staff, topic=topic, accept=False, note="已列入民生实事。")
    topic.refresh_from_db()
    assert topic.state == TopicState.REJECTED
    with pytest.raises(OversightError) as refused:
        services.topic_decide(actor=city.staff, topic=topic, accept=True)
    assert refused.value.code == OversightErrorCode.WRONG_STATE


def test_a_citizen_or_department_cannot_propose(city: City) -> None:
    for actor in (city.citizen, city.housing_handler):
        with pytest.raises(OversightError):
            services.topic_propose(actor=actor, title="x", description="y")


def test_a_meeting_needs_an_accepted_topic(city: City) -> None:
    topic = services.topic_propose(actor=city.staff, title="夜市管理", description="噪音。")
    assert topic.proposer_kind == "committee"
    with pytest.raises(OversightError) as refused:
        services.meeting_create(
            actor=city.staff,
            topic=topic,
            kind="inquiry",
            title="夜市",
            held_at=timezone.now(),
            place="会议室",
        )
    assert refused.value.field == "topic"


# --------------------------------------------------------------------------- questions


def test_a_question_is_a_case_held_by_the_department_due_on_the_answer_date(city: City) -> None:
    question = _ask(city, city.transport)
    case = question.case
    assert case.channel == QUESTION.code and case.number.startswith("DZ-")
    assert case.owner_unit == city.transport and case.holder_unit == city.transport
    assert timezone.localtime(case.due_at).date() == timezone.localdate() + timedelta(days=10)
    # The department was seated, and sees the question on its workbench and case list.
    assert city.meeting.participants.filter(unit=city.transport).exists()
    assert case in workbench_for(user=city.transport_handler).to_accept
    assert cases_visible_to(city.transport_handler).filter(pk=case.pk).exists()
    # The city's leader sees it (cockpit); another department does not.
    assert cases_visible_to(city.leader).filter(pk=case.pk).exists()
    assert not cases_visible_to(city.housing_handler).filter(pk=case.pk).exists()


def test_only_a_seated_deputy_asks_and_only_staff_record_others_questions(city: City) -> None:
    with pytest.raises(OversightError) as refused:
        _ask(city, asked_by=city.outsider_deputy)
    assert refused.value.code == OversightErrorCode.NOT_PARTICIPANT
    with pytest.raises(OversightError) as refused:
        services.question_ask(
            actor=city.deputy,
            meeting=city.meeting,
            asked_by=city.deputy2,
            unit=city.housing,
            text="代人提问",
        )
    assert refused.value.code == OversightErrorCode.FORBIDDEN
    # A seated deputy may put their own question to a seated department.
    own = services.question_ask(
        actor=city.deputy, meeting=city.meeting, asked_by=city.deputy, unit=city.housing, text="问"
    )
    assert own.case.submitter == city.deputy
    # Without an answer date, the workflow's 15 working days apply.
    assert own.case.due_at is not None and own.case.due_at > timezone.now() + timedelta(days=15)
    assert Case.objects.filter(channel=QUESTION.code).count() == 1


def test_a_question_without_text_or_with_a_past_date_is_refused(city: City) -> None:
    with pytest.raises(OversightError) as refused:
        _ask(city, text="  ")
    assert refused.value.field == "text"
    with pytest.raises(OversightError) as refused:
        services.question_ask(
            actor=city.staff,
            meeting=city.meeting,
            asked_by=city.deputy,
            unit=city.housing,
            text="问",
            answer_by=timezone.localdate() - timedelta(days=1),
        )
    assert refused.value.field == "answer_by"
    assert not Case.objects.filter(channel=QUESTION.code).exists()


def test_only_the_department_answers_its_question(city: City) -> None:
    from civicloop.core.cases.errors import CaseError

    question = _ask(city)
    with pytest.raises(CaseError):
        _answer(city, question, handler=city.transport_handler)
    case = _answer(city, question)
    assert case.state == "answered" and case.result.startswith("今年")


# --------------------------------------------------------------------------- the vote


def test_a_deputy_votes_once_only_while_open_and_only_when_answered(city: City) -> None:
    question = _ask(city)
    with pytest.raises(OversightError) as refused:
        services.vote_cast(
            actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="satisfied"
        )
    assert refused.value.code == OversightErrorCode.WRONG_STATE  # not open yet
    services.voting_open(actor=city.staff, meeting=city.meeting)
    with pytest.raises(OversightError) as refused:
        services.vote_cast(
            actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="satisfied"
        )
    assert refused.value.code == OversightErrorCode.NOT_ANSWERED
    _answer(city, question)
    services.vote_cast(
        actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="satisfied"
    )
    with pytest.raises(OversightError) as refused:
        services.vote_cast(
            actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="unsatisfied"
        )
    assert refused.value.code == OversightErrorCode.ALREADY_VOTED and refused.value.status == 409
    # Not seated, or a bad choice: refused.
    with pytest.raises(OversightError) as refused:
        services.vote_cast(
            actor=city.outsider_deputy, meeting=city.meeting, unit=city.housing, choice="satisfied"
        )
    assert refused.value.code == OversightErrorCode.NOT_PARTICIPANT
    with pytest.raises(OversightError) as refused:
        services.vote_cast(
            actor=city.deputy2, meeting=city.meeting, unit=city.housing, choice="great"
        )
    assert refused.value.field == "choice"
    assert Vote.objects.filter(meeting=city.meeting).count() == 1


def test_closing_the_vote_records_each_departments_outcome_on_its_cases(city: City) -> None:
    q1 = _ask(city)
    q2 = _ask(city, text="老旧小区改造什么时候开始？")
    services.voting_open(actor=city.staff, meeting=city.meeting)
    _answer(city, q1)
    with pytest.raises(OversightError) as refused:
        services.voting_close(actor=city.staff, meeting=city.meeting)
    assert refused.value.code == OversightErrorCode.NOT_ANSWERED
    _answer(city, q2)
    with pytest.raises(OversightError) as refused:
        services.voting_close(actor=city.staff, meeting=city.meeting)
    assert refused.value.code == OversightErrorCode.NO_VOTES
    services.vote_cast(
        actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="basically"
    )
    services.vote_cast(
        actor=city.deputy2, meeting=city.meeting, unit=city.housing, choice="unsatisfied"
    )
    with pytest.raises(OversightError):
        services.voting_close(actor=city.deputy, meeting=city.meeting)
    meeting = services.voting_close(actor=city.staff, meeting=city.meeting)
    assert meeting.status == MeetingStatus.CLOSED
    # A tie goes to the less favourable rating.
    [result] = department_results(meeting=meeting)
    assert (result.basically, result.unsatisfied, result.outcome) == (1, 1, "unsatisfied")
    assert result.satisfaction_rate == 0.5
    for question in (q1, q2):
        case = Case.objects.get(pk=question.case_id)
        assert case.state == "rated" and case.rating == "unsatisfied" and case.closed_at
        assert case.timeline.filter(action="rate", data__votes__unsatisfied=1).exists()
    with pytest.raises(OversightError) as refused:
        services.vote_cast(
            actor=city.deputy, meeting=meeting, unit=city.housing, choice="satisfied"
        )
    assert refused.value.code == OversightErrorCode.WRONG_STATE


# --------------------------------------------------------------------------- follow-ups


def test_a_follow_up_is_a_case_linked_to_the_questions_it_follows(city: City) -> None:
    question = _ask(city)
    follow_up = services.follow_up_create(
        actor=city.staff,
        meeting=city.meeting,
        unit=city.housing,
        decision="加快停车场建设，每季度报告进度。",
        due_date=timezone.localdate() + timedelta(days=30),
    )
    case = follow_up.case
    assert case.channel == "oversight_followup" and case.holder_unit == city.housing
    assert case_came_from(case=case) == [question.case.number]
    assert case_became(case=question.case) == [case.number]
    assert timezone.localtime(case.due_at).date() == timezone.localdate() + timedelta(days=30)
    done = transition(case=case, action="report", actor=city.housing_handler, note="已完成2处。")
    assert done.state == "done" and done.closed_at is not None


def test_a_follow_up_needs_staff_a_date_and_a_question(city: City) -> None:
    with pytest.raises(OversightError) as refused:
        services.follow_up_create(
            actor=city.staff,
            meeting=city.meeting,
            unit=city.housing,
            decision="x",
            due_date=timezone.localdate(),
        )
    assert refused.value.code == OversightErrorCode.WRONG_STATE  # no question yet
    _ask(city)
    with pytest.raises(OversightError) as refused:
        services.follow_up_create(
            actor=city.staff, meeting=city.meeting, unit=city.housing, decision="x", due_date=None
        )
    assert refused.value.field == "due_date"
    with pytest.raises(OversightError) as refused:
        services.follow_up_create(
            actor=city.deputy,
            meeting=city.meeting,
            unit=city.housing,
            decision="x",
            due_date=timezone.localdate(),
        )
    assert refused.value.code == OversightErrorCode.FORBIDDEN


# --------------------------------------------------------------------------- minutes


def _pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def test_minutes_files_are_checked_by_content(city: City, settings) -> None:  # type: ignore[no-untyped-def]
    good = SimpleUploadedFile("纪要.pdf", _pdf(), content_type="application/pdf")
    meeting = services.minutes_save(
        actor=city.staff, meeting=city.meeting, minutes="会议纪要正文", uploads=[good]
    )
    assert meeting.minute_files.count() == 1
    # An executable named .pdf is refused, and nothing else of the save happens.
    fake = SimpleUploadedFile(
        "纪要2.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf"
    )
    with pytest.raises(OversightError) as refused:
        services.minutes_save(
            actor=city.staff, meeting=city.meeting, minutes="改了", uploads=[fake]
        )
    assert refused.value.code == OversightErrorCode.FILE and refused.value.field == "files"
    city.meeting.refresh_from_db()
    assert city.meeting.minutes == "会议纪要正文" and city.meeting.minute_files.count() == 1
    # Too large: refused by size.
    settings.ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("大.pdf", _pdf() + b"0" * 500, content_type="application/pdf")
    with pytest.raises(OversightError) as refused:
        services.minutes_save(actor=city.staff, meeting=city.meeting, minutes="x", uploads=[big])
    assert refused.value.code == OversightErrorCode.FILE
    with pytest.raises(OversightError):
        services.minutes_save(actor=city.deputy, meeting=city.meeting, minutes="x")


# --------------------------------------------------------------------------- scope, publishing


def test_who_sees_which_meeting(city: City) -> None:
    assert list(meetings_for(user=city.staff)) == [city.meeting]
    assert list(meetings_for(user=city.deputy)) == [city.meeting]
    assert list(meetings_for(user=city.housing_handler)) == [city.meeting]
    assert not meetings_for(user=city.outsider_deputy).exists()
    assert not meetings_for(user=city.transport_handler).exists()
    assert not meetings_for(user=city.citizen).exists()


def test_publishing_waits_for_the_closed_vote(city: City) -> None:
    with pytest.raises(OversightError) as refused:
        services.meeting_publish(actor=city.staff, meeting=city.meeting)
    assert refused.value.code == OversightErrorCode.WRONG_STATE
    question = _ask(city)
    services.voting_open(actor=city.staff, meeting=city.meeting)
    _answer(city, question)
    services.vote_cast(
        actor=city.deputy, meeting=city.meeting, unit=city.housing, choice="satisfied"
    )
    services.voting_close(actor=city.staff, meeting=city.meeting)
    with pytest.raises(OversightError):
        services.meeting_publish(actor=city.deputy, meeting=city.meeting)
    meeting = services.meeting_publish(actor=city.staff, meeting=city.meeting)
    assert meeting.published_at is not None


def test_the_cockpit_tile_counts_open_questions_and_follow_ups(city: City) -> None:
    from civicloop.oversight.selectors import cockpit_figures

    _ask(city)
    services.follow_up_create(
        actor=city.staff,
        meeting=city.meeting,
        unit=city.housing,
        decision="跟踪",
        due_date=timezone.localdate() + timedelta(days=5),
    )
    # (A leader's figures come from core's rollups; a unit's from its own cases.)
    figures = {
        str(f.label): f.value
        for f in cockpit_figures(user=city.housing_handler, now=timezone.now())
    }
    assert figures["办理中"] == 1 and figures["跟踪督办中"] == 1
    assert figures["今日受理"] == 1
    none = {
        str(f.label): f.value
        for f in cockpit_figures(user=city.transport_handler, now=timezone.now())
    }
    assert none["办理中"] == 0 and none["跟踪督办中"] == 0


def test_opening_the_vote_tells_the_seated_deputies_once(city: City) -> None:
    from civicloop.core.outbox.models import OutboxMessage

    city.deputy.dingtalk_userid = "ding-wang"
    city.deputy.save(update_fields=["dingtalk_userid"])
    city.outsider_deputy.dingtalk_userid = "ding-chen"
    city.outsider_deputy.save(update_fields=["dingtalk_userid"])
    _ask(city)
    services.voting_open(actor=city.staff, meeting=city.meeting)
    [message] = OutboxMessage.objects.filter(idempotency_key__startswith="oversight:")
    assert message.kind == "dingtalk_work"
    assert message.payload["userids"] == ["ding-wang"]  # not the deputy who is not seated
    assert f"/oversight/meetings/{city.meeting.pk}/" in message.payload["text"]
