"""Workflow templates written as data (JSON), for applications that have no module.

A city IT clerk composes a loop from the engine's own pieces (the states, actions, `Who`,
`Requires` and `Effect` values of `civicloop.core.cases.workflow`) and saves it in the
admin. The JSON is parsed strictly — an unknown key or value is refused with its JSON
path and the allowed values — and then checked by the very `WorkflowTemplate.validate()`
that checks the coded templates. A saved definition is never edited: a change is the next
version, and its template code is `<code>@<version>` (what `Case.workflow` records, so an
open case keeps the version it started on).

The format (every key not marked optional is required)::

    {
      "label": "议事协商会",                      # optional: the row's label otherwise
      "initial": "submitted",
      "states": [
        {"code": "submitted",                    # lowercase letters, digits, underscores
         "label": "待受理",                      # a string, or {"zh-hans": "..", "en": ".."}
         "holder": "owner",                      # optional: owner (default) | assignee | none
         "sla": {"value": 1, "unit": "workday"}, # optional: unit workday | workhour
         "terminal": false,                      # optional
         "to_accept": true},                     # optional: waits for its holder to take it
        ...
      ],
      "actions": [
        {"code": "accept", "label": "受理",
         "from": ["submitted"],                  # the states it may be taken in
         "to": "accepted",
         "who": ["owner", "admin"],              # Who: owner owner_leader holder
                                                 #   holder_leader submitter admin system
         "requires": [],                         # optional, Requires: note unit grade rating
                                                 #   due_at merge_into pending_extension
         "effects": [],                          # optional, Effect: assign_unit back_to_owner
                                                 #   keep_deadline set_result rate rework
                                                 #   request_extension approve_extension
                                                 #   deny_extension defer resume merge close
                                                 #   spawn_cases
         "primary": true, "public": true,        # optional booleans (default false), as are
         "unit_must_differ": false,              #   these two
         "takes_photos": false,
         "counts_as": "",                        # optional: a figure it counts in (rework ...)
         "params": {}},                          # optional: the effects' parameters (below)
        ...
      ],
      "grade_sla": {"town": {"value": 10, "unit": "workday"}},   # optional
      "default_dispatch_sla": {"value": 10, "unit": "workday"},  # optional
      "unsatisfied_returns": 1,                  # optional
      "rework_state": "handling",                # optional; required by a rate effect
      "escalate_state": "dispatched",            # optional; required by a rate effect
      "withdraw_action": "withdraw"              # optional
    }

`params` of an action with the `spawn_cases` effect (each instance of a repeat of the
case's form answers becomes a case of its own; see `civicloop.core.forms.spawn`)::

    {"repeat": "decisions",         # the repeat of the form
     "channel": "village_followup", # the channel (an application's code) of the new cases
     "title": "decision",           # the field of the repeat instance giving the title
     "body": "detail",              # optional: the field giving the text (else the title),
                                    #   or a list of fields, one line each
                                    #   ("responsible: 村委会" with the field's name)
     "due": "deadline",             # optional: a date field; the first step is due then
     "when": "${follow} = 'yes'",   # optional: an XPath over the instance, or
                                    #   {"field": "follow", "equals": "yes"}
     "owner": "parent"}             # optional: parent (the parent's owner unit) | area

`workflow_definition_export(GENERIC_LOOP)` gives the coded generic loop in this format,
so a clerk can start from it. Actions a module takes through its own service (`only_via`)
have no place in a data template and are left out of an export.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.cases.workflow import (
    Action,
    Effect,
    HolderKind,
    Params,
    Requires,
    State,
    Who,
    WorkflowTemplate,
)
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.sla.policy import SLA

if TYPE_CHECKING:
    from civicloop.core.forms.models import WorkflowDefinition

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SLA_UNITS = ("workday", "workhour")
SPAWN_OWNERS = ("parent", "area")

_TOP_KEYS = (
    "label",
    "initial",
    "states",
    "actions",
    "grade_sla",
    "default_dispatch_sla",
    "unsatisfied_returns",
    "rework_state",
    "escalate_state",
    "withdraw_action",
)
_TOP_REQUIRED = ("initial", "states", "actions")
_STATE_KEYS = ("code", "label", "holder", "sla", "terminal", "to_accept")
_STATE_REQUIRED = ("code", "label")
_ACTION_KEYS = (
    "code",
    "label",
    "from",
    "to",
    "who",
    "requires",
    "effects",
    "primary",
    "public",
    "counts_as",
    "unit_must_differ",
    "takes_photos",
    "params",
)
_ACTION_REQUIRED = ("code", "label", "from", "to", "who")
_SLA_KEYS = ("value", "unit")
_SPAWN_KEYS = ("repeat", "channel", "title", "body", "due", "when", "owner")


# --------------------------------------------------------------------------- labels


def _pick_label(labels: Mapping[str, str]) -> str:
    """The label in the active language: its exact code, then its base ("zh" for
    "zh-hans"), then Chinese, then the first one given."""
    lang = (translation.get_language() or "zh-hans").lower()
    for key in (lang, lang.split("-")[0]):
        if labels.get(key):
            return labels[key]
    return labels.get("zh-hans") or labels.get("zh") or next(iter(labels.values()))


_lazy_label = lazy(_pick_label, str)


# --------------------------------------------------------------------------- parsing


def _refuse(where: str, message: Any, **params: Any) -> FormError:
    return FormError(FormErrorCode.BAD_WORKFLOW, message, where=where, **params)


def _allowed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def _object(value: Any, where: str, keys: tuple[str, ...], required: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise _refuse(where, _("%(path)s 应为对象（{...}）。"), path=where or "$")
    for key in value:
        if key not in keys:
            path = f"{where}.{key}" if where else str(key)
            raise _refuse(
                path,
                _("%(path)s：未知的键。可用的键：%(allowed)s"),
                path=path,
                allowed=_allowed(keys),
            )
    for key in required:
        if key not in value:
            path = f"{where}.{key}" if where else key
            raise _refuse(path, _("%(path)s：缺少必填项。"), path=path)
    return value


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise _refuse(where, _("%(path)s 应为列表（[...]）。"), path=where)
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _refuse(where, _("%(path)s 应为 true 或 false。"), path=where)
    return value


def _int(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _refuse(where, _("%(path)s 应为不小于 %(min)s 的整数。"), path=where, min=minimum)
    return value


def _str(value: Any, where: str, *, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _refuse(where, _("%(path)s 应为非空文字。"), path=where)
    return value


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise _refuse(
            where,
            _("%(path)s：编码须以小写字母开头，只含小写字母、数字和下划线（至多 40 个）。"),
            path=where,
        )
    return value


def _choice(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _refuse(
            where,
            _("%(path)s：不认识的值 %(value)s。可用的值：%(allowed)s"),
            path=where,
            value=json.dumps(value, ensure_ascii=False),
            allowed=_allowed(allowed),
        )
    return str(value)


def _label(value: Any, where: str) -> str | Promise:
    if isinstance(value, dict):
        if not value:
            raise _refuse(where, _("%(path)s 应为非空文字。"), path=where)
        for lang, text in value.items():
            _str(text, f"{where}.{lang}", empty=False)
        return _lazy_label(dict(value))
    return _str(value, where, empty=False)


def _sla(value: Any, where: str) -> SLA:
    obj = _object(value, where, _SLA_KEYS, _SLA_KEYS)
    amount = _int(obj["value"], f"{where}.value", 1)
    unit = _choice(obj["unit"], f"{where}.unit", SLA_UNITS)
    return SLA(amount, unit)  # type: ignore[arg-type]


def _values(value: Any, where: str, enum: Any) -> list[str]:
    allowed = tuple(member.value for member in enum)
    return [_choice(v, f"{where}[{i}]", allowed) for i, v in enumerate(_list(value, where))]


def _state(value: Any, where: str) -> State:
    obj = _object(value, where, _STATE_KEYS, _STATE_REQUIRED)
    holder = _choice(
        obj.get("holder", HolderKind.OWNER.value),
        f"{where}.holder",
        tuple(h.value for h in HolderKind),
    )
    return State(
        code=_code(obj["code"], f"{where}.code"),
        label=_label(obj["label"], f"{where}.label"),
        holder=HolderKind(holder),
        sla=_sla(obj["sla"], f"{where}.sla") if obj.get("sla") is not None else None,
        terminal=_bool(obj.get("terminal", False), f"{where}.terminal"),
        to_accept=_bool(obj.get("to_accept", False), f"{where}.to_accept"),
    )


def _params(value: Any, where: str, effects: tuple[Effect, ...]) -> Params:
    if not isinstance(value, dict):
        raise _refuse(where, _("%(path)s 应为对象（{...}）。"), path=where)
    if Effect.SPAWN_CASES in effects:
        _object(value, where, _SPAWN_KEYS, ("repeat", "channel", "title"))
        for key in ("repeat", "channel", "title", "due"):
            if key in value:
                _str(value[key], f"{where}.{key}", empty=False)
        body = value.get("body")
        if isinstance(body, list):
            if not body:
                raise _refuse(f"{where}.body", _("%(path)s 应为非空列表。"), path=f"{where}.body")
            for i, name in enumerate(body):
                _str(name, f"{where}.body[{i}]", empty=False)
        elif body is not None:
            _str(body, f"{where}.body", empty=False)
        if "owner" in value:
            _choice(value["owner"], f"{where}.owner", SPAWN_OWNERS)
        when = value.get("when")
        if isinstance(when, dict):
            _object(when, f"{where}.when", ("field", "equals"), ("field", "equals"))
            _str(when["field"], f"{where}.when.field", empty=False)
        elif when is not None:
            _str(when, f"{where}.when", empty=False)
    elif value:
        raise _refuse(where, _("%(path)s：该操作的效果不需要参数。"), path=where)
    return Params(value)


def _action(value: Any, where: str) -> Action:
    obj = _object(value, where, _ACTION_KEYS, _ACTION_REQUIRED)
    sources = _list(obj["from"], f"{where}.from")
    if not sources:
        raise _refuse(f"{where}.from", _("%(path)s 应为非空列表。"), path=f"{where}.from")
    effects = tuple(Effect(e) for e in _values(obj.get("effects", []), f"{where}.effects", Effect))
    return Action(
        code=_code(obj["code"], f"{where}.code"),
        label=_label(obj["label"], f"{where}.label"),
        sources=frozenset(_code(s, f"{where}.from[{i}]") for i, s in enumerate(sources)),
        target=_code(obj["to"], f"{where}.to"),
        who=frozenset(Who(w) for w in _values(obj["who"], f"{where}.who", Who)),
        requires=frozenset(
            Requires(r) for r in _values(obj.get("requires", []), f"{where}.requires", Requires)
        ),
        effects=effects,
        primary=_bool(obj.get("primary", False), f"{where}.primary"),
        public=_bool(obj.get("public", False), f"{where}.public"),
        counts_as=_code(obj["counts_as"], f"{where}.counts_as") if obj.get("counts_as") else "",
        unit_must_differ=_bool(obj.get("unit_must_differ", False), f"{where}.unit_must_differ"),
        takes_photos=_bool(obj.get("takes_photos", False), f"{where}.takes_photos"),
        params=_params(obj.get("params", {}), f"{where}.params", effects),
    )


def _validate_where(template: WorkflowTemplate, message: str) -> str:
    """The JSON path a `validate()` refusal concerns, when it names one action."""
    match = re.search(r"action '([a-z0-9_]+)'", message)
    if match:
        for i, act in enumerate(template.actions):
            if act.code == match[1]:
                return f"actions[{i}]"
    for name in ("initial", "rework_state", "escalate_state", "withdraw_action"):
        if message.startswith(f"{template.code}: {name} ") or f": {name} " in message:
            return name
    return ""


def template_from_definition(code: str, definition: Any, *, label: str = "") -> WorkflowTemplate:
    """The WorkflowTemplate a JSON definition describes, under template code `code`
    (`<code>@<version>`). Refuses (FormError BAD_WORKFLOW, `where` its JSON path) a key or
    value it does not know, then anything `WorkflowTemplate.validate()` refuses."""
    obj = _object(definition, "", _TOP_KEYS, _TOP_REQUIRED)
    states = tuple(_state(s, f"states[{i}]") for i, s in enumerate(_list(obj["states"], "states")))
    actions = tuple(
        _action(a, f"actions[{i}]") for i, a in enumerate(_list(obj["actions"], "actions"))
    )
    seen: set[str] = set()
    for i, st in enumerate(states):
        if st.code in seen:
            raise _refuse(
                f"states[{i}].code",
                _("%(path)s：状态 %(value)s 重复。"),
                path=f"states[{i}].code",
                value=st.code,
            )
        seen.add(st.code)
    grade_sla = obj.get("grade_sla", {})
    if not isinstance(grade_sla, dict):
        raise _refuse("grade_sla", _("%(path)s 应为对象（{...}）。"), path="grade_sla")
    kwargs: dict[str, Any] = {
        "grade_sla": {
            _code(g, f"grade_sla.{g}"): _sla(v, f"grade_sla.{g}") for g, v in grade_sla.items()
        },
    }
    if "default_dispatch_sla" in obj:
        kwargs["default_dispatch_sla"] = _sla(obj["default_dispatch_sla"], "default_dispatch_sla")
    if "unsatisfied_returns" in obj:
        kwargs["unsatisfied_returns"] = _int(obj["unsatisfied_returns"], "unsatisfied_returns", 0)
    for name in ("rework_state", "escalate_state", "withdraw_action"):
        if obj.get(name):
            kwargs[name] = _code(obj[name], name)
    raw_label = obj.get("label") or label or code
    template = WorkflowTemplate(
        code=code,
        label=_label(raw_label, "label"),
        initial=_code(obj["initial"], "initial"),
        states=states,
        actions=actions,
        **kwargs,
    )
    try:
        template.validate()
    except ValueError as exc:
        raise FormError(
            FormErrorCode.BAD_WORKFLOW, str(exc), where=_validate_where(template, str(exc))
        ) from None
    return template


def workflow_definition_parse(text: str | bytes) -> Any:
    """The JSON a clerk typed, or FormError(BAD_WORKFLOW) naming the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise _refuse(
            where,
            _("JSON 格式有误（第 %(line)s 行第 %(col)s 列）：%(why)s"),
            line=exc.lineno,
            col=exc.colno,
            why=exc.msg,
        ) from None


