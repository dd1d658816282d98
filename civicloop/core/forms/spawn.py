"""The SPAWN_CASES effect: each instance of a repeat of a case's form answers becomes a
case of its own (each decision of a deliberation meeting followed as a case with its
deadline; each matter a deputy heard turned into an opinion), linked both ways: the new
case's data says `came_from` the parent's number, the parent's timeline entry says what
it `became`.

The engine calls `spawn_cases_handler` inside the transition's transaction, after the
state change (see `registry.register_effect_handler`), so the new cases and the parent's
step commit together or not at all. Retrying never opens a case twice: each new case has
the submission key `<parent number>:<action>:<index>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.workflow import Action
from civicloop.core.registry import Intake, RegistryError
from civicloop.core.sla.working_days import CHINA_TZ

# A follow-up case given a date is due at the end of that office day.
DUE_TIME = dt.time(17, 30)
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value).strip()


def _repeat_node(node: Any, name: str) -> Any:
    for child in node.get("children") or ():
        if not isinstance(child, dict):
            continue
        if child.get("type") == "repeat" and child.get("name") == name:
            return child
        found = _repeat_node(child, name)
        if found is not None:
            return found
    return None


# (form version id, repeat name) -> the repeat's questions as a form of their own, so a
# `when` is evaluated by the forms engine over one instance. Versions never change.
_repeat_forms: dict[tuple[int, str, str], Any] = {}


def _repeat_form(version: Any, repeat: str) -> Any:
    # The creation time too: a rolled-back test may give another version the same id.
    key = (version.pk, version.created_at.isoformat(), repeat)
    definition = version.definition
    if key not in _repeat_forms:
        from civicloop.core.forms.definition import FormDef

        node = _repeat_node(definition or {}, repeat) if isinstance(definition, dict) else None
        _repeat_forms[key] = (
            None
            if node is None
            else FormDef.from_json(
                {
                    "type": "survey",
                    "name": "data",
                    "title": "",
                    "children": node.get("children") or [],
                    "choices": definition.get("choices") or {},
                }
            )
        )
    return _repeat_forms[key]


def _holds(when: Any, instance: dict[str, Any], *, form: Any = None, now: dt.datetime) -> bool:
    """Whether the instance meets the action's `when`: {"field", "equals"}, or an XPath
    expression over the instance's answers (`${name}` names a field), evaluated by the
    forms engine (XLSForm's functions, such as selected()) when the repeat is in the form,
    else by plain XPath 2 over the answers as text."""
    if when is None or when == "":
        return True
    if isinstance(when, dict):
        value = instance.get(when["field"])
        wanted = when["equals"]
        if isinstance(value, list):
            return wanted in value
        return _text(value) == _text(wanted)
    if form is not None:
        from civicloop.core.forms.errors import FormError
        from civicloop.core.forms.evaluate import expression_value

        try:
            result = expression_value(form, str(when), instance, now=now)
        except FormError:
            raise CaseError(
                CaseErrorCode.INVALID,
                _("后续事项的条件表达式有误：%(expr)s"),
                expr=str(when),
            ) from None
        return result.strip() not in ("", "false", "0")
    from xml.etree import ElementTree as ET

    import elementpath

    root = ET.Element("instance")
    for name, value in instance.items():
        if isinstance(value, dict | list) and not all(isinstance(v, str) for v in value):
            continue
        ET.SubElement(root, name).text = _text(value)
    expression = _REF.sub(lambda m: f"string(/instance/{m[1]})", str(when))
    try:
        return bool(elementpath.select(root, f"boolean({expression})"))
    except (elementpath.ElementPathError, ValueError, TypeError):
        raise CaseError(
            CaseErrorCode.INVALID,
            _("后续事项的条件表达式有误：%(expr)s"),
            expr=str(when),
        ) from None


def _body(fields: Any, instance: dict[str, Any], labels: dict[str, str]) -> str:
    """The new case's text: one field's value, or for a list of fields one line each,
    "label：value" (the form's label in the city's language, else the field's name)."""
    if not fields:
        return ""
    if isinstance(fields, str):
        return _text(instance.get(fields))
    lines = []
    for name in fields:
        value = _text(instance.get(name))
        if value:
            lines.append(f"{labels.get(name, name)}：{value}")
    return "\n".join(lines)


def _due(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return dt.datetime.combine(day, DUE_TIME, tzinfo=CHINA_TZ)


def _labels(version: Any) -> dict[str, str]:
    """Question name → its label in the city's language (Chinese), for a spawned text."""
    from civicloop.core.forms.selectors import form_of

    form = form_of(version)
    return {q.name: str(form.label(q.labels, "zh-hans")) for q in form.walk() if q.labels}


def _key(number: str, action: str, index: int) -> str:
    key = f"{number}:{action}:{index}"
    if len(key) > 64:  # Case.submission_key's length
        digest = hashlib.sha256(action.encode()).hexdigest()[:16]
        key = f"{number}:{digest}:{index}"
    return key


def spawn_cases_handler(
    *, case: Case, action: Action, actor: Any, now: dt.datetime, entry: TimelineEntry
) -> dict[str, Any]:
    """Open a case on `params["channel"]` for each instance of `params["repeat"]` in the
    case's form answers that meets `params["when"]`. Refuses (CaseError) a channel that is
    not registered or accepts neither the API nor a module's service."""
    from civicloop.core.cases.services import CaseDraft, case_submit_many
    from civicloop.core.forms.models import Submission

    params = action.params
    code = params["channel"]
    try:
        channel = registry.channel(code)
    except RegistryError:
        raise CaseError(
            CaseErrorCode.INVALID,
            _("后续事项的渠道 %(channel)s 不存在或未启用，请联系管理员。"),
            channel=code,
        ) from None
    if not (channel.accepts(Intake.API) or channel.accepts(Intake.MODULE)):
        raise CaseError(
            CaseErrorCode.INVALID,
            _("渠道 %(channel)s 不接受后续事项。"),
            channel=code,
        )
    submission = Submission.objects.filter(case_id=case.pk).select_related("form_version").first()
    answers = submission.answers if submission is not None else {}
    instances = answers.get(params["repeat"]) or []
    when = params.get("when")
    form = None
    if submission is not None and isinstance(when, str) and when:
        form = _repeat_form(submission.form_version, params["repeat"])
    by_area = params.get("owner", "parent") == "area"
    labels = (
        _labels(submission.form_version)
        if submission is not None and isinstance(params.get("body"), list)
        else {}
    )
    drafts = []
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict) or not _holds(when, instance, form=form, now=now):
            continue
        title = _text(instance.get(params["title"]))
        body = _body(params.get("body"), instance, labels) or title
        if not body:
            continue
        drafts.append(
            CaseDraft(
                channel=channel.code,
                title=title[:200],
                body=body,
                area=case.area,
                lat=case.lat,
                lng=case.lng,
                address=case.address,
                owner_unit=None if by_area else case.owner_unit,
                submission_key=_key(case.number, action.code, index),
                source="spawn",
                data={"came_from": case.number},
                due_at=_due(instance.get(params["due"])) if params.get("due") else None,
            )
        )
    if not drafts:
        return {"became": []}
    cases = case_submit_many(drafts=drafts, now=now)
    return {"became": [c.number for c in cases]}
