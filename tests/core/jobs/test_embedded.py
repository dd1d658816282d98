from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import transaction

from civicloop import notify
from civicloop.core import jobs
from civicloop.core.jobs import dispatch, embedded
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.outbox.services import outbox_enqueue
from tests.waiting import wait_until

Status = OutboxMessage.Status
calls: list[tuple[object, ...]] = []
ran = threading.Event()


def record(*args: object) -> None:
    """A job for the tests, importable by dotted name."""
    calls.append(args)
    ran.set()


def explode(*args: object) -> None:
    raise RuntimeError("job bug")


# Generous: it returns as soon as the predicate holds; a loaded CI machine once needed more than 10 s.
def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    return wait_until(predicate, timeout=timeout)


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    calls.clear()
    ran.clear()
    yield
    while not embedded._jobs.empty():
        embedded._jobs.get_nowait()


@pytest.fixture
def worker_factory() -> Iterator[Callable[..., embedded.EmbeddedWorker]]:
    started: list[embedded.EmbeddedWorker] = []

    def make(**kwargs: object) -> embedded.EmbeddedWorker:
        kwargs.setdefault("poll_seconds", 0.05)
        worker = embedded.EmbeddedWorker(**kwargs)  # type: ignore[arg-type]
        worker.start()
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


def test_errors_are_logged_and_thread_survives(worker_factory, caplog):
    worker_factory(threads=1, schedule={})
    with caplog.at_level(logging.ERROR, logger="civicloop.core.jobs"):
        dispatch.send_now(f"{__name__}.explode", 1)
        dispatch.send_now("civicloop.nowhere.task")
        dispatch.send_now(f"{__name__}.record", 2)
        assert ran.wait(30)  # returns at once when the job runs; generous for a loaded CI machine
    assert calls == [(2,)]
    assert "job bug" in caplog.text
    assert "civicloop.nowhere.task" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_run_after_commit_waits_for_commit(worker_factory):
    worker_factory(schedule={})
    with transaction.atomic():
        jobs.run_after_commit(f"{__name__}.record", "committed")
        time.sleep(0.3)  # a window in which nothing may run: only time passing shows that
        assert calls == []
    assert ran.wait(30)  # returns at once when the job runs; generous for a loaded CI machine
    assert calls == [("committed",)]

    ran.clear()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        jobs.run_after_commit(f"{__name__}.record", "rolled back")
        1 / 0  # noqa: B018
    time.sleep(0.3)  # time for a wrongly scheduled job to run, were there one
    assert calls == [("committed",)]


def test_celery_mode_sends_by_name_after_commit(
    settings, monkeypatch, db, django_capture_on_commit_callbacks
):
    from celery import current_app

    sent: list[tuple[str, list[object]]] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args: sent.append((name, args)))
    settings.WORKER_MODE = "celery"
    with django_capture_on_commit_callbacks(execute=True):
        jobs.run_after_commit("civicloop.core.outbox.tasks.outbox_deliver_task", 7)
        assert sent == []
    assert sent == [("civicloop.core.outbox.tasks.outbox_deliver_task", [7])]
    assert embedded._jobs.empty()


def test_broker_down_is_swallowed(settings, monkeypatch, caplog):
    from celery import current_app

    def down(*a: object, **k: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app, "send_task", down)
    settings.WORKER_MODE = "celery"
    dispatch.send_now("x.y", 1)  # does not raise
    assert "sweep will catch up" in caplog.text


def test_full_queue_drops_hint(monkeypatch):
    import queue

    monkeypatch.setattr(embedded, "_jobs", queue.Queue(maxsize=1))
    assert embedded.submit("a.b", 1) is True
    assert embedded.submit("a.b", 2) is False


def test_scheduler_runs_entries_and_skips_missing_task(worker_factory, caplog):
    with caplog.at_level(logging.WARNING, logger="civicloop.core.jobs"):
        worker_factory(
            threads=1,
            schedule={
                "tick": {"task": f"{__name__}.record", "schedule": 0.1, "args": ("tick",)},
                "broken": {"task": f"{__name__}.explode", "schedule": 0.1},
                "sla": {"task": "civicloop.core.cases.tasks.sla_sweep_missing", "schedule": 0.1},
            },
        )
        assert wait_for(lambda: len(calls) >= 3, timeout=30)
    assert set(calls) == {("tick",)}
    assert "sla_sweep_missing" in caplog.text and "skipped" in caplog.text


def test_start_embedded_worker_is_one_per_process(settings):
    settings.CELERY_BEAT_SCHEDULE = {}
    first = jobs.start_embedded_worker()
    try:
        assert jobs.start_embedded_worker() is first
        assert first.running
    finally:
        first.stop()
    assert not first.running
    second = jobs.start_embedded_worker()
    try:
        assert second is not first
    finally:
        second.stop()


@pytest.mark.django_db(transaction=True)
def test_embedded_worker_delivers_after_commit_and_sweeps(worker_factory, settings, monkeypatch):
    delivered: list[str] = []
    lock = threading.Lock()

    def deliver(kind: str, payload: dict[str, object], *, idempotency_key: str) -> str:
        with lock:
            delivered.append(idempotency_key)
        return "ok"

    monkeypatch.setattr(notify, "deliver", deliver)
    settings.WORKER_MODE = "embedded"
    # A long sweep interval first: only the after-commit hint can deliver.
    worker = worker_factory(
        schedule={
            "outbox-sweep": {"task": "civicloop.core.outbox.tasks.outbox_sweep", "schedule": 3600}
        }
    )
    with transaction.atomic():
        outbox_enqueue(kind="webhook", payload={}, idempotency_key="hinted")
        time.sleep(0.3)  # a window in which nothing may be delivered before the commit
        assert delivered == []
    # Watch the delivery itself, not the table: on the tests' in-memory SQLite (shared
    # cache) a read here while the worker writes fails the write ("table is locked").
    assert wait_for(lambda: delivered == ["hinted"])
    worker.stop()  # lets the job finish (marked sent) before the table is read
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 1

    # A message whose hint was lost (written while no worker ran and the queue dropped
    # it): only the scheduled sweep can deliver it.
    with transaction.atomic():
        outbox_enqueue(kind="webhook", payload={}, idempotency_key="lost")
    while not embedded._jobs.empty():
        embedded._jobs.get_nowait()
    sweeper = worker_factory(
        threads=1,
        schedule={
            "outbox-sweep": {"task": "civicloop.core.outbox.tasks.outbox_sweep", "schedule": 0.2}
        },
    )
    assert wait_for(lambda: sorted(delivered) == ["hinted", "lost"])
    sweeper.stop()
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 2
