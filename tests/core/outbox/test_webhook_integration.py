"""The outbox through the real webhook adapter to a loopback receiver (no mocks)."""

from __future__ import annotations

import pytest

from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.outbox.services import outbox_deliver, outbox_enqueue
from civicloop.notify.fakes import FakeWebhookReceiver

Status = OutboxMessage.Status
SECRET = "integration-secret"
pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_SIGNING_SECRET = SECRET
    with FakeWebhookReceiver(secret=SECRET) as fake:
        yield fake


def _enqueue(receiver: FakeWebhookReceiver, key: str) -> OutboxMessage:
    return outbox_enqueue(
        kind="webhook",
        payload={"url": f"{receiver.url}/cases", "body": {"case": "WL-1", "event": "closed"}},
        idempotency_key=key,
        reference="WL-1",
    )


def test_delivered_signed_with_key(receiver):
    msg = _enqueue(receiver, "case-WL-1-closed")
    assert outbox_deliver(message_id=msg.pk) is True
    msg.refresh_from_db()
    assert msg.status == Status.SENT
    assert [m["idempotency_key"] for m in receiver.received] == ["case-WL-1-closed"]
    assert receiver.received[0]["body"] == {"case": "WL-1", "event": "closed"}
    assert msg.provider_id == receiver.received[0]["id"]


def test_receiver_outage_is_retried_then_sent(receiver):
    msg = _enqueue(receiver, "k")
    receiver.fail_next(1, 503)
    assert outbox_deliver(message_id=msg.pk) is False
    msg.refresh_from_db()
    assert (msg.status, msg.attempts) == (Status.PENDING, 1)
    assert "503" in msg.last_error
    OutboxMessage.objects.filter(pk=msg.pk).update(available_at=msg.created_at)
    assert outbox_deliver(message_id=msg.pk) is True
    assert receiver.accepted_keys() == {"k": 1}


def test_rejected_request_is_dead(receiver):
    msg = _enqueue(receiver, "k")
    receiver.fail_next(1, 400)
    assert outbox_deliver(message_id=msg.pk) is False
    msg.refresh_from_db()
    assert msg.status == Status.DEAD
    assert "400" in msg.last_error
