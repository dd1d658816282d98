"""The generic closed loop, through the one entry point `transition`."""

from __future__ import annotations

import re

import pytest

from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, CaseStep, TimelineEntry
from civicloop.core.cases.services import actions_available, transition
from civicloop.core.outbox.models import OutboxMessage
from tests.core.cases.helpers import at, opinion, unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def dispatched_case(now_text: str = "2026-11-02 10:00") -> Case:
    case = opinion(now=at(now_text))
    transition(case=case, action="accept", actor=user("station_zeguo"), now=at(now_text))
    return transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        grade="town",
        now=at(now_text),
    )


def test_submit_numbers_the_case_and_opens_the_first_step(demo_city: None) -> None:
    case = opinion(now=at("2026-11-02 10:00"))

    assert re.fullmatch(r"MY-2026-\d{6}", case.number)
    assert case.state == "submitted"
    assert case.holder_unit == unit("station-331081100")
    # 1 working day, the start day not counted, due at the end of office hours.
    assert case.due_at == at("2026-11-03 17:30")
    assert case.steps.count() == 1
    assert case.timeline.get().action == "submit"
    sms = OutboxMessage.objects.get(reference=case.number, kind="sms")
    assert sms.payload["template"] == "case_received"


def test_contact_is_encrypted_at_rest(demo_city: None) -> None:
    from django.db import connection

    case = opinion(phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_phone FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()[0]
    assert "13812345678" not in stored
    assert Case.objects.get(pk=case.pk).contact_phone == "13812345678"
    assert case.masked_contact_phone == "138****5678"


def test_numbers_increase_per_prefix_and_year(demo_city: None) -> None:
    first = opinion(now=at("2026-11-02 10:00"))
    second = opinion(now=at("2026-11-02 10:01"))
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_full_loop_accept_dispatch_claim_result_rate_closes(demo_city: None) -> None:
    case = dispatched_case()
    assert case.state == "dispatched"
    assert case.holder_unit == unit("town-331081100")
    # 镇级: 10 working days from dispatch (Mon 2026-11-02 → Mon 2026-11-16).
    assert case.due_at == at("2026-11-16 17:30")

    case = transition(
        case=case, action="claim", actor=user("handler_zeguo"), now=at("2026-11-04 09:00")
    )
    # The clock of a dispatched step started at dispatch: claiming does not reset it.
    assert case.state == "handling" and case.due_at == at("2026-11-16 17:30")

    case = transition(
        case=case,
        action="submit_result",
        actor=user("handler_zeguo"),
        note="已更换楼道灯。",
        now=at("2026-11-05 09:00"),
    )
    assert case.state == "result_submitted" and case.holder_unit == unit("station-331081100")
    assert case.result == "已更换楼道灯。"

    case = transition(
        case=case,
        action="rate",
        actor=user("deputy_wang"),
        rating="satisfied",
        now=at("2026-11-05 10:00"),
    )
    assert case.state == "closed"
    assert case.closed_at == at("2026-11-05 10:00")
    assert case.holder_unit is None and case.due_at is None
    assert list(case.timeline.values_list("action", flat=True)) == [
        "submit",
        "accept",
        "dispatch",
        "claim",
        "submit_result",
        "rate",
    ]
    assert CaseStep.objects.filter(case=case, ended_at__isnull=True).count() == 0
    result_sms = (
        OutboxMessage.objects.filter(reference=case.number, kind="sms").order_by("id").last()
    )
    assert result_sms is not None and result_sms.payload["template"] == "case_result"


def test_dispatch_sends_a_work_notice_to_the_unit(demo_city: None) -> None:
    case = dispatched_case()
    notice = (
        OutboxMessage.objects.filter(reference=case.number, kind="dingtalk_work")
        .order_by("id")
        .last()
    )
    assert notice is not None
    assert "ding-handler_zeguo" in notice.payload["userids"]


def test_unsatisfied_returns_once_then_goes_to_the_supervisor(demo_city: None) -> None:
    case = dispatched_case()
    for _ in range(1):
        case = transition(case=case, action="claim", actor=user("handler_zeguo"))
        case = transition(
            case=case, action="submit_result", actor=user("handler_zeguo"), note="已处理"
        )
    case = transition(
        case=case, action="rate", actor=user("deputy_wang"), rating="unsatisfied", note="没有修好"
    )
    assert case.state == "handling" and case.holder_unit == unit("town-331081100")
    assert case.round == 1

    case = transition(
        case=case, action="submit_result", actor=user("handler_zeguo"), note="再次处理"
    )
    case = transition(
        case=case, action="rate", actor=user("deputy_wang"), rating="unsatisfied", note="还是不行"
    )
    assert case.state == "dispatched"
    assert case.holder_unit == unit("dept-supervision")
    assert case.timeline.last().data["outcome"] == "escalated_to_supervisor"


def test_rework_is_recorded_as_its_own_step(demo_city: None) -> None:
    case = dispatched_case()
    case = transition(case=case, action="claim", actor=user("handler_zeguo"))
    case = transition(case=case, action="submit_result", actor=user("handler_zeguo"), note="已处理")
    case = transition(
        case=case, action="rework", actor=user("station_zeguo"), note="照片与问题不符"
    )
    assert case.state == "handling" and case.holder_unit == unit("town-331081100")
    assert case.timeline.last().data["counts_as"] == "rework"
    assert case.steps.filter(started_by="rework").count() == 1


def test_extension_needs_the_unit_leader_and_moves_the_due_time(demo_city: None) -> None:
    case = dispatched_case()
    case = transition(case=case, action="claim", actor=user("handler_zeguo"))
    old_due = case.due_at
    case = transition(
        case=case,
        action="request_extension",
        actor=user("handler_zeguo"),
        note="需协调供电部门",
        due_at=at("2026-11-30 17:30"),
    )
    assert case.due_at == old_due and case.data["pending_extension"]

    with pytest.raises(CaseError) as refused:
        transition(case=case, action="approve_extension", actor=user("handler_zeguo"))
    assert refused.value.code == CaseErrorCode.FORBIDDEN

    case = transition(case=case, action="approve_extension", actor=user("leader_zeguo"))
    assert case.due_at == at("2026-11-30 17:30")
    assert case.steps.get(ended_at__isnull=True).due_at == at("2026-11-30 17:30")
    assert "pending_extension" not in case.data


def test_defer_stops_the_clock_and_resume_restarts_it(demo_city: None) -> None:
    case = dispatched_case("2026-11-02 10:00")
    case = transition(
        case=case, action="claim", actor=user("handler_zeguo"), now=at("2026-11-02 11:00")
    )
    case = transition(
        case=case,
        action="defer",
        actor=user("leader_zeguo"),
        note="等待汛期结束",
        now=at("2026-11-04 10:00"),
    )
    assert case.state == "deferred" and case.due_at is None
    case = transition(
        case=case, action="resume", actor=user("handler_zeguo"), now=at("2026-11-23 10:00")
    )
    # 8 working days were left on 2026-11-04 (due 11-16): now they run from 11-23.
    assert case.state == "handling"
    assert case.due_at == at("2026-12-03 17:30")


def test_return_transfer_reject_merge_withdraw(demo_city: None) -> None:
    case = dispatched_case()
    case = transition(case=case, action="return", actor=user("handler_zeguo"), note="非本单位职责")
    assert case.state == "accepted" and case.holder_unit == unit("station-331081100")
    case = transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("dept-housing"),
        grade="city",
    )
    case = transition(
        case=case,
        action="transfer",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        note="改派属地",
    )
    assert case.holder_unit == unit("town-331081100") and case.state == "dispatched"

    rejected = opinion()
    rejected = transition(
        case=rejected, action="reject", actor=user("deputy_wang"), note="不属于人大代表职责范围"
    )
    assert rejected.state == "rejected" and rejected.result == "不属于人大代表职责范围"

    duplicate = opinion()
    duplicate = transition(
        case=duplicate, action="merge", actor=user("deputy_wang"), merge_into=case
    )
    assert duplicate.state == "merged" and duplicate.merged_into == case
    assert case.timeline.last().action == "merged_from"

    citizen = user("deputy_wang")  # stands in as a submitter below
    mine = opinion(submitter=citizen)
    mine = transition(case=mine, action="withdraw", actor=citizen)
    assert mine.state == "withdrawn"


