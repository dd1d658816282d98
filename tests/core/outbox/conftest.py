"""A stand-in for civicloop.notify.deliver, patched where the outbox looks it up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from civicloop import notify


class FakeDeliver:
    """Records each call; `behaviour` may raise to simulate provider failures."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self.behaviour: Callable[[str, dict[str, Any], str], None] | None = None
        self.lock = threading.Lock()

    def __call__(self, kind: str, payload: dict[str, Any], *, idempotency_key: str) -> str:
        with self.lock:
            self.calls.append((kind, payload, idempotency_key))
        if self.behaviour is not None:
            self.behaviour(kind, payload, idempotency_key)
        return f"prov-{idempotency_key}"

    @property
    def keys(self) -> list[str]:
        return [c[2] for c in self.calls]


@pytest.fixture
def fake_deliver(monkeypatch: pytest.MonkeyPatch) -> FakeDeliver:
    fake = FakeDeliver()
    monkeypatch.setattr(notify, "deliver", fake)
    return fake
