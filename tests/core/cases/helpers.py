"""Small builders shared by the case-engine tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit
from civicloop.core.cases.workflow import WorkflowTemplate
from civicloop.core.units.models import Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """An aware Shanghai time from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def user(name: str) -> User:
    return User.objects.get(username=name)


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def opinion(*, now: datetime | None = None, phone: str = "13912345678", **kwargs: object) -> Case:
    return case_submit(
        draft=CaseDraft(
            channel="opinion",
            title=str(kwargs.pop("title", "路灯不亮")),
            body=str(kwargs.pop("body", "泽国社区3幢楼道灯坏了一个多月。")),
            category="housing",
            contact_name="陈群众",
            contact_phone=phone,
            owner_unit=unit("station-331081100"),
            **kwargs,
        ),
        now=now,
    )


# Variants of a workflow template, for the template and engine tests.
Variant = Callable[[WorkflowTemplate], WorkflowTemplate]


def with_action(code: str, /, **changes: object) -> Variant:
    """The template with one action changed."""

    def change(t: WorkflowTemplate) -> WorkflowTemplate:
        actions = tuple(replace(a, **changes) if a.code == code else a for a in t.actions)  # type: ignore[arg-type]
        return replace(t, actions=actions)

    return change


def with_state(code: str, /, **changes: object) -> Variant:
    def change(t: WorkflowTemplate) -> WorkflowTemplate:
        states = tuple(replace(s, **changes) if s.code == code else s for s in t.states)  # type: ignore[arg-type]
        return replace(t, states=states)

    return change


def with_template(**changes: object) -> Variant:
    return lambda t: replace(t, **changes)  # type: ignore[arg-type]
