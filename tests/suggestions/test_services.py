"""The loop of a suggestion through its services: drafted (co-signed, from opinions),
reviewed, assigned with months-long deadlines, views, contact, answer, evaluation, and
every refusal the issue names."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from civicloop.core.cases.links import case_became, case_came_from
from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.sla.working_days import CHINA_TZ
from civicloop.suggestions.errors import SuggestionError, SuggestionErrorCode
from civicloop.suggestions.models import Answer, Assignment, CosignStatus, Evaluation
from civicloop.suggestions.services import (
    months_after,
    suggestion_answer,
    suggestion_assign,
    suggestion_contact_record,
    suggestion_cosign,
    suggestion_evaluate,
    suggestion_key_mark,
    suggestion_review,
    suggestion_submit,
    suggestion_views_send,
)
from tests.suggestions.conftest import People, draft, to_answered, to_handling

pytestmark = pytest.mark.django_db
E = SuggestionErrorCode
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=CHINA_TZ)


def test_draft_is_held_by_no_unit_and_owned_by_the_npc_office(people: People) -> None:
    s = draft(people, cosigner_ids=[people.lin.pk, people.chen.pk])
    case = Case.objects.get(pk=s.case_id)
    assert case.number.startswith("JY-")
    assert case.state == "drafted"
    assert case.owner_unit.code == "dept-npc-deputies"
    assert case.holder_unit_id is None
    assert case.submitter_id == people.wang.pk
    assert s.cosigners.filter(status=CosignStatus.INVITED).count() == 2


def test_only_a_deputy_drafts_and_cosigners_must_be_deputies(people: People) -> None:
    from civicloop.suggestions.services import SuggestionDraft, suggestion_draft

    with pytest.raises(SuggestionError) as err:
        suggestion_draft(deputy=people.housing, draft=SuggestionDraft(title="t", body="b"))
    assert err.value.code == E.NOT_DEPUTY
    with pytest.raises(SuggestionError) as err:
        draft(people, cosigner_ids=[people.housing.pk])
    assert err.value.field == "cosigners"


def test_submit_waits_for_every_cosigner(people: People) -> None:
    s = draft(people, cosigner_ids=[people.lin.pk, people.chen.pk])
    suggestion_cosign(suggestion=s, deputy=people.lin, agree=True)
    with pytest.raises(SuggestionError) as err:
        suggestion_submit(suggestion=s, actor=people.wang)
    assert err.value.code == E.COSIGNERS_PENDING
    suggestion_cosign(suggestion=s, deputy=people.chen, agree=False)
    with pytest.raises(SuggestionError) as err:
        suggestion_cosign(suggestion=s, deputy=people.chen, agree=True)
    assert err.value.code == E.ALREADY
    suggestion_submit(suggestion=s, actor=people.wang)
    case = Case.objects.get(pk=s.case_id)
    assert case.state == "submitted"
    assert case.holder_unit.code == "dept-npc-deputies"


def test_only_the_author_submits(people: People) -> None:
    s = draft(people)
    with pytest.raises(SuggestionError) as err:
        suggestion_submit(suggestion=s, actor=people.lin)
    assert err.value.code == E.FORBIDDEN


def test_return_needs_a_reason_and_closes(people: People) -> None:
    s = draft(people)
    suggestion_submit(suggestion=s, actor=people.wang)
    with pytest.raises(SuggestionError) as err:
        suggestion_review(suggestion=s, actor=people.office, accept=False)
    assert err.value.field == "note"
    with pytest.raises(SuggestionError) as err:
        suggestion_review(suggestion=s, actor=people.housing, accept=True)
    assert err.value.code == E.FORBIDDEN
    suggestion_review(
        suggestion=s, actor=people.office, accept=False, note="属于个人诉求，请按信访渠道反映。"
    )
    case = Case.objects.get(pk=s.case_id)
    assert case.state == "returned"
    assert case.closed_at is not None
    assert "信访" in case.result


def test_assign_needs_a_lead_and_sets_a_deadline_in_months(people: People) -> None:
    s = draft(people)
    suggestion_submit(suggestion=s, actor=people.wang, now=NOW)
    suggestion_review(suggestion=s, actor=people.office, accept=True, now=NOW)
    with pytest.raises(SuggestionError) as err:
        suggestion_assign(suggestion=s, actor=people.office, lead=None, now=NOW)
    assert err.value.code == E.NO_LEAD
    with pytest.raises(SuggestionError) as err:
        suggestion_assign(
            suggestion=s,
            actor=people.office,
            lead=people.housing_unit,
            assisting=[people.housing_unit],
            now=NOW,
        )
    assert err.value.code == E.UNIT_TWICE
    suggestion_assign(
        suggestion=s,
        actor=people.office,
        lead=people.housing_unit,
        assisting=[people.transport_unit],
        now=NOW,
    )
    case = Case.objects.get(pk=s.case_id)
    assert case.state == "handling"
    assert case.holder_unit_id == people.housing_unit.pk
    due = timezone.localtime(case.due_at, CHINA_TZ)
    assert due.date() == months_after(NOW.date(), 3) == datetime(2026, 6, 10).date()
    step = CaseStep.objects.get(case=case, ended_at__isnull=True)
    assert step.due_at == case.due_at
    assert step.remind_at is not None and step.remind_at < step.due_at < step.escalate_at
    assist = Assignment.objects.get(suggestion=s, role="assist")
    assert timezone.localtime(assist.due_at, CHINA_TZ).date() == datetime(2026, 4, 10).date()


def test_hard_suggestion_gets_six_months(people: People, settings: object) -> None:
    s = draft(people)
    suggestion_submit(suggestion=s, actor=people.wang, now=NOW)
    suggestion_review(suggestion=s, actor=people.office, accept=True, now=NOW)
    suggestion_assign(
        suggestion=s, actor=people.office, lead=people.housing_unit, hard=True, now=NOW
    )
    case = Case.objects.get(pk=s.case_id)
    assert timezone.localtime(case.due_at, CHINA_TZ).date() == datetime(2026, 9, 10).date()


def test_answer_needs_category_contact_and_views(people: People) -> None:
    s = to_handling(people)
    with pytest.raises(SuggestionError) as err:
        suggestion_answer(suggestion=s, actor=people.housing, category="", text="已办理。")
    assert err.value.code == E.NO_CATEGORY
    with pytest.raises(SuggestionError) as err:
        suggestion_answer(suggestion=s, actor=people.housing, category="A", text="已办理。")
    assert err.value.code == E.NO_CONTACT
    suggestion_contact_record(
        suggestion=s,
        actor=people.housing,
        method="visit",
        contacted_on=timezone.localdate(),
        note="登门听取代表意见。",
    )
    with pytest.raises(SuggestionError) as err:
        suggestion_answer(suggestion=s, actor=people.housing, category="A", text="已办理。")
    assert err.value.code == E.VIEWS_PENDING
    with pytest.raises(SuggestionError) as err:
        suggestion_views_send(
            suggestion=s, actor=people.housing, unit=people.transport_unit, views="同意。"
        )
    assert err.value.code == E.FORBIDDEN
    suggestion_views_send(
        suggestion=s, actor=people.transport, unit=people.transport_unit, views="同意。"
    )
    with pytest.raises(SuggestionError) as err:
        suggestion_answer(suggestion=s, actor=people.transport, category="A", text="已办理。")
    assert err.value.code == E.FORBIDDEN
    suggestion_answer(suggestion=s, actor=people.housing, category="B", text="已列入明年计划。")
    s.refresh_from_db()
    assert s.category == "B"
    assert s.case.state == "answered"
    answer = Answer.objects.get(suggestion=s)
    assert answer.on_time and answer.round == 1


def test_unsatisfied_sends_back_once_then_closes(people: People) -> None:
    s = to_answered(people)
    with pytest.raises(SuggestionError) as err:
        suggestion_evaluate(suggestion=s, actor=people.office, rating="satisfied")
    assert err.value.code == E.FORBIDDEN
    with pytest.raises(SuggestionError) as err:
        suggestion_evaluate(suggestion=s, actor=people.wang, rating="unsatisfied")
    assert err.value.field == "comment"
    suggestion_evaluate(
        suggestion=s, actor=people.wang, rating="unsatisfied", comment="未说明资金来源。"
    )
    s.refresh_from_db()
    case = s.case
    assert case.state == "rehandling"
    assert case.holder_unit_id == people.housing_unit.pk
    assert s.handling_round == 2
    due = timezone.localtime(case.due_at, CHINA_TZ).date()
    assert due == months_after(timezone.localdate(), 1)
    # A second answer needs a new contact, not the views again.
    with pytest.raises(SuggestionError) as err:
        suggestion_answer(suggestion=s, actor=people.housing, category="A", text="再答复")
    assert err.value.code == E.NO_CONTACT
    suggestion_contact_record(
        suggestion=s,
        actor=people.housing,
        method="meeting",
        contacted_on=timezone.localdate(),
        note="座谈说明资金安排。",
    )
    suggestion_answer(suggestion=s, actor=people.housing, category="A", text="资金已落实。")
    suggestion_evaluate(suggestion=s, actor=people.wang, rating="satisfied", comment="")
    case.refresh_from_db()
    assert case.state == "closed"
    assert case.rating == "satisfied"
    assert list(Evaluation.objects.filter(suggestion=s).values_list("rating", flat=True)) == [
        "unsatisfied",
        "satisfied",
    ]
    assert Answer.objects.filter(suggestion=s).count() == 2


def test_second_unsatisfied_closes_with_the_rating(people: People) -> None:
    s = to_answered(people)
    suggestion_evaluate(suggestion=s, actor=people.wang, rating="unsatisfied", comment="不具体")
    suggestion_contact_record(
        suggestion=s,
        actor=people.housing,
        method="phone",
        contacted_on=timezone.localdate(),
        note="再沟通",
    )
    suggestion_answer(suggestion=s, actor=people.housing, category="C", text="条件不具备。")
    suggestion_evaluate(suggestion=s, actor=people.wang, rating="unsatisfied", comment="仍不满意")
    case = Case.objects.get(pk=s.case_id)
    assert case.state == "closed" and case.rating == "unsatisfied"


def test_key_mark_names_a_leader(people: People) -> None:
    s = to_handling(people)
    with pytest.raises(SuggestionError) as err:
        suggestion_key_mark(suggestion=s, actor=people.office, leader=" ")
    assert err.value.field == "leader"
    suggestion_key_mark(suggestion=s, actor=people.office, leader="市人大常委会副主任 周明")
    s.refresh_from_db()
    assert s.is_key and s.key_leader.endswith("周明")


@pytest.mark.needs_modules("opinions")
def test_drafted_from_opinions_links_both_ways(people: People, opinion_case: object) -> None:
    a, b = opinion_case("村口道路破损"), opinion_case("路灯不亮")  # type: ignore[operator]
    s = draft(people, opinion_numbers=[a.number, b.number])
    case = Case.objects.get(pk=s.case_id)
    assert case_came_from(case=case) == sorted([a.number, b.number])
    assert case_became(case=a) == [case.number]
    # A case the deputy may not see is refused.
    with pytest.raises(SuggestionError) as err:
        draft(people, opinion_numbers=["MY-2026-999999"])
    assert err.value.code == E.OPINION


def test_deadline_moves_with_now(people: People) -> None:
    s = to_handling(people, now=NOW + timedelta(days=1))
    assert timezone.localtime(s.case.due_at, CHINA_TZ).date() == datetime(2026, 6, 11).date()


def test_assisting_unit_has_its_own_case_with_the_deadline(people: People) -> None:
    s = to_handling(people, now=NOW)
    assist = Assignment.objects.select_related("case").get(suggestion=s, role="assist")
    case = assist.case
    assert case is not None and case.channel == "suggestion_assist"
    assert case.owner_unit_id == case.holder_unit_id == people.transport_unit.pk
    assert case.due_at == assist.due_at
    assert case.data["suggestion"] == s.case.number
    suggestion_views_send(
        suggestion=s, actor=people.transport, unit=people.transport_unit, views="同意。"
    )
    case.refresh_from_db()
    assert case.state == "views_sent" and case.closed_at is not None and case.result == "同意。"


def test_core_sweep_reminds_the_lead_and_the_assisting_unit(people: People) -> None:
    from civicloop.core.cases.models import TimelineEntry
    from civicloop.core.cases.sweeps import sla_sweep

    s = to_handling(people, now=NOW)
    step = CaseStep.objects.get(case=s.case, ended_at__isnull=True)
    assert step.remind_at is not None
    sla_sweep(now=step.remind_at + timedelta(minutes=1))
    assert TimelineEntry.objects.filter(case=s.case, action="remind").exists()
    assist = Assignment.objects.get(suggestion=s, role="assist")
    sla_sweep(now=assist.due_at + timedelta(minutes=1))
    assert TimelineEntry.objects.filter(case_id=assist.case_id, action="overdue").exists()