# --------------------------------------------------------------------------- export


def _text(label: Any) -> str:
    with translation.override("zh-hans"):
        return str(label)


def _sla_json(sla: SLA) -> dict[str, Any]:
    return {"value": sla.amount, "unit": sla.unit}


def workflow_definition_export(template: WorkflowTemplate) -> dict[str, Any]:
    """A template (coded or data) as the JSON of this format, labels in Chinese: what a
    clerk starts from. `template_from_definition(code, export)` gives the same states
    and actions (an action with `only_via` is left out: see the module docstring)."""
    states = []
    for st in template.states:
        item: dict[str, Any] = {
            "code": st.code,
            "label": _text(st.label),
            "holder": st.holder.value,
        }
        if st.sla is not None:
            item["sla"] = _sla_json(st.sla)
        if st.terminal:
            item["terminal"] = True
        if st.to_accept:
            item["to_accept"] = True
        states.append(item)
    actions = []
    for act in template.actions:
        if act.only_via:
            continue
        item = {
            "code": act.code,
            "label": _text(act.label),
            "from": sorted(act.sources),
            "to": act.target,
            "who": sorted(w.value for w in act.who),
        }
        if act.requires:
            item["requires"] = sorted(r.value for r in act.requires)
        if act.effects:
            item["effects"] = [e.value for e in act.effects]
        for flag in ("primary", "public", "unit_must_differ", "takes_photos"):
            if getattr(act, flag):
                item[flag] = True
        if act.counts_as:
            item["counts_as"] = act.counts_as
        if act.params:
            item["params"] = act.params.as_dict()
        actions.append(item)
    out: dict[str, Any] = {
        "label": _text(template.label),
        "initial": template.initial,
        "states": states,
        "actions": actions,
    }
    if template.grade_sla:
        out["grade_sla"] = {g: _sla_json(s) for g, s in template.grade_sla.items()}
    out["default_dispatch_sla"] = _sla_json(template.default_dispatch_sla)
    out["unsatisfied_returns"] = template.unsatisfied_returns
    for name in ("rework_state", "escalate_state", "withdraw_action"):
        if getattr(template, name):
            out[name] = getattr(template, name)
    return out


