"""Route a message kind to the backend configured for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civicloop.notify import dingtalk, sms, webhook
from civicloop.notify.errors import PermanentDeliveryError

KINDS = ("sms", "dingtalk_robot", "dingtalk_work", "webhook")

_SENDERS: dict[str, Callable[..., str]] = {
    "sms": sms.send,
    "dingtalk_robot": dingtalk.send_robot,
    "dingtalk_work": dingtalk.send_work_notice,
    "webhook": webhook.send,
}


def deliver(kind: str, payload: dict[str, Any], *, idempotency_key: str) -> str:
    """Deliver one message of `kind`; return the provider's message id.

    Raises TransientDeliveryError when a retry may succeed (timeouts, connection errors, 5xx,
    provider throttling) and PermanentDeliveryError otherwise, including an unknown kind, a
    payload that is not an object, or an empty idempotency key. Nothing else escapes for
    provider trouble; a bug of ours still raises its own exception.
    """
    sender = _SENDERS.get(kind)
    if sender is None:
        raise PermanentDeliveryError(f"unknown notification kind {kind!r}")
    if not isinstance(payload, dict):
        raise PermanentDeliveryError(f"{kind} payload must be an object")
    if not idempotency_key:
        raise PermanentDeliveryError("an idempotency key is required")
    return sender(payload, idempotency_key=idempotency_key)
