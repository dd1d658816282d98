"""The periodic SLA sweep: remind before a step's deadline, escalate after it.

Each reminder and escalation happens exactly once: it is claimed with a conditional
UPDATE (only the sweep that flips the flag sends), and its message goes to the outbox in
the same transaction as the flag and the timeline entry.

Lock order: a transaction that locks both a case and its steps locks the case row first
(several cases: by primary key), then the steps, as `transition` does. The claim is an
UPDATE, which locks the step row, so it comes only after the case is locked; otherwise a
sweep holding a step and a transition holding its case wait for each other (on
PostgreSQL a deadlock, one of the two rolled back)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from civicloop.core.cases import notifications
from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.cases.notifications import Recipients
from civicloop.core.cases.services import timeline_append

Record = Callable[[Case, CaseStep], None]


def _claim(step_id: int, **flags: object) -> int:
    """Set the flags on the step if nobody did yet; returns 1 if this caller won.
    The caller holds the step's case locked."""
    filters = {"pk": step_id, "ended_at__isnull": True}
    if "reminded_at" in flags:
        filters["reminded_at__isnull"] = True
    if "escalation_level" in flags:
        filters["escalation_level"] = int(flags["escalation_level"]) - 1  # type: ignore[call-overload]
    return CaseStep.objects.filter(**filters).update(**flags)


def _step_handle(step_id: int, *, flags: dict[str, object], record: Record) -> bool:
    """In one transaction: lock the step's case, claim the step, record what was done.
    False when the step is gone, closed, or already claimed by another sweep."""
    with transaction.atomic():
        case_id = CaseStep.objects.filter(pk=step_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return False
        # The case first, then its step (see the module docstring).
        case = Case.objects.select_for_update().get(pk=case_id)
        if not _claim(step_id, **flags):
            return False
        step = CaseStep.objects.select_related("unit", "unit__supervisor").get(pk=step_id)
        record(case, step)
    return True


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send due reminders and escalations; returns counts of what was sent.

    Safe to run in several processes at once and alongside `transition`: every step is
    handled in its own transaction that locks its case before the step."""
    now = now or timezone.now()
    recipients = Recipients()
    counts = {"reminded": 0, "escalated_leader": 0, "escalated_supervisor": 0}

    def remind(case: Case, step: CaseStep) -> None:
        timeline_append(
            case=case,
            action="remind",
            unit=step.unit,
            data={"step": step.seq},
            drafts=notifications.on_reminder(recipients, case=case, step=step),
            now=now,
        )

    def overdue(case: Case, step: CaseStep) -> None:
        timeline_append(
            case=case,
            action="overdue",
            unit=step.unit,
            data={"step": step.seq, "level": 1},
            drafts=(
                notifications.on_escalation(
                    recipients, case=case, step=step, level=1, unit=step.unit
                )
                if step.unit is not None
                else []
            ),
            now=now,
        )

    def escalate(case: Case, step: CaseStep) -> None:
        supervisor = step.unit.supervisor if step.unit is not None else None
        timeline_append(
            case=case,
            action="escalate",
            unit=supervisor,
            data={"step": step.seq, "level": 2, "to": supervisor.name if supervisor else ""},
            drafts=(
                notifications.on_escalation(
                    recipients, case=case, step=step, level=2, unit=supervisor
                )
                if supervisor is not None
                else []
            ),
            now=now,
        )

    passes: list[tuple[str, dict[str, object], Record, dict[str, object]]] = [
        (
            "reminded",
            {"reminded_at__isnull": True, "remind_at__lte": now, "due_at__gt": now},
            remind,
            {"reminded_at": now},
        ),
        (
            "escalated_leader",
            {"escalation_level": 0, "due_at__lte": now},
            overdue,
            {"escalation_level": 1},
        ),
        (
            "escalated_supervisor",
            {"escalation_level": 1, "escalate_at__lte": now},
            escalate,
            {"escalation_level": 2},
        ),
    ]
    for count, due, record, flags in passes:
        step_ids = list(
            CaseStep.objects.filter(ended_at__isnull=True, **due)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        for step_id in step_ids:
            if _step_handle(step_id, flags=flags, record=record):
                counts[count] += 1
    return counts