# --------------------------------------------------------------------------- saving


def workflow_code_check(code: str) -> None:
    if not isinstance(code, str) or not _CODE.match(code):
        raise _refuse(
            "code",
            _("%(path)s：编码须以小写字母开头，只含小写字母、数字和下划线（至多 40 个）。"),
            path="code",
        )
    if code in registry.static_workflow_codes():
        raise _refuse("code", _("编码 %(value)s 已被系统内置的流程模板使用。"), value=code)


def workflow_definition_save(
    *, code: str, label: str, definition: Any, actor: Any = None
) -> WorkflowDefinition:
    """Save a workflow definition as the next version of `code` (version 1 when new),
    after checking it as `template_from_definition` does (FormError BAD_WORKFLOW with
    its JSON path). A definition identical to the latest version is not saved again: the
    latest is returned. `definition` may be the JSON text. Every process sees the new
    version within seconds (see `sources`); open cases keep the version they started on."""
    from civicloop.core.forms.models import WorkflowDefinition

    workflow_code_check(code)
    if isinstance(definition, str | bytes):
        definition = workflow_definition_parse(definition)
    label = (label or "").strip() or str(
        definition.get("label", "") if isinstance(definition, dict) else ""
    )
    if not label:
        raise _refuse("label", _("%(path)s：缺少必填项。"), path="label")
    for _attempt in range(3):
        latest = WorkflowDefinition.objects.filter(code=code).order_by("-version").first()
        if latest is not None and latest.definition == definition and latest.label == label:
            return latest
        version = latest.version + 1 if latest is not None else 1
        template_from_definition(f"{code}@{version}", definition, label=label)
        try:
            with transaction.atomic():
                return WorkflowDefinition.objects.create(
                    code=code,
                    version=version,
                    label=label[:100],
                    definition=definition,
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            # Another clerk saved the same version at the same moment: take the next.
            continue
    raise _refuse("code", _("保存冲突，请重试。"))


def workflow_latest(code: str) -> str:
    """The template code new cases of a workflow get: a coded template's own code, a
    `<code>@<version>` as given, or the newest version of a data workflow. An unknown code
    is returned as is (the registry then refuses it where it is used)."""
    if "@" in code or code in registry.static_workflow_codes():
        return code
    from civicloop.core.forms import sources

    return sources.latest_version(code) or code


def workflow_choices() -> list[tuple[str, str]]:
    """(code, label) of every workflow an application may name: the coded templates and
    each data workflow (whose newest version new cases get)."""
    from civicloop.core.forms import sources

    out = [(t.code, f"{_text(t.label)} ({t.code})") for t in registry.static_workflows()]
    for code, label in sources.data_workflow_labels():
        out.append((code, f"{label} ({code})"))
    return out


def application_code_check(code: str) -> None:
    """Refuse (FormError BAD_FORM, where "code") an application code that is not a valid
    channel code or that a module's channel already uses (module channels win, so such an
    application could never be reached)."""
    if not isinstance(code, str) or not re.match(r"^[a-z][a-z0-9_]{1,31}$", code):
        raise FormError(
            FormErrorCode.BAD_FORM,
            _("应用编码须以小写字母开头，只含小写字母、数字和下划线，2 到 32 个字符。"),
            where="code",
            field="code",
        )
    if code in registry.static_channel_codes():
        raise FormError(
            FormErrorCode.BAD_FORM,
            _("编码 %(value)s 已被系统内置的渠道使用。"),
            where="code",
            field="code",
            value=code,
        )
