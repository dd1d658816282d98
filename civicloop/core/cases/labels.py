"""Human labels for workflow codes (states, actions, timeline events), translated.

Timeline events that are not workflow actions are named here for core's own (written by
services and sweeps) and by modules through `registry.register_event_label`."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.cases.models import Case
from civicloop.core.registry import RegistryError

CORE_EVENT_LABELS: dict[str, str | Promise] = {
    "submit": _("提交"),
    "merged_from": _("合并来件"),
    "remind": _("到期提醒"),
    "overdue": _("已超期"),
    "escalate": _("超期上报"),
    "deadline_recomputed": _("办理时限重算"),
    "linked": _("转为事项"),
}


def state_label(workflow: str, state: str) -> str:
    if not state:
        return ""
    try:
        return str(registry.workflow(workflow).state(state).label)
    except (RegistryError, KeyError):
        return state


def action_label(workflow: str, action: str) -> str:
    label = CORE_EVENT_LABELS.get(action) or registry.event_label(action)
    if label is not None:
        return str(label)
    try:
        return str(registry.workflow(workflow).action(action).label)
    except (RegistryError, KeyError):
        return action


def channel_label(code: str) -> str:
    try:
        return str(registry.channel(code).name)
    except RegistryError:
        return code


def case_is_terminal(case: Case) -> bool:
    try:
        return registry.workflow(case.workflow).state(case.state).terminal
    except (RegistryError, KeyError):
        return False
