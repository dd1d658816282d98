"""Everything that changes a case. `case_submit` creates one; `transition` is the one
entry point that changes its state: it validates, records (timeline + steps), schedules
deadlines and writes its notifications to the outbox, all in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from civicloop.core import registry
from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import UNIT_ROLES, Role
from civicloop.core.areas.models import Area
from civicloop.core.attachments.models import Attachment
from civicloop.core.cases import notifications
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, CaseCounter, CaseStep, Grade, Rating, TimelineEntry
from civicloop.core.cases.timeline import entry_hash, genesis_hash
from civicloop.core.cases.workflow import (
    Action,
    Effect,
    HolderKind,
    Requires,
    Who,
    WorkflowTemplate,
)
from civicloop.core.sla.policy import SLA
from civicloop.core.sla.policy import due_at as sla_due_at
from civicloop.core.sla.working_days import workdays_between
from civicloop.core.units.models import DEFAULT_OFFICE_HOURS, Unit
from civicloop.core.units.selectors import Standing, unit_for_area, user_standing

SYSTEM_LABEL = "系统"
# Control characters other than tab and newline; PostgreSQL refuses NUL in text outright.
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def clean_text(value: str) -> str:
    """User text as stored: control characters removed, surrounding space stripped."""
    return value.translate(_CONTROL).strip()


# --------------------------------------------------------------------------- numbering


def case_number_allocate(*, prefix: str, year: int) -> str:
    """The next number for prefix and year, e.g. MY-2026-000123. Call inside a
    transaction: the counter row stays locked until it commits, so numbers never repeat."""
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    CaseCounter.objects.filter(pk=counter.pk).update(value=F("value") + 1)
    counter.refresh_from_db(fields=["value"])
    return f"{prefix}-{year}-{counter.value:06d}"


# --------------------------------------------------------------------------- timeline


def timeline_append(
    *,
    case: Case,
    action: str,
    from_state: str = "",
    to_state: str = "",
    actor: User | None = None,
    unit: Unit | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    attachments: Sequence[Attachment] = (),
    now: datetime | None = None,
) -> TimelineEntry:
    """Append one entry to the case's hash chain. The caller holds the case row lock
    (select_for_update) inside a transaction, so the chain cannot fork."""
    note = clean_text(note)
    last = (
        TimelineEntry.objects.filter(case=case).order_by("-seq").values_list("seq", "hash").first()
    )
    seq, prev = (last[0] + 1, last[1]) if last else (1, genesis_hash(case.number))
    entry = TimelineEntry(
        case=case,
        seq=seq,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_label=(actor.masked_name if actor is not None else SYSTEM_LABEL)[:100],
        unit=unit,
        note=note,
        data=data or {},
        attachment_digests=sorted(a.sha256 for a in attachments),
        # Microsecond precision survives every database we support, so the hash is stable.
        created_at=(now or timezone.now()),
        prev_hash=prev,
    )
    entry.hash = entry_hash(entry, case_number=case.number)
    entry.save(force_insert=True)
    if attachments:
        entry.attachments.add(*attachments)
    return entry


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepTimes:
    due_at: datetime | None
    remind_at: datetime | None
    escalate_at: datetime | None


def step_times(
    *, start: datetime, due: datetime | None, office_hours: list[list[str]]
) -> StepTimes:
    """When to remind the holder (the start of the last working day before the deadline,
    or at 80 % of a working-hours deadline) and when an overdue step goes up to the
    supervising unit (one working day after the deadline)."""
    if due is None:
        return StepTimes(None, None, None)
    local_due = timezone.localtime(due)
    span = due - start
    if span > timedelta(hours=24):
        opening = datetime.strptime(office_hours[0][0], "%H:%M").time()
        remind = local_due.replace(
            hour=opening.hour, minute=opening.minute, second=0, microsecond=0
        )
        if remind >= due or remind <= start:
            remind = start + span * 0.8
    else:
        remind = start + span * 0.8
    escalate = sla_due_at(start=due, sla=SLA(1, "workday"), office_hours=office_hours)
    return StepTimes(due, remind, escalate)


def _office_hours(unit: Unit | None) -> list[list[str]]:
    return unit.get_office_hours() if unit is not None else DEFAULT_OFFICE_HOURS


def _open_step(
    *,
    case: Case,
    state: str,
    unit: Unit | None,
    started_by: str,
    now: datetime,
    due: datetime | None,
) -> CaseStep:
    last_seq = (
        CaseStep.objects.filter(case=case).order_by("-seq").values_list("seq", flat=True).first()
    )
    times = step_times(start=now, due=due, office_hours=_office_hours(unit))
    return CaseStep.objects.create(
        case=case,
        seq=(last_seq or 0) + 1,
        state=state,
        started_by=started_by,
        unit=unit,
        started_at=now,
        due_at=times.due_at,
        remind_at=times.remind_at,
        escalate_at=times.escalate_at,
    )


def _close_step(*, step: CaseStep | None, ended_by: str, now: datetime) -> None:
    if step is None:
        return
    step.ended_at = now
    step.ended_by = ended_by
    step.overdue = bool(step.due_at and now > step.due_at)
    step.save(update_fields=["ended_at", "ended_by", "overdue"])


def _current_step(case: Case) -> CaseStep | None:
    return CaseStep.objects.filter(case=case, ended_at__isnull=True).order_by("-seq").first()


# --------------------------------------------------------------------------- submit


def case_submit(
    *,
    channel: str,
    title: str,
    body: str,
    category: str = "",
    area: Area | None = None,
    lat: Any = None,
    lng: Any = None,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    anonymous: bool = False,
    submitter: User | None = None,
    owner_unit: Unit | None = None,
    holder_user: User | None = None,
    attachments: Sequence[Attachment] = (),
    submission_key: str | None = None,
    source: str = "web",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Case:
    """Create a case on a channel, in its workflow's initial state, held by its receiving
    unit (given, or the nearest unit of the channel's kinds up the area tree).

    Guarantees: the case, its first step, its first timeline entry and the citizen's
    acknowledgement SMS (outbox) commit together or not at all; the same
    `submission_key` sent twice returns the first case instead of a second one."""
    ch = registry.channel(channel)
    template = registry.workflow(ch.workflow)
    now = now or timezone.now()
    title = clean_text(title)
    body = clean_text(body)
    if not body:
        raise CaseError(CaseErrorCode.MISSING, field="body")
    if not title:
        title = body[:40]
    if submission_key:
        existing = Case.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            return existing
    if owner_unit is None:
        owner_unit = unit_for_area(area=area, kinds=ch.owner_unit_kinds)
    if owner_unit is None:
        raise CaseError(CaseErrorCode.INVALID, "无法确定受理单位，请选择所在区域。", field="area")
    with transaction.atomic():
        case = Case(
            number=case_number_allocate(prefix=ch.number_prefix, year=timezone.localtime(now).year),
            channel=ch.code,
            workflow=template.code,
            title=title[:200],
            body=body,
            category=category,
            area=area,
            area_path=area.path if area is not None else "",
            lat=lat,
            lng=lng,
            address=clean_text(address)[:255],
            submitter=submitter,
            contact_name=clean_text(contact_name),
            contact_phone=clean_text(contact_phone),
            contact_phone_digest=lookup_digest(contact_phone) if contact_phone.strip() else "",
            anonymous=anonymous,
            state=template.initial,
            owner_unit=owner_unit,
            holder_unit=owner_unit,
            holder_user=holder_user,
            source=source,
            data=data or {},
            submission_key=submission_key or None,
        )
        state = template.state(template.initial)
        due = (
            sla_due_at(start=now, sla=state.sla, office_hours=_office_hours(owner_unit))
            if state.sla
            else None
        )
        case.due_at = due
        case.save(force_insert=True)
        _open_step(
            case=case, state=case.state, unit=owner_unit, started_by="submit", now=now, due=due
        )
        entry = timeline_append(
            case=case,
            action="submit",
            to_state=case.state,
            actor=submitter,
            unit=owner_unit,
            note="",
            data={"source": source, "title": case.title, "body_sha256": _sha(body)},
            attachments=attachments,
            now=now,
        )
        notifications.on_submit(case=case, entry=entry)
    return case


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- transition


def actor_may(*, case: Case, action: Action, standing: Standing) -> bool:
    """Whether someone with this standing may take the action on the case now."""
    who = action.who
    if Who.ADMIN in who and standing.is_admin:
        return True
    unit_roles = tuple(UNIT_ROLES)
    if Who.OWNER in who and standing.has_role_in(case.owner_unit_id, *unit_roles):
        return True
    if Who.OWNER_LEADER in who and standing.has_role_in(case.owner_unit_id, Role.UNIT_LEADER):
        return True
    if Who.HOLDER in who and standing.has_role_in(case.holder_unit_id, *unit_roles):
        return True
    if Who.HOLDER_LEADER in who and standing.has_role_in(case.holder_unit_id, Role.UNIT_LEADER):
        return True
    return bool(Who.SUBMITTER in who and standing.user_id and standing.user_id == case.submitter_id)


def actions_available(*, case: Case, user: Any) -> list[Action]:
    """The actions the user may take on the case in its current state (for buttons)."""
    template = registry.workflow(case.workflow)
    standing = user_standing(user)
    out = []
    for act in template.actions_from(case.state):
        if not actor_may(case=case, action=act, standing=standing):
            continue
        if Requires.PENDING_EXTENSION in act.requires and not case.data.get("pending_extension"):
            continue
        if act.code == "request_extension" and case.data.get("pending_extension"):
            continue
        out.append(act)
    return out


def _check_requirements(
    *,
    act: Action,
    case: Case,
    note: str,
    unit: Unit | None,
    grade: str,
    rating: str,
    due_at: datetime | None,
    merge_into: Case | None,
) -> None:
    req = act.requires
    if Requires.NOTE in req and not note.strip():
        raise CaseError(CaseErrorCode.MISSING, "请填写说明。", field="note")
    if Requires.UNIT in req:
        if unit is None:
            raise CaseError(CaseErrorCode.MISSING, "请选择办理单位。", field="unit")
        if not unit.is_active:
            raise CaseError(CaseErrorCode.INVALID, "该单位已停用。", field="unit")
        if unit.pk == case.holder_unit_id and act.code == "transfer":
            raise CaseError(CaseErrorCode.INVALID, "改派的单位与当前办理单位相同。", field="unit")
    if Requires.GRADE in req and grade not in Grade.values:
        raise CaseError(CaseErrorCode.MISSING, "请选择分级（镇级/市级）。", field="grade")
    if Requires.RATING in req and rating not in Rating.values:
        raise CaseError(
            CaseErrorCode.MISSING, "请选择评价（满意/基本满意/不满意）。", field="rating"
        )
    if Requires.DUE_AT in req:
        if due_at is None:
            raise CaseError(CaseErrorCode.MISSING, "请填写申请延期到的时间。", field="due_at")
        if case.due_at is not None and due_at <= case.due_at:
            raise CaseError(CaseErrorCode.INVALID, "延期后的时限必须晚于当前时限。", field="due_at")
    if Requires.PENDING_EXTENSION in req and not case.data.get("pending_extension"):
        raise CaseError(CaseErrorCode.INVALID_STATE, "没有待审批的延期申请。")
    if Requires.MERGE_INTO in req:
        if merge_into is None:
            raise CaseError(CaseErrorCode.MISSING, "请填写要合并到的事项编号。", field="merge_into")
        if merge_into.pk == case.pk or merge_into.channel != case.channel:
            raise CaseError(
                CaseErrorCode.INVALID, "只能合并到同一渠道的另一件事项。", field="merge_into"
            )
        if merge_into.merged_into_id is not None:
            raise CaseError(CaseErrorCode.INVALID, "目标事项本身已被合并。", field="merge_into")


def _assignee(case: Case) -> Unit | None:
    unit_id = case.data.get("assignee_unit")
    return Unit.objects.filter(pk=unit_id).first() if unit_id else None


def _dispatch_sla(template: WorkflowTemplate, grade: str) -> SLA:
    return template.grade_sla.get(grade, template.default_dispatch_sla)


def transition(
    case: Case,
    action: str,
    actor: User | None,
    *,
    note: str = "",
    unit: Unit | None = None,
    grade: str = "",
    rating: str = "",
    due_at: datetime | None = None,
    merge_into: Case | None = None,
    attachments: Sequence[Attachment] = (),
    idempotency_key: str | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Case:
    """Take `action` on `case` as `actor`.

    In one transaction and in this order: lock the case, check the action is allowed in
    its state, check the actor may take it and that what it requires is given, apply its
    effects (holder, grade, rating, deadlines), close the current step and open the next,
    append the timeline entry, and write notifications to the outbox. Raises CaseError
    and changes nothing when refused. With an `idempotency_key`, a repeated call (a
    second tap) returns the case unchanged."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if (
            idempotency_key
            and TimelineEntry.objects.filter(
                case=case, data__idempotency_key=idempotency_key
            ).exists()
        ):
            return case
        template = registry.workflow(case.workflow)
        try:
            act = template.action(action)
        except KeyError:
            raise CaseError(CaseErrorCode.UNKNOWN_ACTION) from None
        if case.state not in act.sources:
            raise CaseError(CaseErrorCode.INVALID_STATE)
        if actor is None or not actor_may(case=case, action=act, standing=user_standing(actor)):
            raise CaseError(CaseErrorCode.FORBIDDEN)
        _check_requirements(
            act=act,
            case=case,
            note=note,
            unit=unit,
            grade=grade,
            rating=rating,
            due_at=due_at,
            merge_into=merge_into,
        )
        from_state = case.state
        prev_holder_id = case.holder_unit_id
        step = _current_step(case)
        target = act.target
        new_holder: Unit | None = case.holder_unit
        due: datetime | None = None
        due_set = False
        new_step = True
        entry_data: dict[str, Any] = dict(data or {})
        if act.counts_as:
            entry_data["counts_as"] = act.counts_as
        if idempotency_key:
            entry_data["idempotency_key"] = idempotency_key

        for effect in act.effects:
            if effect is Effect.ASSIGN_UNIT:
                assert unit is not None
                new_holder = unit
                if grade:
                    case.grade = grade
                case.data["assignee_unit"] = unit.pk
                due = sla_due_at(
                    start=now,
                    sla=_dispatch_sla(template, case.grade),
                    office_hours=_office_hours(unit),
                )
                due_set = True
                entry_data["unit"] = unit.name
                if grade:
                    entry_data["grade"] = grade
            elif effect is Effect.BACK_TO_OWNER:
                new_holder = case.owner_unit
                case.data.pop("assignee_unit", None)
            elif effect is Effect.KEEP_DEADLINE:
                due = step.due_at if step is not None else case.due_at
                due_set = True
            elif effect is Effect.SET_RESULT:
                case.result = note
            elif effect is Effect.RATE:
                case.rating = rating
                case.rating_comment = note
                entry_data["rating"] = rating
                if rating == Rating.UNSATISFIED:
                    assignee = _assignee(case)
                    if assignee is not None and case.round < template.unsatisfied_returns:
                        target, new_holder = "handling", assignee
                        entry_data["outcome"] = "returned_to_unit"
                    elif assignee is not None and assignee.supervisor is not None:
                        target, new_holder = "dispatched", assignee.supervisor
                        case.data["assignee_unit"] = assignee.supervisor.pk
                        entry_data["outcome"] = "escalated_to_supervisor"
                        entry_data["unit"] = assignee.supervisor.name
                    else:
                        entry_data["outcome"] = "closed_unsatisfied"
                    if target != "closed":
                        case.round += 1
                        assert new_holder is not None
                        due = sla_due_at(
                            start=now,
                            sla=_dispatch_sla(template, case.grade),
                            office_hours=_office_hours(new_holder),
                        )
                        due_set = True
            elif effect is Effect.REWORK:
                new_holder = _assignee(case) or case.holder_unit
                assert new_holder is not None
                due = sla_due_at(
                    start=now,
                    sla=_dispatch_sla(template, case.grade),
                    office_hours=_office_hours(new_holder),
                )
                due_set = True
            elif effect is Effect.REQUEST_EXTENSION:
                assert due_at is not None
                case.data["pending_extension"] = {
                    "due_at": due_at.isoformat(),
                    "by": actor.pk,
                    "note": note,
                }
                entry_data["requested_due_at"] = due_at.isoformat()
                new_step = False
            elif effect is Effect.APPROVE_EXTENSION:
                pending = case.data.pop("pending_extension")
                new_due = datetime.fromisoformat(pending["due_at"])
                entry_data["old_due_at"] = case.due_at.isoformat() if case.due_at else None
                entry_data["new_due_at"] = new_due.isoformat()
                case.due_at = new_due
                if step is not None:
                    times = step_times(
                        start=now, due=new_due, office_hours=_office_hours(case.holder_unit)
                    )
                    step.due_at, step.remind_at, step.escalate_at = (
                        times.due_at,
                        times.remind_at,
                        times.escalate_at,
                    )
                    step.reminded_at = None
                    step.escalation_level = 0
                    step.save(
                        update_fields=[
                            "due_at",
                            "remind_at",
                            "escalate_at",
                            "reminded_at",
                            "escalation_level",
                        ]
                    )
                new_step = False
            elif effect is Effect.DENY_EXTENSION:
                case.data.pop("pending_extension", None)
                new_step = False
            elif effect is Effect.DEFER:
                remaining = 1
                if case.due_at is not None:
                    remaining = max(
                        1,
                        workdays_between(
                            timezone.localdate(now), timezone.localtime(case.due_at).date()
                        ),
                    )
                case.data["deferred_remaining_workdays"] = remaining
                case.data.pop("pending_extension", None)
                due, due_set = None, True
            elif effect is Effect.RESUME:
                remaining = int(case.data.pop("deferred_remaining_workdays", 1))
                due = sla_due_at(
                    start=now,
                    sla=SLA(remaining, "workday"),
                    office_hours=_office_hours(case.holder_unit),
                )
                due_set = True
            elif effect is Effect.MERGE:
                assert merge_into is not None
                case.merged_into = merge_into
                entry_data["merged_into"] = merge_into.number
            elif effect is Effect.CLOSE:
                pass

        state = template.state(target)
        if state.terminal:
            new_holder = None
            case.closed_at = now
            due, due_set = None, True
        elif state.holder is HolderKind.OWNER and not any(
            e in act.effects for e in (Effect.ASSIGN_UNIT, Effect.REWORK)
        ):
            new_holder = case.owner_unit
        if not due_set:
            due = (
                sla_due_at(start=now, sla=state.sla, office_hours=_office_hours(new_holder))
                if state.sla is not None
                else None
            )
        if new_step or target != from_state or (new_holder and new_holder.pk != prev_holder_id):
            _close_step(step=step, ended_by=act.code, now=now)
            if not state.terminal:
                _open_step(
                    case=case, state=target, unit=new_holder, started_by=act.code, now=now, due=due
                )
            case.due_at = due
        case.state = target
        case.holder_unit = new_holder
        case.save()

        entry = timeline_append(
            case=case,
            action=act.code,
            from_state=from_state,
            to_state=target,
            actor=actor,
            unit=new_holder,
            note=note,
            data=entry_data,
            attachments=attachments,
            now=now,
        )
        if act.code == "merge" and merge_into is not None:
            target_case = Case.objects.select_for_update().get(pk=merge_into.pk)
            timeline_append(
                case=target_case,
                action="merged_from",
                actor=actor,
                note=note,
                data={"merged_case": case.number},
                now=now,
            )
        notifications.on_transition(
            case=case, action=act, entry=entry, previous_holder_id=prev_holder_id
        )
    return case
