"""Waiting in tests for something to happen, never for a guessed length of time.

`wait_until` polls a condition up to a deadline and returns as soon as it holds, so a fast
machine does not wait and a slow one is not failed by a too-short sleep. `mqtt_subscribed`
turns the broker's SUBACK into an event. A bare `time.sleep` stays only where time itself
must pass (a timeout to expire, a window in which nothing may happen), with a comment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def wait_until(
    predicate: Callable[[], object], *, timeout: float = 10.0, interval: float = 0.05
) -> bool:
    """True as soon as `predicate()` is truthy; False if it still is not after `timeout`
    seconds (checked once more at the deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def mqtt_subscribed(consumer: Any) -> threading.Event:
    """An event set when the broker acknowledges the subscription of an MqttConsumer.

    Call before `consumer.start()`: the consumer subscribes from its connect callback, and a
    message published before the broker has the subscription would not reach it."""
    subscribed = threading.Event()
    consumer._client.on_subscribe = lambda *args: subscribed.set()
    return subscribed
