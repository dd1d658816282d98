"""Celery tasks of the job machinery itself; the embedded scheduler runs the same."""

from __future__ import annotations

from celery import shared_task

from civicloop.core.jobs.heartbeat import worker_heartbeat


@shared_task(name="civicloop.core.jobs.tasks.worker_heartbeat_task", ignore_result=True)
def worker_heartbeat_task() -> None:
    worker_heartbeat()
