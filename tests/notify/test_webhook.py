"""Signed webhooks against FakeWebhookReceiver."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from civicloop.notify import PermanentDeliveryError, TransientDeliveryError, deliver, webhook
from civicloop.notify.fakes import FakeWebhookReceiver

BODY = {"event": "case.closed", "case": {"number": "WL-000123", "summary": "已办结"}}


# Our webhook spec (civicloop/notify/webhook.py docstring): "sha256=" + hex HMAC-SHA256,
# keyed by the signing secret, of f"{timestamp}." followed by the exact body; the body is
# compact UTF-8 JSON with sorted keys. The expected values were computed once, by hand,
# with Python's json/hmac/hashlib, not with our code.
SPEC_SECRET = "whsec-example"
SPEC_TIMESTAMP = "1714521600"
SPEC_BODY = {"id": "WL-000123", "event": "case.closed"}
SPEC_BODY_BYTES = b'{"event":"case.closed","id":"WL-000123"}'
SPEC_SIGNATURE = "sha256=c80e714742d334cf1dd932f339bd9cde94a678f0e62cccf1486bd457d962e7ee"


def test_body_and_signature_match_the_spec_example() -> None:
    # Given the spec's example, when we encode and sign it, then we get the fixed vector.
    assert webhook.encode_body(SPEC_BODY) == SPEC_BODY_BYTES
    assert webhook.sign(SPEC_BODY_BYTES, SPEC_TIMESTAMP, SPEC_SECRET) == SPEC_SIGNATURE


def test_sent_webhook_carries_the_spec_signature(
    receiver: FakeWebhookReceiver, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the clock at the spec's timestamp (the receiver accepts any age here),
    settings.WEBHOOK_SIGNING_SECRET = SPEC_SECRET
    receiver.secret = SPEC_SECRET
    receiver.tolerance = 10**10
    clock = SimpleNamespace(time=lambda: float(SPEC_TIMESTAMP))
    monkeypatch.setattr(webhook, "time", clock)  # webhook.py's clock only, not the process's
    # when the example is delivered,
    deliver("webhook", {"url": receiver.url, "body": SPEC_BODY}, idempotency_key="k-spec")
    # then the bytes and headers on the wire are the vector's.
    [request] = receiver.requests
    assert request.body == SPEC_BODY_BYTES
    assert request.headers["x-civicloop-timestamp"] == SPEC_TIMESTAMP
    assert request.headers["x-civicloop-signature"] == SPEC_SIGNATURE


def test_signed_webhook_is_accepted(receiver: FakeWebhookReceiver) -> None:
    event_id = deliver(
        "webhook", {"url": f"{receiver.url}/hooks/a", "body": BODY}, idempotency_key="k1"
    )
    [message] = receiver.received
    assert event_id == message["id"]
    assert message["body"] == BODY
    assert message["path"] == "/hooks/a"
    assert message["idempotency_key"] == "k1"
    headers = receiver.requests[0].headers
    assert headers["idempotency-key"] == "k1"
    assert headers["x-civicloop-signature"] == webhook.sign(
        receiver.requests[0].body, headers["x-civicloop-timestamp"], receiver.secret
    )


def test_wrong_secret_is_refused_permanently(receiver: FakeWebhookReceiver, settings: Any) -> None:
    settings.WEBHOOK_SIGNING_SECRET = "not-the-secret"
    with pytest.raises(PermanentDeliveryError, match="401"):
        deliver("webhook", {"url": receiver.url, "body": BODY}, idempotency_key="k1")
    assert receiver.received == []


def test_tampered_body_fails_verification(receiver: FakeWebhookReceiver) -> None:
    body = webhook.encode_body(BODY)
    timestamp = str(int(time.time()))
    headers = {
        "Idempotency-Key": "k1",
        "X-Civicloop-Timestamp": timestamp,
        "X-Civicloop-Signature": webhook.sign(body, timestamp, receiver.secret),
    }
    tampered = body.replace("已办结".encode(), "未办结".encode())
    assert requests.post(receiver.url, data=tampered, headers=headers, timeout=5).status_code == 401
    assert requests.post(receiver.url, data=body, headers=headers, timeout=5).status_code == 200


def test_stale_timestamp_fails_verification() -> None:
    body = b"{}"
    old = str(int(time.time()) - 3600)
    assert not webhook.verify(body, old, webhook.sign(body, old, "s"), "s")
    assert not webhook.verify(body, "soon", "sha256=00", "s")


def test_repeated_key_is_deduplicated(receiver: FakeWebhookReceiver) -> None:
    payload = {"url": receiver.url, "body": BODY}
    first = deliver("webhook", payload, idempotency_key="k1")
    second = deliver("webhook", payload, idempotency_key="k1")
    assert first == second
    assert len(receiver.received) == 1
    assert len(receiver.duplicates) == 1
    assert receiver.accepted_keys()["k1"] == 2


@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_5xx_and_retry_later_are_transient(receiver: FakeWebhookReceiver, status: int) -> None:
    receiver.fail_next(1, status)
    with pytest.raises(TransientDeliveryError, match=str(status)):
        deliver("webhook", {"url": receiver.url, "body": BODY}, idempotency_key="k1")


@pytest.mark.parametrize("status", [400, 404, 410])
def test_other_4xx_are_permanent(receiver: FakeWebhookReceiver, status: int) -> None:
    receiver.fail_next(1, status)
    with pytest.raises(PermanentDeliveryError, match=str(status)):
        deliver("webhook", {"url": receiver.url, "body": BODY}, idempotency_key="k1")


def test_timeout_is_transient(
    receiver: FakeWebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "TIMEOUT", (1.0, 0.3))
    receiver.delay_seconds = 1.5
    with pytest.raises(TransientDeliveryError):
        deliver("webhook", {"url": receiver.url, "body": BODY}, idempotency_key="k1")


def test_connection_refused_is_transient(settings: Any) -> None:
    settings.WEBHOOK_SIGNING_SECRET = "s"
    fake = FakeWebhookReceiver(secret="s").start()
    url = fake.url
    fake.stop()
    with pytest.raises(TransientDeliveryError):
        deliver("webhook", {"url": url, "body": BODY}, idempotency_key="k1")


def test_missing_secret_or_bad_url_is_permanent(settings: Any) -> None:
    settings.WEBHOOK_SIGNING_SECRET = ""
    with pytest.raises(PermanentDeliveryError, match="SECRET"):
        deliver("webhook", {"url": "http://127.0.0.1:9/", "body": BODY}, idempotency_key="k1")
    settings.WEBHOOK_SIGNING_SECRET = "s"
    with pytest.raises(PermanentDeliveryError, match="http"):
        deliver("webhook", {"url": "file:///etc/passwd", "body": BODY}, idempotency_key="k1")
