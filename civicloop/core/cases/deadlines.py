"""Counting deadlines again once the calendar of a year they crossed is confirmed.

A deadline that reaches into a year the calendar table has not confirmed is computed
with that year's provisional calendar (core.sla.working_days) and marked
`due_provisional` on its step and case. When an administrator enters the State
Council's notice, or `seed_calendar` loads a chinese-calendar release that knows the
year, `deadlines_recompute` counts those deadlines again from what they were counted
with (`CaseStep.sla`, `CaseStep.sla_from`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from civicloop.core.bulk_writes import bulk_update_rows
from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.cases.services import step_times, timeline_append
from civicloop.core.sla.policy import SLA
from civicloop.core.sla.policy import due_at as sla_due_at
from civicloop.core.sla.working_days import CHINA_TZ, span_is_provisional, year_is_confirmed
from civicloop.core.units.models import DEFAULT_OFFICE_HOURS

logger = logging.getLogger(__name__)

RECOMPUTED_ENTRY = "deadline_recomputed"


def _provisional(start: datetime, end: datetime | None) -> bool:
    return end is not None and span_is_provisional(start, end)


def _local_iso(moment: datetime | None) -> str | None:
    return moment.astimezone(CHINA_TZ).isoformat() if moment is not None else None


@dataclass(frozen=True)
class DeadlinesRecomputed:
    cases: int  # cases whose open step was looked at
    moved: int  # cases whose deadline changed
    still_provisional: int  # steps still crossing a year not confirmed


def deadlines_recompute(
    *, batch_size: int = 200, now: datetime | None = None
) -> DeadlinesRecomputed:
    """Count again, with the calendar as it is now, the deadlines of every open step
    marked provisional (and of its case).

    Guarantees: each batch of cases is one transaction that locks the cases (by primary
    key) before their steps, as `transition` and the SLA sweep do. A step's due, remind
    and escalate times and its case's `due_at` are recomputed from the limit and moment
    they were counted with (a date given by an approved extension is kept; only its
    remind and escalate times are counted again); the provisional marks say afterwards
    whether a year crossed is still unconfirmed. A deadline that moved gets a
    `deadline_recomputed` timeline entry with the old and new times. Idempotent: a
    second run with the same calendar changes nothing and writes no entry. Reminders
    already sent and escalations already made are not undone."""
    now = now or timezone.now()
    case_ids = list(
        Case.objects.filter(
            Q(due_provisional=True) | Q(steps__ended_at__isnull=True, steps__due_provisional=True)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    moved = still = 0
    for first in range(0, len(case_ids), batch_size):
        batch_moved, batch_still = _recompute_batch(case_ids[first : first + batch_size], now)
        moved += batch_moved
        still += batch_still
    if case_ids:
        logger.info(
            "Provisional deadlines recomputed: %d cases, %d moved, %d still provisional",
            len(case_ids),
            moved,
            still,
        )
    return DeadlinesRecomputed(cases=len(case_ids), moved=moved, still_provisional=still)


def deadlines_recompute_if_confirmed(*, now: datetime | None = None) -> int:
    """The periodic safety net (the SLA sweep): when an open step is still marked
    provisional although every year up to its escalate time is now confirmed (the
    recompute after a confirmation was lost, e.g. a crash after commit), recompute.
    One query when there is nothing to do. Returns the number of deadlines moved."""
    now = now or timezone.now()
    year = timezone.localtime(now, CHINA_TZ).year
    while year_is_confirmed(year):
        year += 1
    first_unconfirmed = datetime(year, 1, 1, tzinfo=CHINA_TZ)
    stale = CaseStep.objects.filter(
        ended_at__isnull=True, due_provisional=True, escalate_at__lt=first_unconfirmed
    ).exists()
    return deadlines_recompute(now=now).moved if stale else 0


def _recompute_batch(case_ids: list[int], now: datetime) -> tuple[int, int]:
    moved = still = 0
    with transaction.atomic():
        cases = {
            c.pk: c for c in Case.objects.select_for_update().filter(pk__in=case_ids).order_by("pk")
        }
        steps = list(
            CaseStep.objects.select_related("unit")
            .filter(case_id__in=case_ids, ended_at__isnull=True)
            .order_by("case_id", "seq")
        )
        changed_steps: list[CaseStep] = []
        changed_cases: list[Case] = []
        seen: set[int] = set()
        for step in steps:
            case = cases.get(step.case_id)
            if case is None or case.pk in seen:
                continue
            seen.add(case.pk)
            hours = step.unit.get_office_hours() if step.unit else DEFAULT_OFFICE_HOURS
            old_due = step.due_at
            due = old_due
            if step.sla and step.sla_from is not None:
                due = sla_due_at(start=step.sla_from, sla=SLA.parse(step.sla), office_hours=hours)
            times = step_times(start=step.started_at, due=due, office_hours=hours)
            counted_from = step.sla_from or step.started_at
            before = (step.due_at, step.remind_at, step.escalate_at, step.due_provisional)
            step.due_at, step.remind_at, step.escalate_at = (
                times.due_at,
                times.remind_at,
                times.escalate_at,
            )
            step.due_provisional = _provisional(counted_from, times.escalate_at)
            if before != (step.due_at, step.remind_at, step.escalate_at, step.due_provisional):
                changed_steps.append(step)
            still += step.due_provisional
            case_before = (case.due_at, case.due_provisional)
            if case.due_at == old_due:
                # The case's deadline is its open step's (not one given apart from it).
                case.due_at = due
                case.due_provisional = bool(step.sla) and _provisional(counted_from, due)
            else:
                case.due_provisional = False
            if (case.due_at, case.due_provisional) != case_before:
                changed_cases.append(case)
            if due != old_due:
                moved += 1
                timeline_append(
                    case=case,
                    action=RECOMPUTED_ENTRY,
                    unit=step.unit,
                    data={
                        "step": step.seq,
                        "old_due_at": _local_iso(old_due),
                        "new_due_at": _local_iso(due),
                    },
                    now=now,
                )
        for case in cases.values():
            if case.pk not in seen and case.due_provisional:
                # No open step (closed meanwhile): nothing left to count.
                case.due_provisional = False
                changed_cases.append(case)
        bulk_update_rows(changed_steps, ["due_at", "remind_at", "escalate_at", "due_provisional"])
        bulk_update_rows(changed_cases, ["due_at", "due_provisional"])
    return moved, still
