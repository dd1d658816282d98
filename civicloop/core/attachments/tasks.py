"""Periodic clean-up of files whose rows were rolled back (see services.attachments_sweep_orphans)."""

from __future__ import annotations

from celery import shared_task

from civicloop.core.attachments.services import attachments_sweep_orphans as _sweep


@shared_task(name="civicloop.core.attachments.tasks.attachments_sweep_orphans", acks_late=True)
def attachments_sweep_orphans() -> int:
    return len(_sweep())
