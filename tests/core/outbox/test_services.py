from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from civicloop import notify
from civicloop.core.jobs import embedded
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.outbox.services import (
    outbox_backoff,
    outbox_deliver,
    outbox_enqueue,
    outbox_retry,
    outbox_sweep,
)

Status = OutboxMessage.Status
pytestmark = pytest.mark.django_db


def _enqueue(key: str = "k1", **kw: object) -> OutboxMessage:
    return outbox_enqueue(
        kind="webhook",
        payload={"url": "http://127.0.0.1:9/", "body": {"n": 1}},
        idempotency_key=key,
        reference="WL-2025-0001",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def _empty_job_queue():
    # Hints from other tests must not leak into this one (and vice versa).
    yield
    while not embedded._jobs.empty():
        embedded._jobs.get_nowait()


class _Rollback(Exception):
    pass


def test_enqueue_in_rolled_back_transaction_leaves_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(_Rollback),
        transaction.atomic(),
    ):
        _enqueue()
        assert OutboxMessage.objects.count() == 1
        raise _Rollback
    assert OutboxMessage.objects.count() == 0
    assert callbacks == []
    assert embedded._jobs.empty()


def test_enqueue_twice_gives_one_row_and_one_hint(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = _enqueue("dup")
        second = outbox_enqueue(kind="sms", payload={"other": True}, idempotency_key="dup")
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().payload["body"] == {"n": 1}
    assert len(callbacks) == 1
    assert embedded._jobs.get_nowait() == (
        "civicloop.core.outbox.tasks.outbox_deliver_task",
        (first.pk,),
    )


def test_enqueue_duplicate_keeps_callers_transaction_usable():
    _enqueue("dup")
    with transaction.atomic():
        _enqueue("dup")
        # The duplicate's IntegrityError was confined to a savepoint.
        _enqueue("other")
    assert OutboxMessage.objects.count() == 2


def test_enqueue_rejects_unknown_kind():
    with pytest.raises(ValueError):
        outbox_enqueue(kind="fax", payload={}, idempotency_key="x")


def test_deliver_success(fake_deliver):
    msg = _enqueue()
    assert outbox_deliver(message_id=msg.pk) is True
    msg.refresh_from_db()
    assert msg.status == Status.SENT
    assert msg.provider_id == "prov-k1"
    assert msg.sent_at is not None
    assert msg.attempts == 1
    assert msg.locked_until is None
    assert fake_deliver.calls == [("webhook", msg.payload, "k1")]


def test_deliver_already_sent_is_a_noop(fake_deliver):
    msg = _enqueue()
    outbox_deliver(message_id=msg.pk)
    assert outbox_deliver(message_id=msg.pk) is True
    assert len(fake_deliver.calls) == 1
    assert OutboxMessage.objects.get().attempts == 1


def test_deliver_skips_message_not_yet_due(fake_deliver):
    msg = _enqueue(available_at=timezone.now() + timedelta(minutes=5))
    assert outbox_deliver(message_id=msg.pk) is False
    assert fake_deliver.calls == []
    assert OutboxMessage.objects.get().status == Status.PENDING


def test_deliver_skips_message_leased_by_another_worker(fake_deliver):
    msg = _enqueue()
    OutboxMessage.objects.filter(pk=msg.pk).update(
        status=Status.SENDING, attempts=1, locked_until=timezone.now() + timedelta(minutes=1)
    )
    assert outbox_deliver(message_id=msg.pk) is False
    assert fake_deliver.calls == []


def test_transient_failures_back_off_longer_then_dead(fake_deliver, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 8

    def fail(*_):
        raise notify.TransientDeliveryError("503 from provider")

    fake_deliver.behaviour = fail
    msg = _enqueue()
    delays = []
    for attempt in range(1, 9):
        before = timezone.now()
        assert outbox_deliver(message_id=msg.pk) is False
        msg.refresh_from_db()
        assert msg.attempts == attempt
        assert "503" in msg.last_error
        if attempt < 8:
            assert msg.status == Status.PENDING
            delay = (msg.available_at - before).total_seconds()
            delays.append(delay)
            # Not due yet: a hint arriving now does nothing.
            assert outbox_deliver(message_id=msg.pk) is False
            OutboxMessage.objects.filter(pk=msg.pk).update(available_at=timezone.now())
    assert msg.status == Status.DEAD
    assert len(fake_deliver.calls) == 8
    # Equal jitter: within [half, full] of 30 s * 2**(n-1), so never shorter than before.
    for n, delay in enumerate(delays, start=1):
        ceiling = 30 * 2 ** (n - 1)
        assert ceiling / 2 - 1 <= delay <= ceiling + 1
    assert delays == sorted(delays)
    assert delays[-1] > 10 * delays[0]
    # Dead is final: neither a hint nor the sweep touches it.
    assert outbox_deliver(message_id=msg.pk) is False
    assert outbox_sweep() == 0
    assert len(fake_deliver.calls) == 8


def test_backoff_is_capped(settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 30
    settings.OUTBOX_BACKOFF_CAP_SECONDS = 3600
    for _ in range(50):
        assert outbox_backoff(attempts=20) <= timedelta(hours=1)
        assert outbox_backoff(attempts=20) >= timedelta(minutes=30)
        assert timedelta(seconds=15) <= outbox_backoff(attempts=1) <= timedelta(seconds=30)


def test_unexpected_error_is_retried(fake_deliver):
    def fail(*_):
        raise RuntimeError("bug in adapter")

    fake_deliver.behaviour = fail
    msg = _enqueue()
    assert outbox_deliver(message_id=msg.pk) is False
    msg.refresh_from_db()
    assert msg.status == Status.PENDING
    assert "bug in adapter" in msg.last_error


def test_permanent_failure_is_dead_at_once(fake_deliver):
    def fail(*_):
        raise notify.PermanentDeliveryError("invalid phone")

    fake_deliver.behaviour = fail
    msg = _enqueue()
    assert outbox_deliver(message_id=msg.pk) is False
    msg.refresh_from_db()
    assert msg.status == Status.DEAD
    assert msg.attempts == 1
    assert "invalid phone" in msg.last_error


def test_sweep_delivers_due_and_expired_leases_only(fake_deliver):
    now = timezone.now()
    _enqueue("due")
    later = _enqueue("later", available_at=now + timedelta(minutes=10))
    crashed = _enqueue("crashed")
    busy = _enqueue("busy")
    OutboxMessage.objects.filter(pk=crashed.pk).update(
        status=Status.SENDING, attempts=1, locked_until=now - timedelta(seconds=1)
    )
    OutboxMessage.objects.filter(pk=busy.pk).update(
        status=Status.SENDING, attempts=1, locked_until=now + timedelta(minutes=1)
    )
    assert outbox_sweep() == 2
    assert sorted(fake_deliver.keys) == ["crashed", "due"]
    status = dict(OutboxMessage.objects.values_list("idempotency_key", "status"))
    assert status == {
        "due": Status.SENT,
        "later": Status.PENDING,
        "crashed": Status.SENT,
        "busy": Status.SENDING,
    }
    assert OutboxMessage.objects.get(pk=crashed.pk).attempts == 2
    assert later.pk  # untouched until due


def test_sweep_respects_limit(fake_deliver):
    for i in range(5):
        _enqueue(f"k{i}")
    assert outbox_sweep(limit=3) == 3
    assert outbox_sweep(limit=3) == 2
    assert outbox_sweep() == 0


def test_expired_lease_on_last_attempt_becomes_dead(fake_deliver, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    msg = _enqueue()
    OutboxMessage.objects.filter(pk=msg.pk).update(
        status=Status.SENDING, attempts=3, locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert outbox_sweep() == 0
    msg.refresh_from_db()
    assert msg.status == Status.DEAD
    assert fake_deliver.calls == []


def test_stale_worker_cannot_overwrite_newer_attempt(fake_deliver, settings):
    """A worker whose lease expired records its failure only if nobody claimed since."""
    msg = _enqueue()
    holder: dict[str, object] = {}

    def slow_then_fail(*_):
        # While "we" are stuck, the lease expires and another worker reclaims the row.
        if "reclaimed" not in holder:
            holder["reclaimed"] = True
            OutboxMessage.objects.filter(pk=msg.pk).update(locked_until=timezone.now())
            fake_deliver.behaviour = None
            assert outbox_deliver(message_id=msg.pk) is True
            raise notify.TransientDeliveryError("timeout")

    fake_deliver.behaviour = slow_then_fail
    assert outbox_deliver(message_id=msg.pk) is False
    msg.refresh_from_db()
    assert msg.status == Status.SENT
    assert msg.attempts == 2
    assert msg.last_error == ""


def test_retry_revives_dead_letter(fake_deliver, django_capture_on_commit_callbacks):
    def fail(*_):
        raise notify.PermanentDeliveryError("bad template")

    fake_deliver.behaviour = fail
    msg = _enqueue()
    outbox_deliver(message_id=msg.pk)
    assert OutboxMessage.objects.get().status == Status.DEAD

    fake_deliver.behaviour = None
    while not embedded._jobs.empty():
        embedded._jobs.get_nowait()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry(message_id=msg.pk) is True
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == (Status.PENDING, 0)
    assert embedded._jobs.get_nowait()[1] == (msg.pk,)
    assert outbox_deliver(message_id=msg.pk) is True
    assert OutboxMessage.objects.get().status == Status.SENT
    # Only dead letters can be revived.
    assert outbox_retry(message_id=msg.pk) is False
