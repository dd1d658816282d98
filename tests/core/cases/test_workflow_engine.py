"""The engine reads a loop's meaning from its template, never from state or action names.

Each test swaps the registered generic loop for a valid variant (one attribute changed)
and shows the behaviour follows the attribute."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from civicloop.core import registry
from civicloop.core.cases import workflow as wf
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.selectors import workbench_for
from civicloop.core.cases.services import CaseDraft, actions_available, case_submit, transition
from civicloop.core.cases.workflow import GENERIC_LOOP
from tests.core.cases.helpers import (
    Variant,
    at,
    opinion,
    unit,
    user,
    with_action,
    with_state,
    with_template,
)

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


@pytest.fixture
def use_variant(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Variant], None]]:
    """Replace the registered generic loop with a valid variant for one test."""

    def use(variant: Variant) -> None:
        template = variant(GENERIC_LOOP)
        template.validate()
        monkeypatch.setitem(registry._workflows, GENERIC_LOOP.code, template)

    yield use


def handled_case() -> Case:
    case = opinion(now=at("2026-11-02 10:00"))
    transition(case=case, action="accept", actor=user("station_zeguo"))
    transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        grade="town",
    )
    return transition(case=case, action="claim", actor=user("handler_zeguo"))


def test_an_unsatisfied_rating_returns_to_the_state_the_template_names(
    demo_city: None, use_variant: Callable[[Variant], None]
) -> None:
    # Given a loop whose 不满意 sends the case back to be signed for again
    use_variant(with_template(rework_state=wf.DISPATCHED))
    case = handled_case()
    transition(case=case, action="submit_result", actor=user("handler_zeguo"), note="已处理")

    # When the result is rated 不满意
    case = transition(
        case=case, action="rate", actor=user("deputy_wang"), rating="unsatisfied", note="没修好"
    )

    # Then it waits at the unit in that state, not in 办理中
    assert case.state == wf.DISPATCHED
    assert case.holder_unit == unit("town-331081100")
    assert case.timeline.order_by("-seq")[0].data["outcome"] == "returned_to_unit"


def test_the_workbench_lists_the_states_the_template_marks_to_accept(
    demo_city: None, use_variant: Callable[[Variant], None]
) -> None:
    # Given a loop where an accepted case, not a new one, waits for the station
    use_variant(
        lambda t: with_state(wf.SUBMITTED, to_accept=False)(
            with_state(wf.ACCEPTED, to_accept=True)(t)
        )
    )
    new = opinion(title="新来件")
    accepted = opinion(title="已受理件")
    transition(case=accepted, action="accept", actor=user("station_zeguo"))

    # When the station looks at its workbench
    bench = workbench_for(user=user("station_zeguo"), now=at("2026-11-02 10:00"))

    # Then the accepted case is listed to accept and the new one is not
    numbers = [c.number for c in bench.to_accept]
    assert accepted.number in numbers
    assert new.number not in numbers
    held = Case.objects.filter(holder_unit=unit("station-331081100"))
    assert bench.counts["to_accept"] == held.filter(state=wf.ACCEPTED).count()
    assert held.filter(state=wf.SUBMITTED).exists()  # there were new cases to leave out


def test_a_same_unit_is_refused_only_where_the_action_says_so(
    demo_city: None, use_variant: Callable[[Variant], None]
) -> None:
    case = handled_case()
    town = unit("town-331081100")

    # 改派 to the unit that holds the case is refused (the template marks it)
    with pytest.raises(CaseError) as refused:
        transition(case=case, action="transfer", actor=user("deputy_wang"), unit=town, note="x")
    assert refused.value.field == "unit"

    # and allowed once the template no longer marks it
    use_variant(with_action("transfer", unit_must_differ=False))
    case = transition(case=case, action="transfer", actor=user("deputy_wang"), unit=town, note="x")
    assert case.state == wf.DISPATCHED


def test_a_second_extension_request_waits_for_the_first(demo_city: None) -> None:
    # Given a handler who asked for more time
    case = handled_case()
    handler = user("handler_zeguo")
    later = case.due_at + timedelta(days=10)  # type: ignore[operator]
    case = transition(
        case=case, action="request_extension", actor=handler, note="材料未到", due_at=later
    )

    # Then asking again is neither offered nor accepted until the leader decides
    assert "request_extension" not in [a.code for a in actions_available(case=case, user=handler)]
    with pytest.raises(CaseError) as refused:
        transition(
            case=case,
            action="request_extension",
            actor=handler,
            note="再申请",
            due_at=later + timedelta(days=1),
        )
    assert refused.value.code is CaseErrorCode.INVALID_STATE
    assert case.data["pending_extension"]["note"] == "材料未到"

    # and once denied it may be asked again
    case = transition(case=case, action="deny_extension", actor=user("leader_zeguo"), note="不同意")
    assert "request_extension" in [a.code for a in actions_available(case=case, user=handler)]


def test_any_action_with_the_merge_effect_links_both_cases(
    demo_city: None, use_variant: Callable[[Variant], None]
) -> None:
    # Given a loop whose merge action has another code
    use_variant(with_action("merge", code="combine"))
    first = opinion(title="第一件")
    duplicate = opinion(title="重复件")

    # When the duplicate is combined into the first
    transition(case=duplicate, action="combine", actor=user("deputy_wang"), merge_into=first)

    # Then the first case's timeline records where it came from
    merged_from = TimelineEntry.objects.get(case=first, action="merged_from")
    assert merged_from.data == {"merged_case": duplicate.number}


def test_transition_and_case_submit_take_keywords_only(demo_city: None) -> None:
    case = opinion()
    with pytest.raises(TypeError):
        transition(case, "accept", user("station_zeguo"))  # type: ignore[misc]
    with pytest.raises(TypeError):
        case_submit(CaseDraft(channel="opinion", title="t", body="b"))  # type: ignore[misc]
