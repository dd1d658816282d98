"""Notification adapters behind one interface.

    deliver(kind, payload, idempotency_key=...) -> provider message id

`kind` is one of KINDS. The outbox (civicloop.core.outbox) is the only caller in
production code; nothing else sends directly. This package imports nothing of core.
"""

from civicloop.notify.dispatch import KINDS, deliver
from civicloop.notify.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError

__all__ = ["KINDS", "DeliveryError", "PermanentDeliveryError", "TransientDeliveryError", "deliver"]
