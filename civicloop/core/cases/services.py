"""Everything that changes a case. `case_submit` creates one; `transition` is the one
entry point that changes its state: it validates, records (timeline + steps), schedules
deadlines and writes its notifications to the outbox, all in one transaction.

Both have a batch form (`case_submit_many`, `transition_many`) that runs the very same
rules over many cases and writes the rows with bulk statements; the single forms are the
batch forms with one item, so there is one engine, not two."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role, unit_roles
from civicloop.core.areas.models import Area
from civicloop.core.attachments.models import Attachment
from civicloop.core.bulk_writes import bulk_insert_rows, bulk_update_rows
from civicloop.core.cases import notifications
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, CaseCounter, CaseStep, Grade, Rating, TimelineEntry
from civicloop.core.cases.notifications import Recipients
from civicloop.core.cases.timeline import contact_digest, entry_hash, genesis_hash
from civicloop.core.cases.workflow import (
    OPENED_ENTRY,
    Action,
    Effect,
    HolderKind,
    Requires,
    Who,
    WorkflowTemplate,
)
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.core.sla.policy import SLA
from civicloop.core.sla.policy import due_at as sla_due_at
from civicloop.core.sla.policy import escalate_at as sla_escalate_at
from civicloop.core.sla.policy import remind_at as sla_remind_at
from civicloop.core.sla.working_days import (
    CalendarYearUnknown,
    span_is_provisional,
    workdays_between,
)
from civicloop.core.units.models import DEFAULT_OFFICE_HOURS, Unit
from civicloop.core.units.selectors import Standing, unit_for_area, user_standing

logger = logging.getLogger(__name__)
SYSTEM_LABEL = "系统"
# Who the timeline names for a step the citizen took without an account (a rating given
# after an SMS code); stored in Chinese, as every actor label is.
CITIZEN_LABEL = "群众"
# Control characters other than tab and newline; PostgreSQL refuses NUL in text outright.
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))
# The case columns a transition may change (bulk_update writes exactly these).
_MUTABLE_FIELDS = [
    "state",
    "holder_unit",
    "holder_user",
    "assignee_unit",
    "due_at",
    "due_provisional",
    "grade",
    "rating",
    "rating_comment",
    "round",
    "result",
    "merged_into",
    "data",
    "closed_at",
    "updated_at",
    "timeline_seq",
    "timeline_hash",
    "step_seq",
]


def clean_text(value: str) -> str:
    """User text as stored: control characters removed, surrounding space stripped."""
    return value.translate(_CONTROL).strip()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _office_hours(unit: Unit | None) -> list[list[str]]:
    return unit.get_office_hours() if unit is not None else DEFAULT_OFFICE_HOURS


# What a computed deadline was counted with: the limit and the moment it counts from.
Basis = tuple[SLA, datetime]


def _provisional(start: datetime, end: datetime | None) -> bool:
    """A time counted from `start` to `end` crossed a year not confirmed yet."""
    return end is not None and span_is_provisional(start, end)


# --------------------------------------------------------------------------- numbering


def case_numbers_allocate(*, prefix: str, year: int, count: int = 1) -> list[str]:
    """The next `count` numbers for prefix and year, e.g. MY-2026-000123. Call inside a
    transaction: the counter row stays locked until it commits, so numbers never repeat."""
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    CaseCounter.objects.filter(pk=counter.pk).update(value=F("value") + count)
    counter.refresh_from_db(fields=["value"])
    first = counter.value - count + 1
    return [f"{prefix}-{year}-{n:06d}" for n in range(first, counter.value + 1)]


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepTimes:
    due_at: datetime | None
    remind_at: datetime | None
    escalate_at: datetime | None


def step_times(
    *, start: datetime, due: datetime | None, office_hours: list[list[str]]
) -> StepTimes:
    """A step's deadline, when to remind its holder and when it goes up to the
    supervising unit if still open; all three None without a deadline. The rules are
    the SLA policy's, in office time of the holder's office hours:
    `civicloop.core.sla.policy.remind_at` (the opening of the deadline's office day, or
    an office hour before a short deadline) and `escalate_at` (one working day after)."""
    if due is None:
        return StepTimes(None, None, None)
    return StepTimes(
        due,
        sla_remind_at(start=start, due=due, office_hours=office_hours),
        sla_escalate_at(due=due, office_hours=office_hours),
    )


# --------------------------------------------------------------------------- the writer


@dataclass
class _Writer:
    """Collects the rows of one transaction and writes them with bulk statements.

    Timeline entries are chained from the head kept on each case (timeline_seq,
    timeline_hash), which the caller holds locked, so the chain cannot fork."""

    now: datetime
    recipients: Recipients = field(default_factory=Recipients)
    units: dict[int, Unit] = field(default_factory=dict)
    new_steps: list[CaseStep] = field(default_factory=list)
    ended_steps: list[CaseStep] = field(default_factory=list)
    moved_steps: list[CaseStep] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)
    entry_files: list[tuple[TimelineEntry, Sequence[Attachment]]] = field(default_factory=list)
    drafts: list[OutboxDraft] = field(default_factory=list)
    # The case rows this transaction holds locked (a transition's batch and merge target).
    locked: dict[int, Case] = field(default_factory=dict)

    def unit(self, unit_id: int | None) -> Unit | None:
        if unit_id is None:
            return None
        if unit_id not in self.units:
            self.units[unit_id] = Unit.objects.select_related("supervisor").get(pk=unit_id)
        return self.units[unit_id]

    def entry(
        self,
        case: Case,
        *,
        action: str,
        from_state: str = "",
        to_state: str = "",
        actor: User | None = None,
        unit: Unit | None = None,
        note: str = "",
        data: dict[str, Any] | None = None,
        attachments: Sequence[Attachment] = (),
        actor_label: str = "",
    ) -> TimelineEntry:
        entry = TimelineEntry(
            case=case,
            seq=case.timeline_seq + 1,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            actor_label=(actor_label or (actor.masked_name if actor is not None else SYSTEM_LABEL))[
                :100
            ],
            unit=unit,
            note=clean_text(note),
            data=data or {},
            attachment_digests=sorted(a.sha256 for a in attachments),
            created_at=self.now,
            prev_hash=case.timeline_hash or genesis_hash(case.number),
        )
        entry.hash = entry_hash(entry, case_number=case.number)
        case.timeline_seq, case.timeline_hash = entry.seq, entry.hash
        self.entries.append(entry)
        if attachments:
            self.entry_files.append((entry, attachments))
        return entry

    def open_step(
        self,
        case: Case,
        *,
        state: str,
        unit: Unit | None,
        started_by: str,
        due: datetime | None,
        basis: Basis | None = None,
    ) -> CaseStep:
        times = step_times(start=self.now, due=due, office_hours=_office_hours(unit))
        counted_from = basis[1] if basis is not None else self.now
        case.step_seq += 1
        step = CaseStep(
            case=case,
            seq=case.step_seq,
            state=state,
            started_by=started_by,
            unit=unit,
            started_at=self.now,
            due_at=times.due_at,
            remind_at=times.remind_at,
            escalate_at=times.escalate_at,
            sla=basis[0].code if basis is not None else "",
            sla_from=counted_from if basis is not None else None,
            due_provisional=_provisional(min(counted_from, self.now), times.escalate_at),
        )
        self.new_steps.append(step)
        return step

    def end_step(self, step: CaseStep | None, *, ended_by: str) -> None:
        if step is None:
            return
        step.ended_at = self.now
        step.ended_by = ended_by
        step.overdue = bool(step.due_at and self.now > step.due_at)
        self.ended_steps.append(step)

    def flush(self) -> None:
        bulk_update_rows(self.ended_steps, ["ended_at", "ended_by", "overdue"])
        bulk_update_rows(
            self.moved_steps,
            [
                "due_at",
                "remind_at",
                "escalate_at",
                "reminded_at",
                "escalation_level",
                "sla",
                "sla_from",
                "due_provisional",
            ],
        )
        bulk_insert_rows(self.new_steps)
        bulk_insert_rows(self.entries)
        if self.entry_files:
            # Entry ids are needed only for the attachment links: read back just those.
            ids = dict(
                TimelineEntry.objects.filter(
                    hash__in=[e.hash for e, _ in self.entry_files]
                ).values_list("hash", "pk")
            )
            through = TimelineEntry.attachments.through
            through.objects.bulk_create(
                [
                    through(timelineentry_id=ids[entry.hash], attachment_id=attachment.pk)
                    for entry, files in self.entry_files
                    for attachment in files
                ]
            )
        outbox_enqueue_many(drafts=self.drafts)


def timeline_append(
    *,
    case: Case,
    action: str,
    actor: User | None = None,
    unit: Unit | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    drafts: Sequence[OutboxDraft] = (),
    now: datetime | None = None,
    actor_label: str = "",
) -> TimelineEntry:
    """Append an entry that changes no state (a reminder, a comment), with its messages.
    `actor_label` names an actor who has no account (e.g. CITIZEN_LABEL); without it the
    entry names the actor, or the platform when there is none.

    The caller holds the case row locked (select_for_update) inside a transaction."""
    writer = _Writer(now=now or timezone.now())
    entry = writer.entry(
        case, action=action, actor=actor, unit=unit, note=note, data=data, actor_label=actor_label
    )
    writer.drafts.extend(drafts)
    Case.objects.filter(pk=case.pk).update(
        timeline_seq=case.timeline_seq, timeline_hash=case.timeline_hash
    )
    writer.flush()
    return entry


# --------------------------------------------------------------------------- submit


@dataclass(frozen=True)
class CaseDraft:
    """What a channel hands to core to open a case (see case_submit)."""

    channel: str
    title: str
    body: str
    category: str = ""
    area: Area | None = None
    lat: Decimal | None = None
    lng: Decimal | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    anonymous: bool = False
    submitter: User | None = None
    owner_unit: Unit | None = None
    holder_user: User | None = None
    attachments: Sequence[Attachment] = ()
    submission_key: str | None = None
    source: str = "web"
    data: dict[str, Any] = field(default_factory=dict)
    # The first step's deadline when the submitter sets it (a decision followed up "by
    # 30 June"); otherwise the initial state's SLA gives it.
    due_at: datetime | None = None


def case_submit(*, draft: CaseDraft, now: datetime | None = None) -> Case:
    """Open a case on a channel, in its workflow's initial state, held by its receiving
    unit (given, or the nearest unit of the channel's kinds up the area tree).

    Guarantees: the case, its first step, its first timeline entry and the citizen's
    acknowledgement SMS (outbox) commit together or not at all; the same
    `submission_key` sent twice returns the first case instead of a second one."""
    return case_submit_many(drafts=[draft], now=now)[0]


def case_submit_many(*, drafts: Sequence[CaseDraft], now: datetime | None = None) -> list[Case]:
    """Open many cases in one transaction with bulk writes; the rules of case_submit.
    Returns the cases in the order of `drafts`. A draft that fails a check refuses the
    whole batch (CaseError), so a batch is all or nothing."""
    with _calendar_refusal():
        return _case_submit_many(drafts=drafts, now=now)


@contextmanager
def _calendar_refusal() -> Iterator[None]:
    """A deadline in a year outside every calendar source (the table, or the provisional
    years of core.sla.working_days: a year merely unconfirmed is computed and marked
    provisional) stops the change: logged loudly for the administrators, and refused to
    the user as a CaseError that says it is not their fault, instead of a server error."""
    try:
        yield
    except CalendarYearUnknown as exc:
        logger.error("Deadline refused, calendar incomplete: %s", exc)
        raise CaseError(CaseErrorCode.CALENDAR) from exc


def _case_submit_many(*, drafts: Sequence[CaseDraft], now: datetime | None) -> list[Case]:
    now = now or timezone.now()
    keys = [d.submission_key for d in drafts if d.submission_key]
    existing = {c.submission_key: c for c in Case.objects.filter(submission_key__in=keys)}
    year = timezone.localtime(now).year
    out: list[Case | None] = []
    fresh: list[tuple[int, CaseDraft]] = []
    for i, draft in enumerate(drafts):
        if draft.submission_key and draft.submission_key in existing:
            out.append(existing[draft.submission_key])
            continue
        out.append(None)
        fresh.append((i, draft))
    writer = _Writer(now=now)
    with transaction.atomic():
        by_prefix: dict[str, list[tuple[int, CaseDraft]]] = {}
        for i, draft in fresh:
            by_prefix.setdefault(registry.channel(draft.channel).number_prefix, []).append(
                (i, draft)
            )
        new_cases: list[Case] = []
        for prefix, items in by_prefix.items():
            numbers = case_numbers_allocate(prefix=prefix, year=year, count=len(items))
            for number, (i, draft) in zip(numbers, items, strict=True):
                case = _case_from_draft(draft, number=number, writer=writer)
                new_cases.append(case)
                out[i] = case
        Case.objects.bulk_create(new_cases, batch_size=500)
        writer.flush()
    return [c for c in out if c is not None]


def _case_from_draft(draft: CaseDraft, *, number: str, writer: _Writer) -> Case:
    ch = registry.channel(draft.channel)
    template = registry.workflow(ch.workflow)
    body = clean_text(draft.body)
    if not body:
        raise CaseError(CaseErrorCode.MISSING, _("请填写反映的内容。"), field="body")
    title = clean_text(draft.title) or body[:40]
    owner = draft.owner_unit or unit_for_area(area=draft.area, kinds=ch.owner_unit_kinds)
    if owner is None:
        raise CaseError(
            CaseErrorCode.INVALID, _("无法确定受理单位，请选择所在区域。"), field="area"
        )
    phone = clean_text(draft.contact_phone)
    state = template.state(template.initial)
    basis: Basis | None = (state.sla, writer.now) if state.sla else None
    due = (
        sla_due_at(start=writer.now, sla=state.sla, office_hours=_office_hours(owner))
        if state.sla
        else None
    )
    if draft.due_at is not None:
        due, basis = draft.due_at, None
    case = Case(
        number=number,
        channel=ch.code,
        workflow=template.code,
        title=title[:200],
        body=body,
        category=draft.category,
        area=draft.area,
        area_path=draft.area.path if draft.area is not None else "",
        lat=draft.lat,
        lng=draft.lng,
        address=clean_text(draft.address)[:255],
        submitter=draft.submitter,
        contact_name=clean_text(draft.contact_name),
        contact_phone=phone,
        contact_phone_digest=lookup_digest(phone) if phone else "",
        anonymous=draft.anonymous,
        state=template.initial,
        owner_unit=owner,
        holder_unit=owner,
        holder_user=draft.holder_user,
        due_at=due,
        due_provisional=_provisional(writer.now, due),
        source=draft.source,
        data=dict(draft.data),
        submission_key=draft.submission_key or None,
        created_at=writer.now,
        updated_at=writer.now,
    )
    writer.open_step(
        case,
        state=case.state,
        unit=owner,
        started_by="submit",
        due=due,
        basis=basis,
    )
    entry = writer.entry(
        case,
        action=OPENED_ENTRY,
        to_state=case.state,
        actor=draft.submitter,
        unit=owner,
        # What the chain vouches for of the row (verify_chains compares them).
        data={
            "source": draft.source,
            "title": case.title,
            "body_sha256": _sha(body),
            "contact_digest": contact_digest(name=case.contact_name, phone=case.contact_phone),
        },
        attachments=draft.attachments,
    )
    writer.drafts += notifications.on_submit(writer.recipients, case=case, entry=entry)
    return case


# --------------------------------------------------------------------------- permissions


def actor_may(*, case: Case, action: Action, standing: Standing) -> bool:
    """Whether someone with this standing may take the action on the case now."""
    who = action.who
    if Who.ADMIN in who and standing.is_admin:
        return True
    acting = tuple(unit_roles())
    if Who.OWNER in who and standing.has_role_in(case.owner_unit_id, *acting):
        return True
    if Who.OWNER_LEADER in who and standing.has_role_in(case.owner_unit_id, Role.UNIT_LEADER):
        return True
    if Who.HOLDER in who and standing.has_role_in(case.holder_unit_id, *acting):
        return True
    if Who.HOLDER_LEADER in who and standing.has_role_in(case.holder_unit_id, Role.UNIT_LEADER):
        return True
    return Who.SUBMITTER in who and standing.submitted(
        submitter_id=case.submitter_id, contact_phone_digest=case.contact_phone_digest
    )


def actions_available(*, case: Case, user: Any) -> list[Action]:
    """The actions the user may take on the case in its current state (for buttons)."""
    template = registry.workflow(case.workflow)
    standing = user_standing(user)
    out = []
    for act in template.actions_from(case.state):
        if act.only_via:
            continue
        if not actor_may(case=case, action=act, standing=standing):
            continue
        if Requires.PENDING_EXTENSION in act.requires and not case.data.get("pending_extension"):
            continue
        if _extension_blocked(act=act, case=case):
            continue
        out.append(act)
    return out


# --------------------------------------------------------------------------- transition


@dataclass(frozen=True)
class TransitionInput:
    """What the actor gave with the action (only what the action requires is checked)."""

    note: str = ""
    unit: Unit | None = None
    grade: str = ""
    rating: str = ""
    due_at: datetime | None = None
    merge_into: Case | None = None
    attachments: Sequence[Attachment] = ()
    data: dict[str, Any] = field(default_factory=dict)
    # The module service taking the action, for actions with `only_via`.
    via: str = ""


def _extension_blocked(*, act: Action, case: Case) -> bool:
    """An action that asks for an extension waits until the pending one is decided."""
    return Effect.REQUEST_EXTENSION in act.effects and bool(case.data.get("pending_extension"))


def _check_requirements(*, act: Action, case: Case, given: TransitionInput) -> None:
    req = act.requires
    if _extension_blocked(act=act, case=case):
        raise CaseError(CaseErrorCode.INVALID_STATE, _("已有待审批的延期申请。"))
    if Requires.NOTE in req and not given.note:
        raise CaseError(CaseErrorCode.MISSING, _("请填写说明。"), field="note")
    if Requires.UNIT in req:
        if given.unit is None:
            raise CaseError(CaseErrorCode.MISSING, _("请选择办理单位。"), field="unit")
        if not given.unit.is_active:
            raise CaseError(CaseErrorCode.INVALID, _("该单位已停用。"), field="unit")
        if act.unit_must_differ and given.unit.pk == case.holder_unit_id:
            raise CaseError(
                CaseErrorCode.INVALID, _("改派的单位与当前办理单位相同。"), field="unit"
            )
    if Requires.GRADE in req and given.grade not in Grade.values:
        raise CaseError(CaseErrorCode.MISSING, _("请选择分级（镇级/市级）。"), field="grade")
    if Requires.RATING in req and given.rating not in Rating.values:
        raise CaseError(
            CaseErrorCode.MISSING, _("请选择评价（满意/基本满意/不满意）。"), field="rating"
        )
    if Requires.DUE_AT in req:
        if given.due_at is None:
            raise CaseError(CaseErrorCode.MISSING, _("请填写申请延期到的时间。"), field="due_at")
        if case.due_at is not None and given.due_at <= case.due_at:
            raise CaseError(
                CaseErrorCode.INVALID, _("延期后的时限必须晚于当前时限。"), field="due_at"
            )
    if Requires.PENDING_EXTENSION in req and not case.data.get("pending_extension"):
        raise CaseError(CaseErrorCode.INVALID_STATE, _("没有待审批的延期申请。"))
    if Requires.MERGE_INTO in req:
        target = given.merge_into
        if target is None:
            raise CaseError(
                CaseErrorCode.MISSING, _("请填写要合并到的事项编号。"), field="merge_into"
            )
        if target.pk == case.pk or target.channel != case.channel:
            raise CaseError(
                CaseErrorCode.INVALID, _("只能合并到同一渠道的另一件事项。"), field="merge_into"
            )
        if target.merged_into_id is not None:
            raise CaseError(CaseErrorCode.INVALID, _("目标事项本身已被合并。"), field="merge_into")


def _dispatch_sla(template: WorkflowTemplate, grade: str) -> SLA:
    return template.grade_sla.get(grade, template.default_dispatch_sla)


def transition(
    *,
    case: Case,
    action: str,
    actor: User | None,
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
    via: str = "",
) -> Case:
    """Take `action` on `case` as `actor`.

    In one transaction and in this order: lock the case, check the action is allowed in
    its state, check the actor may take it and that what it requires is given, apply its
    effects (holder, grade, rating, deadlines), end the current step and open the next,
    append the timeline entry, and write notifications to the outbox. Raises CaseError
    and changes nothing when refused. `actor=None` is the platform itself (a sweep, a
    payment notification): it may take only actions whose `who` names SYSTEM. An action
    with `only_via` is taken only when `via` names that module. With an
    `idempotency_key`, a repeated call (a second tap) returns the case unchanged."""
    given = TransitionInput(
        note=clean_text(note),
        unit=unit,
        grade=grade,
        rating=rating,
        due_at=due_at,
        merge_into=merge_into,
        attachments=attachments,
        data=dict(data or {}),
        via=via,
    )
    return transition_many(
        cases=[case],
        action=action,
        actor=actor,
        given=given,
        idempotency_key=idempotency_key,
        now=now,
    )[0]


def transition_many(
    *,
    cases: Sequence[Case],
    action: str,
    actor: User | None,
    given: TransitionInput | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> list[Case]:
    """Take the same action on many cases in one transaction (the rules of `transition`,
    bulk writes). All or nothing: one refusal refuses the batch. Returns the cases, fresh
    from the database, in the order given."""
    with _calendar_refusal():
        return _transition_many(
            cases, action, actor, given=given, idempotency_key=idempotency_key, now=now
        )


def _transition_many(
    cases: Sequence[Case],
    action: str,
    actor: User | None,
    *,
    given: TransitionInput | None,
    idempotency_key: str | None,
    now: datetime | None,
) -> list[Case]:
    given = given or TransitionInput()
    now = now or timezone.now()
    standing = user_standing(actor) if actor is not None else None
    ids = [c.pk for c in cases]
    writer = _Writer(now=now)
    # A merge target is locked with the batch, in the one order (by pk), so two merges
    # into each other (or a sweep) cannot deadlock against this transaction.
    lock_ids = set(ids)
    if given.merge_into is not None:
        lock_ids.add(given.merge_into.pk)
    with transaction.atomic():
        rows = {
            c.pk: c for c in Case.objects.select_for_update().filter(pk__in=lock_ids).order_by("pk")
        }
        writer.locked = rows
        locked = {pk: rows[pk] for pk in ids if pk in rows}
        done: set[int] = set()
        if idempotency_key:
            done = set(
                TimelineEntry.objects.filter(
                    case_id__in=ids, data__idempotency_key=idempotency_key
                ).values_list("case_id", flat=True)
            )
        open_steps: dict[int, CaseStep] = {}
        for step in CaseStep.objects.filter(case_id__in=ids, ended_at__isnull=True).order_by("seq"):
            open_steps[step.case_id] = step
        # Every unit the batch touches, in one query; the cases' own FK caches are filled
        # from it so no attribute access goes back to the database.
        unit_ids = {c.owner_unit_id for c in locked.values()} | {
            c.holder_unit_id for c in locked.values()
        }
        writer.units.update(
            Unit.objects.select_related("supervisor").in_bulk([u for u in unit_ids if u])
        )
        for c in locked.values():
            c.owner_unit = writer.unit(c.owner_unit_id)
            c.holder_unit = writer.unit(c.holder_unit_id)
        changed: list[Case] = []
        for case_id in ids:
            case = locked[case_id]
            if case_id in done:
                continue
            _apply(
                case,
                action,
                actor,
                standing=standing,
                given=given,
                step=open_steps.get(case_id),
                idempotency_key=idempotency_key,
                writer=writer,
                changed=changed,
            )
        bulk_update_rows(changed, _MUTABLE_FIELDS)
        writer.flush()
    return [locked[i] for i in ids]


def _run_effect_handlers(
    *, case: Case, act: Action, actor: User | None, now: datetime, entry: TimelineEntry
) -> None:
    """Effects the engine does not implement itself (SPAWN_CASES) are done by the
    handler registered for them, here: after the state change, in the transition's
    transaction (a refusal undoes the whole action). What a handler returns is added to
    the action's timeline entry, whose hash is then computed again (the entry is not
    written yet, and it is the case's newest)."""
    extra: dict[str, Any] = {}
    for effect in act.effects:
        handler = registry.effect_handler(effect)
        if handler is None:
            if effect in _ENGINE_EFFECTS:
                continue
            raise CaseError(CaseErrorCode.INVALID, _("该操作的效果没有处理程序，请联系管理员。"))
        extra.update(handler(case=case, action=act, actor=actor, now=now, entry=entry) or {})
    if extra:
        entry.data = {**entry.data, **extra}
        entry.hash = entry_hash(entry, case_number=case.number)
        case.timeline_hash = entry.hash


# Effects `_apply` implements itself; any other needs a registered handler.
_ENGINE_EFFECTS = frozenset(Effect) - {Effect.SPAWN_CASES}


def _apply(
    case: Case,
    action: str,
    actor: User | None,
    *,
    standing: Standing | None,
    given: TransitionInput,
    step: CaseStep | None,
    idempotency_key: str | None,
    writer: _Writer,
    changed: list[Case],
) -> None:
    template = registry.workflow(case.workflow)
    try:
        act = template.action(action)
    except KeyError:
        raise CaseError(CaseErrorCode.UNKNOWN_ACTION) from None
    if case.state not in act.sources:
        raise CaseError(CaseErrorCode.INVALID_STATE)
    if act.only_via and given.via != act.only_via:
        raise CaseError(CaseErrorCode.FORBIDDEN)
    if standing is None:
        if Who.SYSTEM not in act.who:
            raise CaseError(CaseErrorCode.FORBIDDEN)
    elif not actor_may(case=case, action=act, standing=standing):
        raise CaseError(CaseErrorCode.FORBIDDEN)
    if given.merge_into is not None and given.merge_into.pk in writer.locked:
        # Check the target as it is now, under its lock, not as the caller read it: two
        # duplicates merged into each other at once must not both succeed.
        given = dataclasses.replace(given, merge_into=writer.locked[given.merge_into.pk])
    _check_requirements(act=act, case=case, given=given)

    now = writer.now
    from_state = case.state
    prev_holder_id = case.holder_unit_id
    target = act.target
    new_holder: Unit | None = writer.unit(case.holder_unit_id)
    due: datetime | None = None
    due_set = False
    basis: Basis | None = None
    new_step = True
    entry_data: dict[str, Any] = dict(given.data)
    if act.counts_as:
        entry_data["counts_as"] = act.counts_as
    if idempotency_key:
        entry_data["idempotency_key"] = idempotency_key

    def dispatch_due(unit: Unit) -> datetime:
        nonlocal basis
        basis = (_dispatch_sla(template, case.grade), now)
        return sla_due_at(start=now, sla=basis[0], office_hours=_office_hours(unit))

    for effect in act.effects:
        if effect is Effect.ASSIGN_UNIT:
            assert given.unit is not None
            new_holder = given.unit
            writer.units.setdefault(new_holder.pk, new_holder)
            if given.grade:
                case.grade = given.grade
                entry_data["grade"] = given.grade
            case.assignee_unit = new_holder
            due, due_set = dispatch_due(new_holder), True
            entry_data["unit"] = new_holder.name
        elif effect is Effect.BACK_TO_OWNER:
            new_holder = writer.unit(case.owner_unit_id)
            case.assignee_unit = None
        elif effect is Effect.KEEP_DEADLINE:
            due, due_set = (step.due_at if step is not None else case.due_at), True
            if step is not None and step.sla and step.sla_from is not None:
                basis = (SLA.parse(step.sla), step.sla_from)
        elif effect is Effect.SET_RESULT:
            case.result = given.note
            entry_data["result_sha256"] = _sha(given.note)
        elif effect is Effect.RATE:
            case.rating = given.rating
            case.rating_comment = given.note
            entry_data["rating"] = given.rating
            if given.rating == Rating.UNSATISFIED and not template.escalate_state:
                entry_data["outcome"] = "closed_unsatisfied"
            elif given.rating == Rating.UNSATISFIED:
                assignee = writer.unit(case.assignee_unit_id)
                supervisor = writer.unit(assignee.supervisor_id) if assignee else None
                if assignee is not None and case.round < template.unsatisfied_returns:
                    target, new_holder = template.rework_state, assignee
                    entry_data["outcome"] = "returned_to_unit"
                elif supervisor is not None:
                    target, new_holder = template.escalate_state, supervisor
                    case.assignee_unit = supervisor
                    entry_data["outcome"] = "escalated_to_supervisor"
                    entry_data["unit"] = supervisor.name
                else:
                    entry_data["outcome"] = "closed_unsatisfied"
                if target != act.target and new_holder is not None:
                    case.round += 1
                    due, due_set = dispatch_due(new_holder), True
        elif effect is Effect.REWORK:
            new_holder = writer.unit(case.assignee_unit_id) or new_holder
            assert new_holder is not None
            due, due_set = dispatch_due(new_holder), True
        elif effect is Effect.REQUEST_EXTENSION:
            assert given.due_at is not None
            case.data["pending_extension"] = {
                "due_at": given.due_at.isoformat(),
                "by": actor.pk if actor is not None else None,
                "note": given.note,
            }
            entry_data["requested_due_at"] = given.due_at.isoformat()
            new_step = False
        elif effect is Effect.APPROVE_EXTENSION:
            pending = case.data.pop("pending_extension")
            new_due = datetime.fromisoformat(pending["due_at"])
            entry_data["old_due_at"] = case.due_at.isoformat() if case.due_at else None
            entry_data["new_due_at"] = new_due.isoformat()
            case.due_at = new_due
            if step is not None:
                times = step_times(start=now, due=new_due, office_hours=_office_hours(new_holder))
                step.due_at, step.remind_at, step.escalate_at = (
                    times.due_at,
                    times.remind_at,
                    times.escalate_at,
                )
                step.reminded_at = None
                step.escalation_level = 0
                # A date the leader approved is kept as given, not counted again.
                step.sla, step.sla_from = "", None
                step.due_provisional = _provisional(now, times.escalate_at)
                writer.moved_steps.append(step)
            case.due_provisional = False
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
            basis = (SLA(remaining, "workday"), now)
            due = sla_due_at(start=now, sla=basis[0], office_hours=_office_hours(new_holder))
            due_set = True
        elif effect is Effect.MERGE:
            assert given.merge_into is not None
            case.merged_into = given.merge_into
            entry_data["merged_into"] = given.merge_into.number

    state = template.state(target)
    if state.terminal:
        new_holder = None
        case.closed_at = now
        due, due_set, basis = None, True, None
    elif state.holder is HolderKind.OWNER and not (
        {Effect.ASSIGN_UNIT, Effect.REWORK} & set(act.effects)
    ):
        new_holder = writer.unit(case.owner_unit_id)
    if not due_set:
        due = (
            sla_due_at(start=now, sla=state.sla, office_hours=_office_hours(new_holder))
            if state.sla is not None
            else None
        )
        basis = (state.sla, now) if state.sla is not None else None
    holder_changed = (new_holder.pk if new_holder else None) != prev_holder_id
    if new_step or target != from_state or holder_changed:
        writer.end_step(step, ended_by=act.code)
        if not state.terminal:
            writer.open_step(
                case, state=target, unit=new_holder, started_by=act.code, due=due, basis=basis
            )
        case.due_at = due
        case.due_provisional = basis is not None and _provisional(basis[1], due)
    case.state = target
    case.holder_unit = new_holder
    case.updated_at = now
    entry = writer.entry(
        case,
        action=act.code,
        from_state=from_state,
        to_state=target,
        actor=actor,
        unit=new_holder,
        note=given.note,
        data=entry_data,
        attachments=given.attachments,
    )
    _run_effect_handlers(case=case, act=act, actor=actor, now=now, entry=entry)
    changed.append(case)
    if Effect.MERGE in act.effects and given.merge_into is not None:
        merged = writer.locked[given.merge_into.pk]
        writer.entry(
            merged,
            action="merged_from",
            actor=actor,
            note=given.note,
            data={"merged_case": case.number},
        )
        merged.updated_at = now
        if merged not in changed:
            changed.append(merged)
    writer.drafts += notifications.on_transition(
        writer.recipients,
        case=case,
        action=act,
        entry=entry,
        previous_holder_id=prev_holder_id,
    )