def test_refusals_wrong_state_wrong_unit_missing_fields(demo_city: None) -> None:
    case = opinion()
    with pytest.raises(CaseError) as wrong_state:
        transition(case=case, action="claim", actor=user("handler_zeguo"))
    assert wrong_state.value.code == CaseErrorCode.INVALID_STATE

    with pytest.raises(CaseError) as wrong_unit:
        transition(case=case, action="accept", actor=user("handler_housing"))
    assert wrong_unit.value.code == CaseErrorCode.FORBIDDEN

    case = transition(case=case, action="accept", actor=user("station_zeguo"))
    with pytest.raises(CaseError) as no_grade:
        transition(
            case=case, action="dispatch", actor=user("station_zeguo"), unit=unit("town-331081100")
        )
    assert no_grade.value.code == CaseErrorCode.MISSING and no_grade.value.field == "grade"

    with pytest.raises(CaseError) as unknown:
        transition(case=case, action="teleport", actor=user("station_zeguo"))
    assert unknown.value.code == CaseErrorCode.UNKNOWN_ACTION
    # Nothing was recorded by the refused calls.
    assert list(case.timeline.values_list("action", flat=True)) == ["submit", "accept"]


def test_a_second_tap_changes_nothing(demo_city: None) -> None:
    case = opinion()
    transition(case=case, action="accept", actor=user("station_zeguo"), idempotency_key="tap-1")
    transition(case=case, action="accept", actor=user("station_zeguo"), idempotency_key="tap-1")
    assert TimelineEntry.objects.filter(case=case).count() == 2


