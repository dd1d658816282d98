"""Celery tasks of the case engine; the embedded scheduler calls the same functions."""

from __future__ import annotations

from celery import shared_task

from civicloop.core.cases.deadlines import deadlines_recompute_if_confirmed
from civicloop.core.cases.rollups import rollup_rebuild, rollup_refresh
from civicloop.core.cases.sweeps import sla_sweep as _sla_sweep
from civicloop.core.sla.checks import calendar_warning_log


@shared_task(name="civicloop.core.cases.tasks.sla_sweep", acks_late=True)
def sla_sweep() -> dict[str, int]:
    counts = _sla_sweep()
    # From October, once a day: next year's holiday arrangement is not confirmed yet.
    calendar_warning_log()
    counts["deadlines_recomputed"] = deadlines_recompute_if_confirmed()
    return counts


@shared_task(name="civicloop.core.cases.tasks.rollups_refresh", acks_late=True)
def rollups_refresh() -> dict[str, int]:
    """Keep the case rollups current (the cockpit's figures): a no-op when nothing
    changed, skipped when another refresh is running."""
    report = rollup_refresh(wait=False)
    return {"cases": report.cases, "rows": report.rows, "skipped": int(report.skipped)}


@shared_task(name="civicloop.core.cases.tasks.rollups_rebuild", acks_late=True)
def rollups_rebuild() -> dict[str, int]:
    """The daily reconciliation: every rollup recomputed from the cases."""
    report = rollup_rebuild()
    return {"cases": report.cases, "rows": report.rows}
