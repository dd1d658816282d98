"""Celery tasks of 生命通道; the embedded worker calls the same functions in-process.
Each takes ids (or nothing), re-reads the database and is safe to repeat."""

from __future__ import annotations

from celery import shared_task

from civicloop.firelane import tracking

PROCESS_TASK = "civicloop.firelane.tasks.sightings_process"
SWEEP_TASK = "civicloop.firelane.tasks.firelane_sweep"
RETENTION_TASK = "civicloop.firelane.tasks.firelane_retention"


@shared_task(name=PROCESS_TASK, acks_late=True, ignore_result=True)
def sightings_process(limit: int = 200) -> int:
    """Read the plates of stored sightings and merge them into stays (the hint after intake)."""
    return tracking.sightings_process(limit=limit)


@shared_task(name=SWEEP_TASK, acks_late=True, ignore_result=True)
def firelane_sweep() -> int:
    """Thresholds, ended stays, offline cameras, anything a lost hint missed; and the
    decisions of notices whose statement period ended."""
    from civicloop.firelane.notices import notices_decide_due

    return tracking.firelane_sweep() + notices_decide_due()


@shared_task(name=RETENTION_TASK, acks_late=True, ignore_result=True)
def firelane_retention() -> int:
    """Delete the sightings, pictures and stays that led to no case, past their retention."""
    return tracking.firelane_retention_sweep()
