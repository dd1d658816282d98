"""The SPAWN_CASES effect: each decision of a meeting followed as a case of its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.services import CaseDraft, case_submit, transition
from civicloop.core.cases.timeline import chain_check
from civicloop.core.forms.errors import FormError
from civicloop.core.forms.models import Application, FormVersion, Submission
from civicloop.core.forms.spawn import spawn_cases_handler
from civicloop.core.forms.workflow_data import template_from_definition, workflow_definition_save
from civicloop.core.registry import workflow
from tests.core.forms.wf_city import SmallTown, small_town_build

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)

SPAWN = {
    "repeat": "decisions",
    "channel": "followup",
    "title": "decision",
    "body": "detail",
    "due": "deadline",
    "when": {"field": "follow", "equals": "yes"},
}


def meeting_workflow(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": "议事协商会",
        "initial": "submitted",
        "states": [
            {"code": "submitted", "label": "待审核", "holder": "owner", "to_accept": True},
            {"code": "reviewed", "label": "已审核", "holder": "owner"},
            {"code": "closed", "label": "已办结", "holder": "none", "terminal": True},
        ],
        "actions": [
            {
                "code": "review",
                "label": "审核",
                "from": ["submitted"],
                "to": "reviewed",
                "who": ["owner", "admin"],
            },
            {
                "code": "follow_up",
                "label": "决定事项转办",
                "from": ["reviewed"],
                "to": "closed",
                "who": ["owner", "admin"],
                "effects": ["spawn_cases", "close"],
                "params": params,
                "public": True,
            },
        ],
    }


DECISIONS = [
    {
        "decision": "修缮村道",
        "detail": "村东道路破损，年底前修好",
        "follow": "yes",
        "deadline": "2026-12-15",
    },
    {"decision": "宣传垃圾分类", "detail": "", "follow": "no", "deadline": ""},
    {"decision": "增设路灯", "detail": "村口加装三盏路灯", "follow": "yes", "deadline": ""},
]


def meeting(
    town: SmallTown, params: dict[str, Any] | None = None, form_definition: Any = None
) -> Case:
    workflow_definition_save(
        code="meeting", label="议事协商会", definition=meeting_workflow(params or SPAWN)
    )
    app = Application.objects.create(
        code="deliberation_t", name="议事协商会", number_prefix="YS", workflow="meeting"
    )
    Application.objects.get_or_create(
        code="followup", defaults={"name": "决定事项跟踪", "number_prefix": "GZ"}
    )
    form = FormVersion.objects.create(
        application=app,
        version=1,
        title="议事",
        definition=form_definition or {},
        source=b"",
        sha256="0" * 64,
    )
    case = case_submit(
        draft=CaseDraft(
            channel="deliberation_t",
            title="十月议事会",
            body="村民议事",
            area=town.town,
            owner_unit=town.office,
            submission_key="meeting-1",
        ),
        now=NOW,
    )
    Submission.objects.create(
        case=case,
        application=app,
        form_version=form,
        answers={"topic": "村务", "decisions": DECISIONS},
    )
    return transition(case=case, action="review", actor=town.handler, now=NOW)


def test_each_decision_that_holds_becomes_a_case_linked_both_ways() -> None:
    town = small_town_build()
    parent = meeting(town)

    parent = transition(case=parent, action="follow_up", actor=town.handler, now=NOW)

    assert parent.state == "closed"
    entry = TimelineEntry.objects.get(case=parent, action="follow_up")
    children = list(Case.objects.filter(channel="followup").order_by("number"))
    assert len(children) == 2
    assert entry.data["became"] == [c.number for c in children]
    first, second = children
    assert (first.title, first.body) == ("修缮村道", "村东道路破损，年底前修好")
    assert (second.title, second.body) == ("增设路灯", "村口加装三盏路灯")
    assert all(c.data["came_from"] == parent.number for c in children)
    assert all(c.owner_unit_id == town.office.pk for c in children)
    assert all(c.source == "spawn" for c in children)
    # The decision's own deadline: that day at the end of office hours.
    assert first.due_at == datetime(2026, 12, 15, 17, 30, tzinfo=SHANGHAI)
    assert first.steps.get().due_at == first.due_at
    # Without one, the followed channel's first state gives it (generic loop: 1 workday).
    assert second.due_at == datetime(2026, 11, 3, 17, 30, tzinfo=SHANGHAI)
    assert second.workflow == "generic_loop"
    # The parent's chain still verifies with the added data.
    entries = list(TimelineEntry.objects.filter(case=parent).order_by("seq"))
    assert chain_check(parent.number, entries) is None
    assert Case.objects.get(pk=parent.pk).timeline_hash == entries[-1].hash


def test_taking_it_again_never_opens_twice() -> None:
    town = small_town_build()
    parent = meeting(town)
    parent = transition(case=parent, action="follow_up", actor=town.handler, now=NOW)
    before = set(Case.objects.filter(channel="followup").values_list("number", flat=True))
    act = workflow(parent.workflow).action("follow_up")
    entry = TimelineEntry.objects.get(case=parent, action="follow_up")

    again = spawn_cases_handler(case=parent, action=act, actor=town.handler, now=NOW, entry=entry)

    assert set(again["became"]) == before
    assert Case.objects.filter(channel="followup").count() == 2


def test_an_xpath_condition_selects_the_instances() -> None:
    town = small_town_build()
    params = {**SPAWN, "when": "${follow} = 'yes' and ${deadline} != ''"}
    parent = meeting(town, params)

    transition(case=parent, action="follow_up", actor=town.handler, now=NOW)

    assert list(Case.objects.filter(channel="followup").values_list("title", flat=True)) == [
        "修缮村道"
    ]


def test_an_unregistered_channel_refuses_the_action_and_changes_nothing() -> None:
    town = small_town_build()
    parent = meeting(town, {**SPAWN, "channel": "nowhere"})

    with pytest.raises(CaseError) as info:
        transition(case=parent, action="follow_up", actor=town.handler, now=NOW)

    assert info.value.code is CaseErrorCode.INVALID
    assert "nowhere" in info.value.message
    assert Case.objects.get(pk=parent.pk).state == "reviewed"
    assert not TimelineEntry.objects.filter(case=parent, action="follow_up").exists()
    assert Case.objects.count() == 1


def test_owner_by_area_routes_through_the_followed_channel() -> None:
    town = small_town_build()
    parent = meeting(town, {**SPAWN, "owner": "area"})

    transition(case=parent, action="follow_up", actor=town.handler, now=NOW)

    # The town office of the parent's area (the channel's default owner kind).
    assert {c.owner_unit_id for c in Case.objects.filter(channel="followup")} == {town.office.pk}


def test_an_xlsform_expression_is_evaluated_by_the_forms_engine() -> None:
    from civicloop.core.forms.convert import convert_xlsform
    from tests.core.forms.xlsforms import xlsform_bytes

    converted = convert_xlsform(
        xlsform_bytes(
            [
                ["type", "name", "label"],
                ["text", "topic", "议题"],
                ["begin_repeat", "decisions", "决定事项"],
                ["text", "decision", "决定"],
                ["text", "detail", "说明"],
                ["select_one yn", "follow", "是否跟踪"],
                ["date", "deadline", "期限"],
                ["end_repeat", None, None],
            ],
            choices=[["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"]],
        ),
        "meeting.xlsx",
    )
    town = small_town_build()
    when = "selected(${follow}, 'yes') and string-length(${deadline}) > 0"
    parent = meeting(town, {**SPAWN, "when": when}, converted.definition)

    transition(case=parent, action="follow_up", actor=town.handler, now=NOW)

    assert list(Case.objects.filter(channel="followup").values_list("title", flat=True)) == [
        "修缮村道"
    ]


def test_a_broken_expression_refuses_the_action() -> None:
    town = small_town_build()
    parent = meeting(town, {**SPAWN, "when": "${follow} = = 'yes'"})

    with pytest.raises(CaseError):
        transition(case=parent, action="follow_up", actor=town.handler, now=NOW)

    assert Case.objects.get(pk=parent.pk).state == "reviewed"


def test_a_list_of_fields_gives_the_new_case_one_labelled_line_each() -> None:
    town = small_town_build()
    definition = {
        "type": "survey",
        "name": "data",
        "title": "议事",
        "children": [
            {"type": "text", "name": "topic", "label": "议题"},
            {
                "type": "repeat",
                "name": "decisions",
                "label": "议定事项",
                "children": [
                    {"type": "text", "name": "decision", "label": {"Chinese (zh)": "议定内容"}},
                    {"type": "text", "name": "detail", "label": {"Chinese (zh)": "具体要求"}},
                    {"type": "date", "name": "deadline", "label": {"Chinese (zh)": "落实期限"}},
                    {"type": "text", "name": "follow", "label": "跟踪"},
                ],
            },
        ],
    }
    parent = meeting(town, {**SPAWN, "body": ["detail", "deadline"]}, form_definition=definition)
    transition(case=parent, action="follow_up", actor=town.handler, now=NOW)
    first = Case.objects.filter(channel="followup").order_by("number").first()
    assert first is not None
    assert first.body == "具体要求：村东道路破损，年底前修好\n落实期限：2026-12-15"


def test_an_empty_list_of_body_fields_is_refused() -> None:
    with pytest.raises(FormError) as caught:
        template_from_definition("m@1", meeting_workflow({**SPAWN, "body": []}))
    assert "body" in caught.value.message
