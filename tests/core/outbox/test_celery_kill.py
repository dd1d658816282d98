"""The outbox survives a worker killed mid-delivery: nothing lost, nothing accepted twice.

Real Redis as the Celery broker, the pytest-django PostgreSQL test database, real
`celery -A civicloop worker` subprocesses and the real signed webhook adapter, delivering
to a loopback receiver that deduplicates by Idempotency-Key (civicloop.notify.fakes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.db import connection, transaction

from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.outbox.services import outbox_enqueue
from civicloop.notify.fakes import FakeWebhookReceiver
from tests.conftest import ROOT, require_service
from tests.waiting import wait_until

Status = OutboxMessage.Status
MESSAGES = 30
SECRET = "kill-test-signing-secret"
SWEEP = "civicloop.core.outbox.tasks.outbox_sweep"


def _wait_for(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    return wait_until(predicate, timeout=timeout, interval=step)


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A", "civicloop", "worker",
        "-P", "prefork", "-c", "1",
        "-l", "info",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"killtest-{log.stem}@%h",
    ]  # fmt: skip
    with log.open("wb") as out:
        # Its own session: SIGKILL to the group takes the pool child with the parent,
        # as when a container or machine dies.
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _kill(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    _kill(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _kill(proc, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    redis_url, settings, tmp_path
):
    require_service("redis")
    require_service("postgres")
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL test database shared with the worker processes")
    from celery import current_app

    redis.Redis.from_url(redis_url).flushdb()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.core.outbox.killtest_settings",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": redis_url,
        "WEBHOOK_SIGNING_SECRET": SECRET,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "INFO",
    }
    # This process only enqueues: hints go to Redis exactly as in production.
    app = current_app._get_current_object()
    old_broker = app.conf.broker_url
    app.conf.broker_url = redis_url
    settings.WORKER_MODE = "celery"

    # Every request takes 0.3 s, so the kill below lands while one is in flight.
    receiver = FakeWebhookReceiver(secret=SECRET, delay_seconds=0.3).start()
    workers: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    try:
        first = _start_worker(env, tmp_path / "worker1.log")
        workers.append(first)
        keys = [f"killtest-{i}" for i in range(MESSAGES)]
        for i, key in enumerate(keys):
            with transaction.atomic():  # as a case transition would: row + hint on commit
                outbox_enqueue(
                    kind="webhook",
                    payload={"url": f"{receiver.url}/hook", "body": {"seq": i}},
                    idempotency_key=key,
                    reference=f"WL-KILL-{i:03d}",
                )

        assert _wait_for(lambda: len(receiver.requests) >= 8, timeout=30), (
            tmp_path / "worker1.log"
        ).read_text()
        time.sleep(0.1)  # inside the receiver's 0.3 s: the delivery is in flight
        _kill(first, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = {
            "requests": len(receiver.requests),
            "sent": OutboxMessage.objects.filter(status=Status.SENT).count(),
            "sending": OutboxMessage.objects.filter(status=Status.SENDING).count(),
        }

        second = _start_worker(env, tmp_path / "worker2.log")
        workers.append(second)

        def all_sent() -> bool:
            return OutboxMessage.objects.filter(status=Status.SENT).count() == MESSAGES

        # Hints still queued in Redis are delivered by the new worker; the one the dead
        # worker held (and its lease) are recovered only by the sweep.
        deadline = time.monotonic() + 40
        sweeps = 0
        while not all_sent() and time.monotonic() < deadline:
            app.send_task(SWEEP)
            sweeps += 1
            _wait_for(all_sent, timeout=1.5)

        elapsed = time.monotonic() - started
        rows = list(
            OutboxMessage.objects.order_by("id").values("idempotency_key", "status", "attempts")
        )
        accepted = receiver.accepted_keys()
        first_accepts = [m["idempotency_key"] for m in receiver.received]
        duplicates = len(receiver.duplicates)
        report = (
            f"{MESSAGES} messages; killed after {killed_at['requests']} requests "
            f"({killed_at['sent']} sent, {killed_at['sending']} mid-delivery); "
            f"{len(receiver.requests)} raw requests, {duplicates} duplicate(s) dropped by "
            f"the receiver; {sweeps} sweep(s); max attempts "
            f"{max(r['attempts'] for r in rows)}; {elapsed:.1f}s"
        )
        print(report)
        (tmp_path / "report.txt").write_text(report)

        assert all(r["status"] == Status.SENT for r in rows), (
            rows,
            (tmp_path / "worker2.log").read_text()[-3000:],
        )
        assert sorted(first_accepts) == sorted(keys)  # none lost, each accepted once
        assert set(accepted) == set(keys)
        assert len(receiver.requests) == MESSAGES + duplicates
        assert killed_at["sent"] < MESSAGES  # the kill really happened mid-run
    finally:
        for worker in workers:
            _stop(worker)
        receiver.stop()
        redis.Redis.from_url(redis_url).flushdb()  # no unacked hint left for a later run
        app.conf.broker_url = old_broker
        app.close()  # drop the pooled Redis connections
