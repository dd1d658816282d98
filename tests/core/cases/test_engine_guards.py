"""Guards of the engine that a citizen relies on without seeing them: the supervising unit
holds a case after the second 不满意 (and gets its rework back), no case is sent to a
unit that was deactivated, and an extension must move the deadline later."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import transition
from civicloop.core.units.models import Unit
from tests.core.cases.helpers import at, opinion, unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

TOWN = "town-331081100"
SUPERVISOR = "dept-supervision"


def dispatched_case(now_text: str = "2026-11-02 10:00") -> Case:
    case = opinion(now=at(now_text))
    transition(case=case, action="accept", actor=user("station_zeguo"), now=at(now_text))
    return transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit(TOWN),
        grade="town",
        now=at(now_text),
    )


def rated_unsatisfied_twice() -> Case:
    """Handled by the town, rated 不满意, handled again, rated 不满意 again."""
    case = dispatched_case()
    case = transition(case=case, action="claim", actor=user("handler_zeguo"))
    for note in ("已处理", "再次处理"):
        case = transition(case=case, action="submit_result", actor=user("handler_zeguo"), note=note)
        case = transition(
            case=case, action="rate", actor=user("deputy_wang"), rating="unsatisfied", note="不行"
        )
    return case


def refused(code: CaseErrorCode, field: str = "", **kwargs: object) -> CaseError:
    with pytest.raises(CaseError) as raised:
        transition(**kwargs)  # type: ignore[arg-type]
    assert raised.value.code == code
    if field:
        assert raised.value.field == field
    return raised.value


# --------------------------------------------------------------------------- 2nd 不满意


def test_the_second_unsatisfied_rating_gives_the_case_to_the_supervising_unit(
    demo_city: None,
) -> None:
    # given a case the town handled twice, each time rated 不满意
    case = rated_unsatisfied_twice()

    # then the supervising unit holds it, as its assignee, with a deadline of its own
    supervisor = unit(SUPERVISOR)
    assert unit(TOWN).supervisor == supervisor
    assert case.holder_unit == supervisor and case.assignee_unit == supervisor
    assert case.round == 2 and case.due_at is not None
    step = case.steps.get(ended_at__isnull=True)
    assert step.unit == supervisor
    last = case.timeline.last()
    assert last is not None and last.unit == supervisor
    assert last.data["outcome"] == "escalated_to_supervisor"
    assert last.data["unit"] == supervisor.name
    # and the town no longer holds it
    assert not Case.objects.filter(pk=case.pk, holder_unit=unit(TOWN)).exists()


def test_a_rework_after_escalation_returns_to_the_supervisor_not_the_town(
    demo_city: None,
) -> None:
    # given an escalated case the supervising unit handled and submitted a result for
    case = rated_unsatisfied_twice()
    case = transition(case=case, action="claim", actor=user("supervision"))
    case = transition(case=case, action="submit_result", actor=user("supervision"), note="已督办")
    assert case.state == "result_submitted"

    # when the receiving station sends the result back for rework
    case = transition(case=case, action="rework", actor=user("station_zeguo"), note="仍未修好")

    # then the supervising unit holds it again, not the town that failed twice
    assert case.state == "handling"
    assert case.holder_unit == unit(SUPERVISOR)
    assert case.steps.get(ended_at__isnull=True).unit == unit(SUPERVISOR)
    # the town's handler cannot act on it any more; the supervisor can
    refused(
        CaseErrorCode.FORBIDDEN,
        case=case,
        action="submit_result",
        actor=user("handler_zeguo"),
        note="我们来",
    )
    case = transition(case=case, action="submit_result", actor=user("supervision"), note="已修复")
    assert case.holder_unit == unit("station-331081100")


# --------------------------------------------------------------------------- inactive units


def deactivate(code: str) -> Unit:
    Unit.objects.filter(code=code).update(is_active=False)
    return unit(code)


def test_dispatching_to_a_deactivated_unit_is_refused(demo_city: None) -> None:
    # given an accepted case and a town office that was deactivated
    case = opinion()
    case = transition(case=case, action="accept", actor=user("station_zeguo"))
    closed = deactivate(TOWN)

    # when it is dispatched there, then it is refused and nothing is recorded
    refused(
        CaseErrorCode.INVALID,
        "unit",
        case=case,
        action="dispatch",
        actor=user("station_zeguo"),
        unit=closed,
        grade="town",
    )
    case.refresh_from_db()
    assert case.state == "accepted" and case.holder_unit == unit("station-331081100")
    assert list(case.timeline.values_list("action", flat=True)) == ["submit", "accept"]
    # an active unit is still accepted
    case = transition(
        case=case,
        action="dispatch",
        actor=user("station_zeguo"),
        unit=unit("dept-housing"),
        grade="city",
    )
    assert case.holder_unit == unit("dept-housing")


def test_transferring_to_a_deactivated_unit_is_refused(demo_city: None) -> None:
    # given a case dispatched to the housing bureau, and the town office deactivated
    case = opinion()
    transition(case=case, action="accept", actor=user("station_zeguo"))
    case = transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("dept-housing"),
        grade="city",
    )
    closed = deactivate(TOWN)

    # when it is transferred there, then it is refused
    refused(
        CaseErrorCode.INVALID,
        "unit",
        case=case,
        action="transfer",
        actor=user("deputy_wang"),
        unit=closed,
        note="改派属地",
    )
    case.refresh_from_db()
    assert case.holder_unit == unit("dept-housing") and case.state == "dispatched"
    assert case.timeline.last().action == "dispatch"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- extensions


def test_an_extension_to_the_current_or_an_earlier_deadline_is_refused(demo_city: None) -> None:
    # given a handled case with a deadline
    case = dispatched_case()
    case = transition(case=case, action="claim", actor=user("handler_zeguo"))
    assert case.due_at is not None
    due = case.due_at

    # when an extension is asked to the same deadline, or an earlier one, it is refused
    for asked in (due, due - timedelta(minutes=1), due - timedelta(days=3)):
        refused(
            CaseErrorCode.INVALID,
            "due_at",
            case=case,
            action="request_extension",
            actor=user("handler_zeguo"),
            note="需协调",
            due_at=asked,
        )
    case.refresh_from_db()
    assert "pending_extension" not in case.data and case.due_at == due

    # and one a minute later is accepted
    case = transition(
        case=case,
        action="request_extension",
        actor=user("handler_zeguo"),
        note="需协调",
        due_at=due + timedelta(minutes=1),
    )
    assert case.data["pending_extension"]["due_at"] == (due + timedelta(minutes=1)).isoformat()
