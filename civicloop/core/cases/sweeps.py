"""The periodic SLA sweep: remind before a step's deadline, escalate after it.

Each reminder and escalation happens exactly once: it is claimed with a conditional
UPDATE (only the sweep that flips the flag sends), and its message goes to the outbox in
the same transaction as the flag and the timeline entry."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from civicloop.core.cases import notifications
from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.cases.notifications import Recipients
from civicloop.core.cases.services import timeline_append


def _claim(step_id: int, **flags: object) -> int:
    """Set the flags on the step if nobody did yet; returns 1 if this caller won."""
    filters = {"pk": step_id, "ended_at__isnull": True}
    if "reminded_at" in flags:
        filters["reminded_at__isnull"] = True
    if "escalation_level" in flags:
        filters["escalation_level"] = int(flags["escalation_level"]) - 1  # type: ignore[call-overload]
    return CaseStep.objects.filter(**filters).update(**flags)


def sla_sweep(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send due reminders and escalations; returns counts of what was sent."""
    now = now or timezone.now()
    recipients = Recipients()
    counts = {"reminded": 0, "escalated_leader": 0, "escalated_supervisor": 0}

    reminders = CaseStep.objects.filter(
        ended_at__isnull=True, reminded_at__isnull=True, remind_at__lte=now, due_at__gt=now
    ).values_list("pk", flat=True)[:limit]
    for step_id in list(reminders):
        with transaction.atomic():
            if not _claim(step_id, reminded_at=now):
                continue
            step = CaseStep.objects.select_related("unit").get(pk=step_id)
            case = Case.objects.select_for_update().get(pk=step.case_id)
            timeline_append(
                case=case,
                action="remind",
                unit=step.unit,
                data={"step": step.seq},
                drafts=notifications.on_reminder(recipients, case=case, step=step),
                now=now,
            )
            counts["reminded"] += 1

    overdue = CaseStep.objects.filter(
        ended_at__isnull=True, escalation_level=0, due_at__lte=now
    ).values_list("pk", flat=True)[:limit]
    for step_id in list(overdue):
        with transaction.atomic():
            if not _claim(step_id, escalation_level=1):
                continue
            step = CaseStep.objects.select_related("unit").get(pk=step_id)
            case = Case.objects.select_for_update().get(pk=step.case_id)
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
            counts["escalated_leader"] += 1

    second = CaseStep.objects.filter(
        ended_at__isnull=True, escalation_level=1, escalate_at__lte=now
    ).values_list("pk", flat=True)[:limit]
    for step_id in list(second):
        with transaction.atomic():
            if not _claim(step_id, escalation_level=2):
                continue
            step = CaseStep.objects.select_related("unit", "unit__supervisor").get(pk=step_id)
            case = Case.objects.select_for_update().get(pk=step.case_id)
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
            counts["escalated_supervisor"] += 1
    return counts
