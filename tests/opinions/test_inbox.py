"""The deputy's inbox, the unit's side and closing the loop.

Given an opinion sent through 王建国's code, the deputy accepts, answers, grades and
dispatches (with a suggestion from the category), merges or rejects; the unit claims,
returns or submits a result; the deputy rates; every refusal says why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.cases.access import may_see_contact
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, CaseStep, TimelineEntry
from civicloop.core.cases.services import transition
from civicloop.core.cases.sweeps import sla_sweep
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.units.models import Unit
from civicloop.opinions.models import Code
from civicloop.opinions.routing import routing_suggest
from civicloop.opinions.services import OpinionSubmission, opinion_act, opinion_submit
from tests.opinions.test_submit import deputy_code, jpeg, opinion_settings, wang  # noqa: F401

pytestmark = pytest.mark.django_db

TOWN = "town-331081100"


def user(name: str) -> User:
    return User.objects.get(username=name)


@pytest.fixture
def make_opinion(deputy_code: Code) -> Any:  # noqa: F811 - fixture from test_submit
    from datetime import timedelta

    from django.utils import timezone

    from civicloop.core.accounts.crypto import lookup_digest
    from civicloop.core.accounts.models import SmsCode
    from civicloop.opinions.services import SUBMIT_PURPOSE

    counter = iter(range(1000))

    def _make(*, category: str = "road", anonymous: bool = False, body: str = "") -> Case:
        n = next(counter)
        # As if the citizen had typed the right SMS code into this very form before (it
        # is bound to the form, not used up), without counting against the phone's limits.
        SmsCode.objects.create(
            phone_digest=lookup_digest(f"1391111{n:04d}"),
            purpose=SUBMIT_PURPOSE,
            code_hash="-",
            expires_at=timezone.now() + timedelta(minutes=5),
            bound_to=f"inbox-{n}",
            verified_at=timezone.now(),
        )
        return opinion_submit(
            submission=OpinionSubmission(
                slug=deputy_code.slug,
                body=body or f"牧屿村村口路口缺少红绿灯，第{n}件。",
                phone=f"1391111{n:04d}",
                code="",
                submission_key=f"inbox-{n}",
                category=category,
                contact_name="陈群众",
                anonymous=anonymous,
            )
        )

    return _make


def act(case: Case, action: str, username: str, **kwargs: Any) -> Case:
    return opinion_act(case=case, action=action, actor=user(username), **kwargs)


# --------------------------------------------------------------------------- the inbox page


def test_the_inbox_lists_new_opinions_with_due_times(client: Client, make_opinion: Any) -> None:
    case = make_opinion()
    client.force_login(user("deputy_wang"))
    page = client.get("/deputy/inbox/")
    assert page.status_code == 200
    new = next(s for s in page.context["sections"] if s.key == "new")
    assert case.number in [r.case.number for r in new.rows]
    assert case.due_at is not None
    assert timezone.localtime(case.due_at).strftime("%m-%d %H:%M") in page.content.decode()
    mine = client.get("/deputy/inbox/?mine=1")
    assert case.number in mine.content.decode()
    # The station clerk sees it too; a town handler has no inbox.
    client.force_login(user("station_zeguo"))
    assert case.number in client.get("/deputy/inbox/").content.decode()
    client.force_login(user("handler_zeguo"))
    assert client.get("/deputy/inbox/").status_code == 403
    assert client.get(f"/deputy/inbox/{case.number}/").status_code == 404


def test_the_inbox_needs_a_login(client: Client, demo_city: None) -> None:
    response = client.get("/deputy/inbox/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_inbox_query_count_is_bounded(
    client: Client, make_opinion: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        make_opinion()
    client.force_login(user("deputy_wang"))
    with django_assert_max_num_queries(20):
        client.get("/deputy/inbox/")


def test_the_case_page_suggests_a_unit_from_the_category(client: Client, make_opinion: Any) -> None:
    case = make_opinion(category="housing")
    act(case, "accept", "deputy_wang")
    client.force_login(user("deputy_wang"))
    page = client.get(f"/deputy/inbox/{case.number}/").content.decode()
    town, housing = (Unit.objects.get(code=c).name for c in ("town-331081100", "dept-housing"))
    assert town in page and housing in page
    assert 'data-action="dispatch"' in page and 'data-action="answer"' in page


def test_routing_suggestions_by_category(make_opinion: Any) -> None:
    expected = {
        "road": "dept-transport",
        "housing": "dept-housing",
        "environment": "dept-enforcement",
        "safety": "dept-emergency",
        "education": "dept-education",
        "health": "dept-health",
        "market": "dept-market",
        "other": TOWN,
    }
    for category, code in expected.items():
        suggestion = routing_suggest(case=make_opinion(category=category))
        assert suggestion.town is not None and suggestion.town.code == TOWN
        assert suggestion.city is not None and suggestion.city.code == code
        assert suggestion.unit_for("town") == suggestion.town


# --------------------------------------------------------------------------- deputy actions


def test_accept_then_answer_directly_closes_and_tells_the_citizen(
    client: Client, make_opinion: Any
) -> None:
    case = make_opinion()
    client.force_login(user("deputy_wang"))
    r = client.post(f"/deputy/inbox/{case.number}/act/accept/", {"idempotency_key": "a1"})
    assert r.status_code == 302
    r = client.post(
        f"/deputy/inbox/{case.number}/act/answer/",
        {"idempotency_key": "a2", "note": "已联系交警部门，红绿灯下月安装。"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed" and case.result.startswith("已联系交警部门")
    sms = OutboxMessage.objects.get(template="case_result", reference=case.number)
    assert sms.payload["phone"] == case.contact_phone


def test_answer_without_text_is_refused_on_the_page(client: Client, make_opinion: Any) -> None:
    case = make_opinion()
    client.force_login(user("deputy_wang"))
    r = client.post(f"/deputy/inbox/{case.number}/act/answer/", {"idempotency_key": "x"})
    assert r.status_code == 400 and "请填写说明" in r.content.decode()
    case.refresh_from_db()
    assert case.state == "submitted"


def test_dispatch_sends_a_dingtalk_work_notice_to_the_unit(
    client: Client, make_opinion: Any
) -> None:
    case = make_opinion()
    town = Unit.objects.get(code=TOWN)
    client.force_login(user("deputy_wang"))
    client.post(f"/deputy/inbox/{case.number}/act/accept/", {"idempotency_key": "d1"})
    r = client.post(
        f"/deputy/inbox/{case.number}/act/dispatch/",
        {"idempotency_key": "d2", "unit": town.pk, "grade": "town", "note": "请核实"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "dispatched" and case.holder_unit == town and case.grade == "town"
    notice = OutboxMessage.objects.filter(kind="dingtalk_work", reference=case.number).latest("id")
    assert "ding-handler_zeguo" in notice.payload["userids"]
    # The unit finds it on its core workbench.
    client.force_login(user("handler_zeguo"))
    assert case.number in client.get("/workbench/").content.decode()


def test_dispatch_without_grade_or_unit_is_refused(client: Client, make_opinion: Any) -> None:
    case = make_opinion()
    act(case, "accept", "deputy_wang")
    with pytest.raises(CaseError) as missing_unit:
        act(case, "dispatch", "deputy_wang", grade="town")
    assert missing_unit.value.field == "unit"
    with pytest.raises(CaseError) as missing_grade:
        act(case, "dispatch", "deputy_wang", unit_id=Unit.objects.get(code=TOWN).pk)
    assert missing_grade.value.field == "grade"
    with pytest.raises(CaseError) as bad_unit:
        act(case, "dispatch", "deputy_wang", unit_id=999999, grade="town")
    assert bad_unit.value.field == "unit"


def test_merge_a_duplicate_and_reject_with_a_reason(make_opinion: Any) -> None:
    first, dup, spam = make_opinion(), make_opinion(), make_opinion()
    act(dup, "merge", "deputy_wang", merge_into_number=first.number)
    dup.refresh_from_db()
    assert dup.state == "merged" and dup.merged_into == first
    assert TimelineEntry.objects.filter(case=first, action="merged_from").exists()
    with pytest.raises(CaseError):
        act(spam, "merge", "deputy_wang", merge_into_number=spam.number)
    with pytest.raises(CaseError) as unknown:
        act(spam, "merge", "deputy_wang", merge_into_number="MY-1999-000001")
    assert unknown.value.field == "merge_into"
    with pytest.raises(CaseError):
        act(spam, "reject", "deputy_wang")  # no reason
    act(spam, "reject", "deputy_wang", note="广告信息，与公共事务无关。")
    spam.refresh_from_db()
    assert spam.state == "rejected" and spam.result == "广告信息，与公共事务无关。"


def test_refusals_wrong_role_wrong_unit_late_and_duplicate(make_opinion: Any) -> None:
    case = make_opinion()
    # Wrong role: the town's handler is not the receiving station.
    with pytest.raises(CaseError) as forbidden:
        act(case, "accept", "handler_zeguo")
    assert forbidden.value.code == CaseErrorCode.FORBIDDEN
    act(case, "accept", "deputy_wang", idempotency_key="once")
    # Duplicate: the same tap again changes nothing.
    act(case, "accept", "deputy_wang", idempotency_key="once")
    assert TimelineEntry.objects.filter(case=case, action="accept").count() == 1
    # Late: accepting again, after the state moved on, is refused.
    with pytest.raises(CaseError) as late:
        act(case, "accept", "deputy_wang")
    assert late.value.code == CaseErrorCode.INVALID_STATE
    act(case, "dispatch", "deputy_wang", unit_id=Unit.objects.get(code=TOWN).pk, grade="town")
    # Wrong unit: the housing bureau cannot claim what was sent to the town.
    with pytest.raises(CaseError) as wrong_unit:
        transition(case=case, action="claim", actor=user("handler_housing"))
    assert wrong_unit.value.code == CaseErrorCode.FORBIDDEN
    # Not an inbox action.
    with pytest.raises(CaseError):
        act(case, "claim", "deputy_wang")


# --------------------------------------------------------------------------- unit side + loop


def dispatched(make_opinion: Any, **kwargs: Any) -> Case:
    case = make_opinion(**kwargs)
    act(case, "accept", "deputy_wang")
    return act(
        case, "dispatch", "deputy_wang", unit_id=Unit.objects.get(code=TOWN).pk, grade="town"
    )


def test_the_unit_returns_a_wrong_unit_case_with_a_reason(
    client: Client, make_opinion: Any
) -> None:
    case = dispatched(make_opinion)
    client.force_login(user("handler_zeguo"))
    refused = client.post(f"/cases/{case.number}/act/return/", {"return-idempotency_key": "r0"})
    assert refused.status_code == 400
    r = client.post(
        f"/cases/{case.number}/act/return/",
        {"return-idempotency_key": "r1", "return-note": "属住建局职责"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "accepted" and case.holder_unit == case.owner_unit
    client.force_login(user("deputy_wang"))
    assert case.number in client.get("/deputy/inbox/").content.decode()


def test_full_loop_unsatisfied_returns_once_then_goes_to_the_supervisor(
    client: Client, make_opinion: Any
) -> None:
    case = dispatched(make_opinion)
    town = Unit.objects.get(code=TOWN)
    client.force_login(user("handler_zeguo"))
    assert (
        client.post(f"/cases/{case.number}/act/claim/", {"claim-idempotency_key": "c1"}).status_code
        == 302
    )
    r = client.post(
        f"/cases/{case.number}/act/submit_result/",
        {
            "submit_result-idempotency_key": "s1",
            "submit_result-note": "已安排施工，下周完成。",
            "submit_result-photos": [jpeg()],
        },
    )
    assert r.status_code == 302
    entry = TimelineEntry.objects.filter(case=case, action="submit_result").get()
    assert entry.attachments.count() == 1
    act(case, "rate", "deputy_wang", rating="unsatisfied", note="未见施工")
    case.refresh_from_db()
    assert case.state == "handling" and case.holder_unit == town and case.round == 1
    transition(
        case=case, action="submit_result", actor=user("handler_zeguo"), note="红绿灯已安装完毕。"
    )
    act(case, "rate", "deputy_wang", rating="unsatisfied", note="仍不满意")
    case.refresh_from_db()
    assert case.state == "dispatched" and case.holder_unit == town.supervisor
    # The deputy follows every step of what was dispatched.
    client.force_login(user("deputy_wang"))
    page = client.get(f"/deputy/inbox/{case.number}/").content.decode()
    for label in ("交办", "签收", "提交办理结果", "评价"):
        assert label in page


def test_satisfied_closes_and_the_citizen_gets_the_result_by_sms(make_opinion: Any) -> None:
    case = dispatched(make_opinion)
    transition(case=case, action="claim", actor=user("handler_zeguo"))
    transition(case=case, action="submit_result", actor=user("handler_zeguo"), note="已修复。")
    act(case, "rate", "deputy_wang", rating="satisfied", note="及时")
    case.refresh_from_db()
    assert case.state == "closed" and case.rating == "satisfied"
    sms = OutboxMessage.objects.get(template="case_result", reference=case.number)
    assert sms.payload["params"]["summary"].startswith("已修复")


def test_anonymity_hides_the_contact_from_the_unit_but_not_the_deputy(
    client: Client, make_opinion: Any
) -> None:
    case = dispatched(make_opinion, anonymous=True)
    assert may_see_contact(user("deputy_wang"), case)
    assert may_see_contact(user("station_zeguo"), case)
    assert not may_see_contact(user("handler_zeguo"), case)
    client.force_login(user("handler_zeguo"))
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert case.contact_phone not in page
    assert client.post(f"/cases/{case.number}/contact/").status_code == 403
    client.force_login(user("deputy_wang"))
    revealed = client.post(f"/cases/{case.number}/contact/").content.decode()
    assert case.contact_phone in revealed
    open_case = dispatched(make_opinion, anonymous=False)
    assert may_see_contact(user("handler_zeguo"), open_case)


def test_reminders_and_escalation_come_from_the_core_sweep(make_opinion: Any) -> None:
    case = dispatched(make_opinion)
    step = CaseStep.objects.get(case=case, ended_at__isnull=True)
    assert step.unit.code == TOWN and step.remind_at and step.due_at and step.escalate_at
    counts = sla_sweep(now=step.remind_at + timedelta(minutes=1))
    assert counts["reminded"] >= 1
    assert TimelineEntry.objects.filter(case=case, action="remind").exists()
    sla_sweep(now=step.due_at + timedelta(minutes=1))
    assert TimelineEntry.objects.filter(case=case, action="overdue").exists()
    sla_sweep(now=step.escalate_at + timedelta(minutes=1))
    escalated = TimelineEntry.objects.get(case=case, action="escalate")
    assert escalated.unit.code == "dept-supervision"
    keys = set(
        OutboxMessage.objects.filter(reference=case.number, kind="dingtalk_work").values_list(
            "idempotency_key", flat=True
        )
    )
    assert any(k.endswith(":remind") for k in keys) and any(k.endswith(":escalate2") for k in keys)
