"""What a case change tells whom. Each message is an outbox row written in the caller's
transaction (principle 1), keyed so that a retried transaction or sweep never sends it
twice."""

from __future__ import annotations

from django.utils import timezone

from civicloop.core import registry
from civicloop.core.accounts.roles import Role
from civicloop.core.cases.models import Case, CaseStep, TimelineEntry
from civicloop.core.cases.workflow import Action
from civicloop.core.outbox.services import outbox_enqueue
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import unit_staff_dingtalk_ids

_STAFF_ROLES = (Role.HANDLER, Role.UNIT_LEADER, Role.DEPUTY, Role.CPPCC, Role.OFFICER)


def _due_text(case: Case) -> str:
    if case.due_at is None:
        return ""
    return timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M")


def _state_label(case: Case) -> str:
    return str(registry.workflow(case.workflow).state(case.state).label)


def _work_notice(
    *,
    case: Case,
    unit: Unit,
    key: str,
    title: str,
    text: str,
    roles: tuple[str, ...] = _STAFF_ROLES,
) -> None:
    userids = unit_staff_dingtalk_ids(unit=unit, roles=roles)
    if not userids:
        return
    outbox_enqueue(
        kind="dingtalk_work",
        payload={"userids": userids, "title": title, "text": text},
        idempotency_key=key,
        reference=case.number,
    )


def _sms(*, case: Case, key: str, template: str, params: dict[str, str]) -> None:
    if not case.contact_phone:
        return
    outbox_enqueue(
        kind="sms",
        payload={"phone": case.contact_phone, "template": template, "params": params},
        idempotency_key=key,
        reference=case.number,
    )


def _case_line(case: Case) -> str:
    return f"**{case.number}** {case.title}"


def on_submit(*, case: Case, entry: TimelineEntry) -> None:
    _sms(
        case=case,
        key=f"{case.number}:{entry.seq}:sms",
        template="case_received",
        params={"number": case.number},
    )
    if case.holder_unit is not None:
        _work_notice(
            case=case,
            unit=case.holder_unit,
            key=f"{case.number}:{entry.seq}:work",
            title="新事项待受理",
            text=f"{_case_line(case)}\n\n状态：{_state_label(case)}，请于 {_due_text(case)} 前处理。",
        )


def on_transition(
    *, case: Case, action: Action, entry: TimelineEntry, previous_holder_id: int | None
) -> None:
    template = registry.workflow(case.workflow)
    if template.state(case.state).terminal:
        summary = (case.result or str(template.state(case.state).label)).replace("\n", " ")
        _sms(
            case=case,
            key=f"{case.number}:{entry.seq}:sms",
            template="case_result",
            params={"number": case.number, "summary": summary[:30]},
        )
        return
    if action.code == "request_extension" and case.holder_unit is not None:
        _work_notice(
            case=case,
            unit=case.holder_unit,
            key=f"{case.number}:{entry.seq}:work",
            title="延期申请待审批",
            text=f"{_case_line(case)}\n\n申请延期至 {entry.data.get('requested_due_at', '')[:16]}：{entry.note}",
            roles=(Role.UNIT_LEADER,),
        )
        return
    if case.holder_unit is not None and (
        case.holder_unit_id != previous_holder_id or entry.from_state != entry.to_state
    ):
        _work_notice(
            case=case,
            unit=case.holder_unit,
            key=f"{case.number}:{entry.seq}:work",
            title=f"待办：{_state_label(case)}",
            text=f"{_case_line(case)}\n\n状态：{_state_label(case)}，请于 {_due_text(case)} 前办理。",
        )


def on_reminder(*, case: Case, step: CaseStep) -> None:
    if step.unit is None:
        return
    _work_notice(
        case=case,
        unit=step.unit,
        key=f"{case.number}:step{step.seq}:remind",
        title="即将到期提醒",
        text=f"{_case_line(case)}\n\n将于 {_due_text(case)} 到期，请抓紧办理。",
    )


def on_escalation(*, case: Case, step: CaseStep, level: int, unit: Unit) -> None:
    roles = (Role.UNIT_LEADER,) if level == 1 else (*_STAFF_ROLES, Role.UNIT_LEADER)
    title = "超期督办" if level == 1 else "超期上报"
    _work_notice(
        case=case,
        unit=unit,
        key=f"{case.number}:step{step.seq}:escalate{level}",
        title=title,
        text=f"{_case_line(case)}\n\n办理单位：{step.unit or ''}，已超过时限 {_due_text(case)}，请督促办理。",
        roles=roles,
    )
