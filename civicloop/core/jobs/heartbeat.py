"""The worker's heartbeat: proof, for /healthz/ready, that scheduled work is being done.

The scheduler (Celery beat, or the embedded scheduler) runs `worker_heartbeat` every
HEARTBEAT_SECONDS on a worker, which writes the time into the shared cache (production
requires a shared cache: Redis). So a fresh beat says both that a scheduler is running
and that a worker takes its jobs; a missing one says that the outbox, the SLA sweep and
the rollups have stopped, which /healthz alone would not show."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from django.core.cache import cache

HEARTBEAT_KEY = "civicloop:worker:heartbeat"
HEARTBEAT_SECONDS = 15.0


def worker_heartbeat() -> None:
    """Record that a worker ran a scheduled job now (kept until the next beat replaces it)."""
    cache.set(
        HEARTBEAT_KEY,
        {"at": time.time(), "host": socket.gethostname(), "pid": os.getpid()},
        timeout=None,
    )


def worker_last_beat() -> dict[str, Any] | None:
    """The last beat ({at, host, pid}), None when no worker has beaten since the cache
    was emptied."""
    beat = cache.get(HEARTBEAT_KEY)
    return beat if isinstance(beat, dict) and "at" in beat else None
