"""What a case change tells whom.

Each function returns outbox drafts; the caller writes them in the transaction of the
change (principle 1). Keys are derived from the case number and the timeline entry or
step, so a retried transaction or a second sweep never sends a message twice."""

from __future__ import annotations

from django.utils import timezone

from civicloop.core import registry
from civicloop.core.accounts.roles import Role, unit_roles
from civicloop.core.cases.models import Case, CaseStep, Rating, TimelineEntry
from civicloop.core.cases.workflow import Action, Effect
from civicloop.core.outbox.services import OutboxDraft
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import unit_staff_dingtalk_ids

LEADER_ROLES: tuple[str, ...] = (Role.UNIT_LEADER,)


def staff_roles() -> tuple[str, ...]:
    """The roles told about a unit's cases: those that act for it (core's and modules')."""
    return tuple(sorted(unit_roles()))


class Recipients:
    """DingTalk user ids of a unit's staff, looked up once per unit and role set."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, tuple[str, ...]], list[str]] = {}

    def of(self, unit: Unit, roles: tuple[str, ...]) -> list[str]:
        key = (unit.pk, roles)
        if key not in self._cache:
            self._cache[key] = unit_staff_dingtalk_ids(unit=unit, roles=roles)
        return self._cache[key]


def _due_text(case: Case) -> str:
    if case.due_at is None:
        return ""
    return timezone.localtime(case.due_at).strftime("%Y-%m-%d %H:%M")


def _state_label(case: Case) -> str:
    return str(registry.workflow(case.workflow).state(case.state).label)


def _case_line(case: Case) -> str:
    return f"**{case.number}** {case.title}"


def _work_notice(
    recipients: Recipients,
    *,
    case: Case,
    unit: Unit,
    key: str,
    title: str,
    text: str,
    roles: tuple[str, ...] | None = None,
) -> list[OutboxDraft]:
    userids = recipients.of(unit, roles if roles is not None else staff_roles())
    if not userids:
        return []
    payload = {"userids": userids, "title": title, "text": text}
    return [OutboxDraft("dingtalk_work", payload, key, case.number)]


def _sms(*, case: Case, key: str, template: str, params: dict[str, str]) -> list[OutboxDraft]:
    if not case.contact_phone:
        return []
    payload = {"phone": case.contact_phone, "template": template, "params": params}
    return [OutboxDraft("sms", payload, key, case.number)]


def on_submit(recipients: Recipients, *, case: Case, entry: TimelineEntry) -> list[OutboxDraft]:
    drafts = _sms(
        case=case,
        key=f"{case.number}:{entry.seq}:sms",
        template="case_received",
        params={"number": case.number},
    )
    if case.holder_unit is not None:
        drafts += _work_notice(
            recipients,
            case=case,
            unit=case.holder_unit,
            key=f"{case.number}:{entry.seq}:work",
            title="新事项待受理",
            text=f"{_case_line(case)}\n\n状态：{_state_label(case)}，请于 {_due_text(case)} 前处理。",
        )
    return drafts


def on_transition(
    recipients: Recipients,
    *,
    case: Case,
    action: Action,
    entry: TimelineEntry,
    previous_holder_id: int | None,
) -> list[OutboxDraft]:
    template = registry.workflow(case.workflow)
    if template.state(case.state).terminal:
        summary = (case.result or str(template.state(case.state).label)).replace("\n", " ")
        return _sms(
            case=case,
            key=f"{case.number}:{entry.seq}:sms",
            template="case_result",
            params={"number": case.number, "summary": summary[:30]},
        )
    if Effect.REQUEST_EXTENSION in action.effects and case.holder_unit is not None:
        requested = str(entry.data.get("requested_due_at", ""))[:16].replace("T", " ")
        return _work_notice(
            recipients,
            case=case,
            unit=case.holder_unit,
            key=f"{case.number}:{entry.seq}:work",
            title="延期申请待审批",
            text=f"{_case_line(case)}\n\n申请延期至 {requested}：{entry.note}",
            roles=LEADER_ROLES,
        )
    if case.holder_unit is not None and (
        case.holder_unit_id != previous_holder_id or entry.from_state != entry.to_state
    ):
        return _work_notice(
            recipients,
            case=case,
            unit=case.holder_unit,
            key=f"{case.number}:{entry.seq}:work",
            title=f"待办：{_state_label(case)}",
            text=f"{_case_line(case)}\n\n状态：{_state_label(case)}，请于 {_due_text(case)} 前办理。",
        )
    return []


def on_reminder(recipients: Recipients, *, case: Case, step: CaseStep) -> list[OutboxDraft]:
    if step.unit is None:
        return []
    return _work_notice(
        recipients,
        case=case,
        unit=step.unit,
        key=f"{case.number}:step{step.seq}:remind",
        title="即将到期提醒",
        text=f"{_case_line(case)}\n\n将于 {_due_text(case)} 到期，请抓紧办理。",
    )


def on_escalation(
    recipients: Recipients, *, case: Case, step: CaseStep, level: int, unit: Unit
) -> list[OutboxDraft]:
    roles = LEADER_ROLES if level == 1 else (*staff_roles(), Role.UNIT_LEADER)
    title = "超期督办" if level == 1 else "超期上报"
    return _work_notice(
        recipients,
        case=case,
        unit=unit,
        key=f"{case.number}:step{step.seq}:escalate{level}",
        title=title,
        text=f"{_case_line(case)}\n\n办理单位：{step.unit or ''}，已超过时限 {_due_text(case)}，请督促办理。",
        roles=roles,
    )


def on_citizen_rating(
    recipients: Recipients, *, case: Case, entry: TimelineEntry
) -> list[OutboxDraft]:
    """The citizen's own rating of a closed case (`entry.data["rating"]`). A 不满意 is
    told by work notice to the receiving unit's staff and to the person the case was
    addressed to (`holder_user`, e.g. a deputy), so it reaches whoever answers for the
    case; other ratings tell no one. Keyed on the entry, so it is sent once."""
    if entry.data.get("rating") != Rating.UNSATISFIED:
        return []
    userids = set(recipients.of(case.owner_unit, staff_roles())) if case.owner_unit else set()
    addressee = case.holder_user
    if addressee is not None and addressee.dingtalk_userid:
        userids.add(addressee.dingtalk_userid)
    if not userids:
        return []
    comment = str(entry.data.get("comment") or "").replace("\n", " ")
    said = f"\n\n群众意见：{comment}" if comment else ""
    payload = {
        "userids": sorted(userids),
        "title": "群众不满意，请回访",
        "text": f"{_case_line(case)}\n\n群众对办理结果评价为“不满意”，请及时回访。{said}",
    }
    return [
        OutboxDraft("dingtalk_work", payload, f"{case.number}:{entry.seq}:unsatisfied", case.number)
    ]
