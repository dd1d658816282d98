"""The registry sees applications and workflow definitions saved as data, in every
process, without a restart; module channels win; open cases keep their version."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone, translation

from civicloop.core import registry
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.services import CaseDraft, actions_available, case_submit, transition
from civicloop.core.cases.workflow import GENERIC_LOOP
from civicloop.core.forms import sources
from civicloop.core.forms.models import Application, WorkflowDefinition
from civicloop.core.forms.workflow_data import workflow_definition_export, workflow_definition_save
from civicloop.core.registry import Intake, Publication, RegistryError
from tests.core.forms.wf_city import small_town_build

pytestmark = pytest.mark.django_db


def definition(**changes: Any) -> dict[str, Any]:
    d = workflow_definition_export(GENERIC_LOOP)
    d.update(changes)
    return d


def make_app(code: str = "visit_log", **kwargs: Any) -> Application:
    kwargs.setdefault("name", "联系群众活动登记")
    kwargs.setdefault("number_prefix", "LX")
    return Application.objects.create(code=code, **kwargs)


def test_an_application_is_a_channel_at_once() -> None:
    workflow_definition_save(code="visit", label="走访", definition=definition())
    make_app(workflow="visit", owner_unit_kinds=["town_office", "station"], name_en="Visits")

    ch = registry.channel("visit_log")

    assert ch.code == "visit_log"
    assert ch.number_prefix == "LX"
    assert ch.workflow == "visit@1"
    assert ch.intakes == frozenset({Intake.MODULE})  # never the generic case API
    assert not ch.open311
    assert ch.publication is Publication.NOTHING
    assert ch.owner_unit_kinds == ("town_office", "station")
    assert "visit_log" in [c.code for c in registry.channels()]
    with translation.override("en"):
        assert str(ch.name) == "Visits"
    with translation.override("zh-hans"):
        assert str(ch.name) == "联系群众活动登记"


def test_a_public_application_is_offered_on_open311() -> None:
    make_app(public=True)

    ch = registry.channel("visit_log")

    assert ch.open311 and not ch.accepts(Intake.API)
    assert ch.publication is Publication.PUBLIC_PROJECTION


def test_a_disabled_application_still_resolves_but_is_not_listed() -> None:
    make_app(enabled=False)

    assert registry.channel("visit_log").code == "visit_log"
    assert "visit_log" not in [c.code for c in registry.channels()]
    with pytest.raises(RegistryError):
        registry.channel("no_such_app")


def test_a_new_version_is_what_new_cases_get() -> None:
    workflow_definition_save(code="visit", label="走访", definition=definition())
    make_app(workflow="visit")
    assert registry.channel("visit_log").workflow == "visit@1"

    workflow_definition_save(code="visit", label="走访", definition=definition(label="走访二"))

    assert registry.channel("visit_log").workflow == "visit@2"
    codes = {t.code for t in registry.workflows()}
    assert {"visit@1", "visit@2", "generic_loop"} <= codes


def test_module_channels_win_over_an_application_of_the_same_code() -> None:
    taken = sorted(registry.static_channel_codes())
    if not taken:
        pytest.skip("no module channel is registered")
    static = registry.channel(taken[0])
    make_app(code=taken[0], number_prefix="ZZ")

    assert registry.channel(taken[0]) is static
    assert [c.code for c in registry.channels()].count(taken[0]) == 1


def test_repeated_lookups_make_no_query_each(django_assert_max_num_queries: Any) -> None:
    for i in range(5):
        make_app(code=f"app_{i}", number_prefix=f"A{i}")
    workflow_definition_save(code="visit", label="走访", definition=definition())
    registry.channel("app_0")
    registry.workflows()

    # A list page asks per row: never a query per row (the staleness check reads the
    # shared cache, and the tables at most every MAX_AGE_SECONDS).
    with django_assert_max_num_queries(0):
        for _ in range(50):
            for i in range(5):
                registry.channel(f"app_{i}")
            registry.workflow("visit@1")
            registry.channels()
            registry.workflows()


def test_another_process_change_is_seen_through_the_shared_version(monkeypatch: Any) -> None:
    make_app(name="旧名称")
    assert registry.channel("visit_log").name == "旧名称"

    # Another process saved it: no signal reaches this one, its commit bumps the version.
    Application.objects.filter(code="visit_log").update(name="新名称")
    assert registry.channel("visit_log").name == "旧名称"  # within the recheck interval
    sources._bump_shared_version()
    assert registry.channel("visit_log").name == "旧名称"  # still within it

    monkeypatch.setattr(sources, "RECHECK_SECONDS", 0.0)
    assert registry.channel("visit_log").name == "新名称"


def test_without_the_shared_version_the_tables_are_checked(monkeypatch: Any) -> None:
    make_app(name="旧名称")
    assert registry.channel("visit_log").name == "旧名称"
    # A write the shared version never heard of (a queryset update, a lost cache key).
    Application.objects.filter(code="visit_log").update(
        name="新名称", updated_at=timezone.now() + timezone.timedelta(seconds=1)
    )
    monkeypatch.setattr(sources, "RECHECK_SECONDS", 0.0)
    assert registry.channel("visit_log").name == "旧名称"

    monkeypatch.setattr(sources, "MAX_AGE_SECONDS", 0.0)
    assert registry.channel("visit_log").name == "新名称"


def test_the_saving_process_sees_its_change_at_once_and_the_others_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    before = sources._shared_version()
    with django_capture_on_commit_callbacks(execute=True):
        make_app(name="新应用")
        # This process, before commit.
        assert registry.channel("visit_log").name == "新应用"
    # The others, after: the shared version moved.
    assert sources._shared_version() != before


def test_a_version_saved_elsewhere_resolves_before_the_next_recheck() -> None:
    registry.workflows()  # the snapshot is loaded (no definitions yet)
    WorkflowDefinition.objects.bulk_create(  # another process: no signal
        [WorkflowDefinition(code="visit", version=1, label="走访", definition=definition())]
    )

    assert registry.workflow("visit@1").code == "visit@1"
    with pytest.raises(RegistryError):
        registry.workflow("visit@9")


def test_open_cases_keep_their_version_and_new_cases_get_the_new_one() -> None:
    town = small_town_build()
    # Version 1: the generic loop. Version 2: "accept" is now called "take".
    workflow_definition_save(code="visit", label="走访", definition=definition())
    make_app(workflow="visit")

    def submit(key: str) -> Any:
        return case_submit(
            draft=CaseDraft(
                channel="visit_log",
                title="走访",
                body="走访记录",
                owner_unit=town.office,
                submission_key=key,
            )
        )

    old = submit("k1")
    v2 = definition()
    for action in v2["actions"]:
        if action["code"] == "accept":
            action["code"], action["label"] = "take", "接收"
    workflow_definition_save(code="visit", label="走访", definition=v2)
    new = submit("k2")

    assert (old.workflow, new.workflow) == ("visit@1", "visit@2")
    handler = town.handler
    assert "accept" in [a.code for a in actions_available(case=old, user=handler)]
    assert "take" in [a.code for a in actions_available(case=new, user=handler)]

    old = transition(case=old, action="accept", actor=handler)
    assert old.state == "accepted"
    with pytest.raises(CaseError) as info:
        transition(case=new, action="accept", actor=handler)
    assert info.value.code is CaseErrorCode.UNKNOWN_ACTION
    new = transition(case=new, action="take", actor=handler)
    assert new.state == "accepted"
