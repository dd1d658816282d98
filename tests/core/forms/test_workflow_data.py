"""Workflow templates written as JSON: strict parsing with JSON paths, the same validate()
as the coded templates, versions, export of the coded loop."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.utils import translation

from civicloop.core import registry
from civicloop.core.cases.workflow import GENERIC_LOOP, Effect, Params
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.models import WorkflowDefinition
from civicloop.core.forms.workflow_data import (
    application_code_check,
    template_from_definition,
    workflow_definition_export,
    workflow_definition_save,
    workflow_latest,
)


def generic() -> dict[str, Any]:
    return workflow_definition_export(GENERIC_LOOP)


def refusal(definition: Any) -> FormError:
    with pytest.raises(FormError) as info:
        template_from_definition("t@1", definition)
    assert info.value.code is FormErrorCode.BAD_WORKFLOW
    return info.value


def action_index(definition: dict[str, Any], code: str) -> int:
    return next(i for i, a in enumerate(definition["actions"]) if a["code"] == code)


# --------------------------------------------------------------------------- export


def test_the_generic_loop_round_trips_through_its_export() -> None:
    exported = generic()
    # It is plain JSON a clerk can edit.
    text = json.dumps(exported, ensure_ascii=False)
    template = template_from_definition("copy@1", json.loads(text))

    assert template.code == "copy@1"
    assert template.initial == GENERIC_LOOP.initial
    assert template.states == GENERIC_LOOP.states
    assert template.actions == GENERIC_LOOP.actions
    assert template.grade_sla == GENERIC_LOOP.grade_sla
    assert (template.rework_state, template.escalate_state, template.withdraw_action) == (
        "handling",
        "dispatched",
        "withdraw",
    )
    assert exported["states"][0]["label"] == "待受理"


def test_a_label_may_be_given_per_language() -> None:
    d = generic()
    d["states"][0]["label"] = {"zh-hans": "待受理", "en": "To accept"}
    template = template_from_definition("t@1", d)

    with translation.override("en"):
        assert str(template.states[0].label) == "To accept"
    with translation.override("zh-hans"):
        assert str(template.states[0].label) == "待受理"


# --------------------------------------------------------------------------- strict parsing


def test_an_unknown_who_is_refused_with_its_path_and_the_allowed_values() -> None:
    d = generic()
    d["actions"][3]["who"] = ["holder", "boss"]

    err = refusal(d)

    assert err.where == "actions[3].who[1]"
    assert "actions[3].who[1]" in err.message
    assert "boss" in err.message
    assert "holder_leader" in err.message and "submitter" in err.message


def test_an_unknown_key_is_refused_with_its_path() -> None:
    d = generic()
    d["states"][2]["colour"] = "red"

    err = refusal(d)

    assert err.where == "states[2].colour"
    assert "to_accept" in err.message


def test_an_unknown_top_level_key_and_a_missing_one_are_refused() -> None:
    d = generic()
    d["stages"] = []
    assert refusal(d).where == "stages"

    d = generic()
    del d["initial"]
    assert refusal(d).where == "initial"


def test_sla_units_are_those_of_the_sla_policy() -> None:
    d = generic()
    d["states"][0]["sla"] = {"value": 4, "unit": "hour"}
    err = refusal(d)
    assert err.where == "states[0].sla.unit"
    assert "workday" in err.message and "workhour" in err.message

    d["states"][0]["sla"] = {"value": 4, "unit": "workhour"}
    assert template_from_definition("t@1", d).states[0].sla is not None

    d["states"][0]["sla"] = {"value": 0, "unit": "workday"}
    assert refusal(d).where == "states[0].sla.value"


def test_types_are_checked() -> None:
    d = generic()
    d["actions"][0]["primary"] = "yes"
    assert refusal(d).where == "actions[0].primary"

    d = generic()
    d["actions"][0]["from"] = "submitted"
    assert refusal(d).where == "actions[0].from"

    d = generic()
    d["states"][1]["code"] = "Accepted State"
    assert refusal(d).where == "states[1].code"

    assert refusal([1, 2]).where == ""


def test_what_validate_refuses_is_refused_with_its_message() -> None:
    d = generic()
    i = action_index(d, "claim")
    d["actions"][i]["to"] = "nowhere"

    err = refusal(d)

    # The very message of WorkflowTemplate.validate(), on the action it concerns.
    assert "names unknown states" in err.message and "nowhere" in err.message
    assert err.where == f"actions[{i}]"


def test_an_effect_without_the_input_it_needs_is_refused_by_validate() -> None:
    d = generic()
    i = action_index(d, "dispatch")
    d["actions"][i]["requires"] = ["grade"]

    err = refusal(d)

    assert "need requires unit" in err.message


def test_spawn_cases_needs_its_params() -> None:
    d = generic()
    i = action_index(d, "answer")
    d["actions"][i]["effects"] = ["set_result", "close", "spawn_cases"]
    err = refusal(d)
    assert err.where == f"actions[{i}].params.repeat"

    d["actions"][i]["params"] = {"repeat": "decisions", "channel": "x", "title": "t", "colour": 1}
    assert refusal(d).where == f"actions[{i}].params.colour"

    d["actions"][i]["params"] = {"repeat": "decisions", "channel": "x", "title": "t"}
    template = template_from_definition("t@1", d)
    action = template.action("answer")
    assert Effect.SPAWN_CASES in action.effects
    assert action.params["repeat"] == "decisions"
    assert isinstance(action.params, Params)
    hash(action)  # still a frozen, hashable Action


def test_params_on_an_action_that_takes_none_are_refused() -> None:
    d = generic()
    d["actions"][0]["params"] = {"repeat": "x"}
    assert refusal(d).where == "actions[0].params"


# --------------------------------------------------------------------------- saving


@pytest.mark.django_db
def test_saving_makes_versions_and_an_identical_definition_is_not_saved_twice() -> None:
    first = workflow_definition_save(code="visit", label="走访", definition=generic())
    again = workflow_definition_save(code="visit", label="走访", definition=generic())
    changed = generic()
    changed["states"][0]["label"] = "待接收"
    second = workflow_definition_save(code="visit", label="走访", definition=changed)

    assert first.version == 1 and again.pk == first.pk
    assert second.version == 2
    assert second.template_code == "visit@2"
    assert WorkflowDefinition.objects.filter(code="visit").count() == 2
    assert workflow_latest("visit") == "visit@2"
    assert workflow_latest("generic_loop") == "generic_loop"
    assert workflow_latest("visit@1") == "visit@1"
    assert str(registry.workflow("visit@2").states[0].label) == "待接收"


@pytest.mark.django_db
def test_saving_accepts_json_text_and_refuses_bad_json_with_its_place() -> None:
    saved = workflow_definition_save(
        code="meeting", label="议事", definition=json.dumps(generic(), ensure_ascii=False)
    )
    assert saved.version == 1

    with pytest.raises(FormError) as info:
        workflow_definition_save(code="meeting", label="议事", definition='{"initial": ,}')
    assert "第 1 行" in info.value.message
    assert WorkflowDefinition.objects.filter(code="meeting").count() == 1


@pytest.mark.django_db
def test_a_refused_definition_saves_nothing() -> None:
    d = generic()
    d["actions"][3]["who"] = ["boss"]

    with pytest.raises(FormError):
        workflow_definition_save(code="visit", label="走访", definition=d)

    assert not WorkflowDefinition.objects.exists()


@pytest.mark.django_db
def test_a_coded_template_code_cannot_be_taken() -> None:
    with pytest.raises(FormError) as info:
        workflow_definition_save(code="generic_loop", label="x", definition=generic())
    assert info.value.where == "code"
    with pytest.raises(FormError):
        workflow_definition_save(code="Bad Code", label="x", definition=generic())


def test_application_codes_of_module_channels_are_refused() -> None:
    application_code_check("visit_log")
    with pytest.raises(FormError) as info:
        application_code_check("Visit Log")
    assert info.value.field == "code"
    taken = sorted(registry.static_channel_codes())
    if not taken:
        pytest.skip("no module channel is registered")
    with pytest.raises(FormError) as info:
        application_code_check(taken[0])
    assert taken[0] in info.value.message


def test_the_exported_dict_is_not_shared() -> None:
    a = generic()
    b = copy.deepcopy(a)
    a["actions"][0]["label"] = "changed"
    assert generic() == b
