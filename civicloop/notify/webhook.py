"""Signed outgoing webhooks.

Each POST carries:

* `Idempotency-Key`: the outbox key; a receiver must treat a repeated key as the same event.
* `X-Civicloop-Timestamp`: Unix seconds when the request was signed.
* `X-Civicloop-Signature`: "sha256=" + hex HMAC-SHA256, keyed by settings.WEBHOOK_SIGNING_SECRET,
  of the bytes f"{timestamp}." followed by the exact request body.

The body is serialized once, here, and those very bytes are both signed and sent, so a
receiver verifies the raw body it received rather than a re-serialization.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

import requests
from django.conf import settings

from civicloop.notify.errors import PermanentDeliveryError, TransientDeliveryError

# (connect, read) seconds.
TIMEOUT = (3.0, 10.0)
SIGNATURE_HEADER = "X-Civicloop-Signature"
TIMESTAMP_HEADER = "X-Civicloop-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# 408 and 429 are the receiver asking us to come back later, not a rejection of the event.
RETRYABLE_4XX = frozenset({408, 429})


def encode_body(body: Any) -> bytes:
    """The canonical bytes sent for `body`: compact UTF-8 JSON with sorted keys."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(body: bytes, timestamp: str, secret: str) -> str:
    """The X-Civicloop-Signature value for `body` sent at `timestamp`: "sha256=<hex>"."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    body: bytes, timestamp: str, signature: str, secret: str, *, tolerance: int = 300
) -> bool:
    """True when `signature` matches and `timestamp` is within `tolerance` seconds of now.

    For receivers (and the fake): compares in constant time, and refuses stale timestamps so
    that a captured request cannot be replayed later.
    """
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(body, timestamp, secret), signature)


def send(payload: dict[str, Any], *, idempotency_key: str) -> str:
    """POST payload["body"] as signed JSON to payload["url"]; return the receiver's id.

    The id is the "id" of a JSON object answer when there is one, else the idempotency key.
    2xx is success; timeouts, connection errors, 5xx, 408 and 429 raise
    TransientDeliveryError; other statuses (4xx, and 3xx since redirects are not followed:
    re-POSTing a signed event elsewhere is not ours to decide) raise PermanentDeliveryError.
    """
    url = str(payload.get("url") or "")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PermanentDeliveryError(f"webhook URL must be http(s): {url!r}")
    secret = settings.WEBHOOK_SIGNING_SECRET
    if not secret:
        raise PermanentDeliveryError("WEBHOOK_SIGNING_SECRET not set; refusing to send unsigned")
    body = encode_body(payload.get("body", {}))
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        IDEMPOTENCY_HEADER: idempotency_key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(body, timestamp, secret),
    }
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise TransientDeliveryError(f"webhook {url} unreachable: {exc}") from exc
    status = response.status_code
    if 200 <= status < 300:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("id"):
            return str(answer["id"])
        return idempotency_key
    if status >= 500 or status in RETRYABLE_4XX:
        raise TransientDeliveryError(f"webhook {url} answered HTTP {status}")
    raise PermanentDeliveryError(f"webhook {url} answered HTTP {status}")
