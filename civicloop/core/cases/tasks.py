"""Celery tasks of the case engine; the embedded scheduler calls the same functions."""

from __future__ import annotations

from celery import shared_task

from civicloop.core.cases.sweeps import sla_sweep as _sla_sweep


@shared_task(name="civicloop.core.cases.tasks.sla_sweep", acks_late=True)
def sla_sweep() -> dict[str, int]:
    return _sla_sweep()
