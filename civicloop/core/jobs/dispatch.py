"""Send a task after the current transaction commits (see the package docstring)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from civicloop.core.jobs import embedded

logger = logging.getLogger(__name__)


def run_after_commit(task_name: str, *args: Any, using: str | None = None) -> None:
    """Run the task named `task_name` with `args` once the current transaction commits.

    Guarantees: nothing is sent if the transaction rolls back; outside a transaction
    the task is sent at once. A failure to send (broker down, local queue full) is
    logged and swallowed, never raised into the committed caller: the job is only a
    hint and the periodic sweep does the work later. Arguments must be JSON-friendly
    (ids, not objects), and the task must be idempotent.
    """
    # robust=True: an exception in the hint must not surface after the caller's commit.
    transaction.on_commit(lambda: send_now(task_name, *args), using=using, robust=True)


def send_now(task_name: str, *args: Any) -> None:
    """Send the task now, without waiting for a commit; errors are logged, not raised."""
    mode = getattr(settings, "WORKER_MODE", "embedded")
    try:
        if mode == "celery":
            # By name, through the current (project) app: core does not import the config.
            from celery import current_app

            current_app.send_task(task_name, args=list(args))
        else:
            embedded.submit(task_name, *args)
    except Exception:
        logger.exception(
            "Could not send job %s%r; the periodic sweep will catch up", task_name, args
        )
