"""`validate()` refuses a template the engine could not run, naming the rule it breaks.
(How the engine follows a template's attributes: test_workflow_engine.py.)"""

from __future__ import annotations

from dataclasses import replace

import pytest

from civicloop.core import registry
from civicloop.core.cases import workflow as wf
from civicloop.core.cases.workflow import GENERIC_LOOP, Requires
from tests.core.cases.helpers import Variant, with_action, with_state, with_template


def requires(act: str, *without: Requires) -> Variant:
    kept = GENERIC_LOOP.action(act).requires - set(without)
    return with_action(act, requires=frozenset(kept))


# --------------------------------------------------------------------------- validate


def test_the_registered_templates_are_valid() -> None:
    # core's generic loop and every enabled module's templates
    assert registry.workflows()
    for template in registry.workflows():
        template.validate()


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        (requires("dispatch", Requires.UNIT), r"'dispatch' has effects that need requires unit"),
        (with_action("dispatch", target=wf.ACCEPTED), r"'dispatch' assigns a unit"),
        (with_action("return", target=wf.HANDLING), r"'return' hands back to the owner"),
        (requires("answer", Requires.NOTE), r"'answer' has effects that need requires note"),
        (requires("rate", Requires.RATING), r"'rate' has effects that need requires rating"),
        (with_action("rate", target=wf.RESULT_SUBMITTED), r"'rate' rates: a satisfied rating"),
        (with_template(rework_state=""), r"'rate' rates, so the template must name its rework"),
        (with_template(escalate_state=""), r"must name its escalate_state"),
        (with_template(rework_state="nowhere"), r"rework_state 'nowhere' is not defined"),
        (with_template(rework_state=wf.ACCEPTED), r"rates: the rework_state 'accepted' must be"),
        (with_template(escalate_state=wf.CLOSED), r"rates: the escalate_state 'closed' must be"),
        (with_action("rework", target=wf.RESULT_SUBMITTED), r"'rework' sends back for rework"),
        (
            requires("request_extension", Requires.DUE_AT),
            r"'request_extension' has effects that need requires due_at",
        ),
        (
            requires("approve_extension", Requires.PENDING_EXTENSION),
            r"'approve_extension' has effects that need requires pending_extension",
        ),
        (
            requires("deny_extension", Requires.PENDING_EXTENSION),
            r"'deny_extension' has effects that need requires pending_extension",
        ),
        (with_action("defer", target=wf.CLOSED), r"'defer' defers: its target must be an open"),
        (requires("merge", Requires.MERGE_INTO), r"'merge' has effects that need requires merge_i"),
        (with_action("withdraw", target=wf.ACCEPTED), r"'withdraw' closes: its target must be"),
        (
            with_action("claim", unit_must_differ=True),
            r"'claim' has effects that need requires unit",
        ),
        (with_state(wf.CLOSED, to_accept=True), r"terminal state 'closed' cannot be to_accept"),
        (with_template(withdraw_action="vanish"), r"withdraw_action 'vanish' is not defined"),
        (with_template(withdraw_action="reject"), r"withdraw_action 'reject' must be taken by"),
        (with_action("accept", code="submit"), r"action code 'submit' is reserved"),
        (with_action("accept", target="limbo"), r"'accept' names unknown states"),
        (with_action("claim", code="accept"), r"action 'accept' defined twice"),
    ],
)
def test_a_template_that_breaks_a_rule_is_refused_with_the_rule(
    variant: Variant, message: str
) -> None:
    broken = variant(GENERIC_LOOP)

    with pytest.raises(ValueError, match=message) as refused:
        broken.validate()
    assert str(refused.value).startswith("generic_loop: ")


def test_registering_a_broken_template_is_refused() -> None:
    broken = replace(GENERIC_LOOP, code="broken_loop", rework_state="")

    with pytest.raises(ValueError, match="rework_state"):
        registry.register_workflow(broken)
    with pytest.raises(registry.RegistryError):
        registry.workflow("broken_loop")


def test_public_entries_are_the_opening_and_the_actions_marked_public() -> None:
    assert GENERIC_LOOP.is_public_entry(wf.OPENED_ENTRY)
    assert GENERIC_LOOP.is_public_entry("dispatch")
    assert not GENERIC_LOOP.is_public_entry("request_extension")
    assert not GENERIC_LOOP.is_public_entry("merged_from")
    assert not with_action("dispatch", public=False)(GENERIC_LOOP).is_public_entry("dispatch")
