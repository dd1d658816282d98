"""Celery tasks of the outbox; the embedded worker calls the same functions in-process.

Each takes ids only (or nothing) and re-reads the database, so a repeated or late
message is harmless.
acks_late: a message is acknowledged after the task ran, so a worker killed mid-task
leaves it to be redelivered; the lease and the sweep cover the rest.
"""

from __future__ import annotations

from celery import shared_task

from civicloop.core.outbox import services


@shared_task(
    name="civicloop.core.outbox.tasks.outbox_deliver_task", acks_late=True, ignore_result=True
)
def outbox_deliver_task(message_id: int) -> bool:
    """Deliver one outbox message if it is still due (the hint sent after commit)."""
    return services.outbox_deliver(message_id=message_id)


@shared_task(name="civicloop.core.outbox.tasks.outbox_sweep", acks_late=True, ignore_result=True)
def outbox_sweep(limit: int = 500) -> int:
    """Deliver every due or abandoned message (run periodically by beat or the scheduler)."""
    return services.outbox_sweep(limit=limit)


@shared_task(
    name="civicloop.core.outbox.tasks.outbox_payload_purge", acks_late=True, ignore_result=True
)
def outbox_payload_purge() -> int:
    """Clear the payload of messages sent longer ago than the retention period (hourly)."""
    return services.outbox_payload_purge()