def test_submission_key_makes_one_case(demo_city: None) -> None:
    first = opinion(submission_key="form-abc")
    again = opinion(submission_key="form-abc")
    assert first.pk == again.pk


def test_actions_available_follow_role_and_state(demo_city: None) -> None:
    case = opinion()
    codes = {a.code for a in actions_available(case=case, user=user("station_zeguo"))}
    assert {"accept", "answer", "reject", "merge"} <= codes
    assert actions_available(case=case, user=user("handler_zeguo")) == []


def test_control_characters_are_removed_from_user_text(demo_city: None) -> None:
    case = opinion(body="楼道灯\x00不亮\x07", title="标题\x00")
    assert case.body == "楼道灯不亮" and case.title == "标题"
    case = transition(case=case, action="answer", actor=user("deputy_wang"), note="已答复\x00")
    assert case.result == "已答复"


def test_refusals_read_in_the_readers_language(demo_city: None) -> None:
    from django.utils import translation

    case = opinion()
    with pytest.raises(CaseError) as refused:
        transition(case=case, action="answer", actor=user("deputy_wang"))
    with translation.override("en"):
        assert refused.value.message == "Please add a note."
    with translation.override("zh-hans"):
        assert refused.value.message == "请填写说明。"


def test_a_deadline_in_an_unconfirmed_year_is_provisional_not_refused(demo_city: None) -> None:
    # Given a case dispatched in late December 2026, whose 15 working days reach into
    # 2027, a year the calendar table does not confirm (chinese-calendar stops at 2026)
    case = opinion(now=at("2026-12-21 10:00"))
    transition(case=case, action="accept", actor=user("station_zeguo"), now=at("2026-12-21 10:00"))
    # When it is dispatched
    case = transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("dept-housing"),
        grade="city",
        now=at("2026-12-21 10:05"),
    )
    # Then the deadline is computed with 2027's statutory holidays (元旦 on Fri 01-01)
    # and marked provisional, on the case and its step
    assert case.state == "dispatched"
    assert case.due_at == at("2027-01-12 17:30")
    assert case.due_provisional is True
    step = case.steps.get(ended_at__isnull=True)
    assert (step.due_provisional, step.sla) == (True, "15wd")
    # And claiming keeps the deadline, its mark and what it was counted from
    case = transition(
        case=case, action="claim", actor=user("handler_housing"), now=at("2026-12-22 09:00")
    )
    step = case.steps.get(ended_at__isnull=True)
    assert (case.due_at, case.due_provisional) == (at("2027-01-12 17:30"), True)
    assert (step.sla, step.sla_from) == ("15wd", at("2026-12-21 10:05"))
