"""The in-process worker used when no broker is configured (WORKER_MODE == "embedded").

A small pool of daemon threads consumes jobs submitted by `run_after_commit`, and a
scheduler thread runs each entry of settings.CELERY_BEAT_SCHEDULE at its interval, so
one process (web server or `manage.py` command) needs neither Redis nor Celery.

Jobs live only in memory: a job lost with the process is repeated by the periodic
sweep, which is why every job must be idempotent and read its state from the database.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

Job = tuple[str, tuple[Any, ...]]

# Bounded so a process without a running worker (a management command, a test) cannot
# grow without limit; a job dropped when full is picked up by the sweep.
QUEUE_SIZE = 10_000
_jobs: queue.Queue[Job | None] = queue.Queue(maxsize=QUEUE_SIZE)


def submit(task_name: str, *args: Any) -> bool:
    """Put a job on this process's queue; return False (and log) if it was dropped."""
    try:
        _jobs.put_nowait((task_name, args))
    except queue.Full:
        logger.warning(
            "Embedded job queue full; dropped %s%r (the sweep will catch up)", task_name, args
        )
        return False
    return True


def _run_job(func: Callable[..., Any], args: tuple[Any, ...], label: str) -> None:
    """Call `func(*args)` with fresh database connections; log an error, never raise."""
    # Threads keep their own connections: drop broken or expired ones before the job
    # and close ours afterwards so an idle thread holds no connection (or lock).
    close_old_connections()
    try:
        func(*args)
    except Exception:
        logger.exception("Embedded job %s failed", label)
    finally:
        connections.close_all()


class _Entry:
    """One scheduler entry: a task and when it is next due."""

    def __init__(self, name: str, task: Callable[..., Any], schedule: Any, args: tuple[Any, ...]):
        self.name = name
        self.task = task
        self.schedule = schedule
        self.args = args
        self.interval: float | None = None
        if isinstance(schedule, timedelta):
            self.interval = schedule.total_seconds()
        elif isinstance(schedule, int | float):
            self.interval = float(schedule)
        elif hasattr(schedule, "run_every") and not hasattr(schedule, "minute"):
            # celery.schedules.schedule(run_every=...): a plain interval.
            self.interval = schedule.run_every.total_seconds()
        self.last_run_at: datetime = timezone.now()
        self.next_at = time.monotonic() + (self.interval or 0.0)

    def seconds_until_due(self) -> float:
        if self.interval is not None:
            return self.next_at - time.monotonic()
        # crontab and other Celery schedules answer "is it due since last run?".
        due, next_seconds = self.schedule.is_due(self.last_run_at)
        return 0.0 if due else float(next_seconds)

    def mark_run(self) -> None:
        self.last_run_at = timezone.now()
        if self.interval is not None:
            # From now, not from the due time: a slow run must not trigger a burst.
            self.next_at = time.monotonic() + self.interval


class EmbeddedWorker:
    """A pool of job threads plus a scheduler thread, all daemons.

    `start()` launches them; `stop()` asks them to finish the job in hand and joins
    them. An exception in a job or scheduled task is logged and the thread goes on.
    """

    def __init__(
        self,
        *,
        threads: int = 2,
        schedule: Mapping[str, Mapping[str, Any]] | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.threads = threads
        self._schedule = schedule
        self.poll_seconds = poll_seconds
        self.pid = os.getpid()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._entries: list[_Entry] = []

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads) and not self._stop.is_set()

    def start(self) -> None:
        """Start the job threads and the scheduler; a second call does nothing."""
        if self._threads:
            return
        schedule = self._schedule
        if schedule is None:
            schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", {}) or {}
        self._entries = self._load_entries(schedule)
        for i in range(self.threads):
            t = threading.Thread(target=self._work, name=f"civicloop-job-{i}", daemon=True)
            self._threads.append(t)
        self._threads.append(
            threading.Thread(target=self._tick, name="civicloop-scheduler", daemon=True)
        )
        for t in self._threads:
            t.start()
        try:  # /healthz/ready sees the worker from its first moment, not a beat later
            from civicloop.core.jobs.heartbeat import worker_heartbeat

            worker_heartbeat()
        except Exception:
            logger.exception("The worker's first heartbeat failed")
        logger.info(
            "Embedded worker started: %d threads, scheduled: %s",
            self.threads,
            ", ".join(e.name for e in self._entries) or "nothing",
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Let each thread finish its current job, then join them (up to `timeout` s).

        Jobs still queued are left for the next worker or the sweep.
        """
        self._stop.set()
        for _ in range(self.threads):
            # Wake the idle job threads; if the queue is full they wake on their poll.
            try:
                _jobs.put_nowait(None)
            except queue.Full:
                break
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning("Embedded worker threads still running after stop: %s", alive)
        _forget(self)

    @staticmethod
    def _load_entries(schedule: Mapping[str, Mapping[str, Any]]) -> list[_Entry]:
        entries = []
        for name, spec in schedule.items():
            task_name = spec["task"]
            try:
                task = import_string(task_name)
            except ImportError:
                # A module not written yet (or removed) must not stop the others.
                logger.warning(
                    "Scheduled task %s (%s) cannot be imported; skipped", name, task_name
                )
                continue
            entries.append(_Entry(name, task, spec["schedule"], tuple(spec.get("args", ()))))
        return entries

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                job = _jobs.get(timeout=self.poll_seconds)
            except queue.Empty:
                continue
            if job is None:
                continue
            task_name, args = job
            try:
                func = import_string(task_name)
            except ImportError:
                logger.exception("Embedded job %s cannot be imported; dropped", task_name)
                continue
            _run_job(func, args, task_name)

    def _tick(self) -> None:
        while not self._stop.is_set():
            wait = self.poll_seconds
            for entry in self._entries:
                try:
                    remaining = entry.seconds_until_due()
                except Exception:
                    logger.exception("Schedule of %s failed; entry skipped this round", entry.name)
                    continue
                if remaining <= 0:
                    # Synchronous: a task never overlaps a still running copy of itself.
                    _run_job(entry.task, entry.args, entry.name)
                    entry.mark_run()
                    if self._stop.is_set():
                        return
                    remaining = entry.seconds_until_due()
                wait = min(wait, max(remaining, 0.01))
            self._stop.wait(wait)


_lock = threading.Lock()
_worker: EmbeddedWorker | None = None


def start_embedded_worker() -> EmbeddedWorker:
    """Return this process's running embedded worker, starting it if needed.

    One per process: a forked child (gunicorn, multiprocessing) inherits no threads,
    so it gets its own worker rather than the parent's dead one.
    """
    global _worker
    with _lock:
        if _worker is not None and _worker.pid == os.getpid() and _worker.running:
            return _worker
        _worker = EmbeddedWorker()
        _worker.start()
        return _worker


def _forget(worker: EmbeddedWorker) -> None:
    global _worker
    with _lock:
        if _worker is worker:
            _worker = None
