"""GET /healthz: each component's state; 503 only when the database is down."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from civicloop.api import health
from civicloop.core.outbox.models import OutboxMessage
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


def healthz(client: Client, status: int = 200) -> dict[str, Any]:
    response = client.get("/healthz")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)  # type: ignore[no-any-return]


def test_embedded_mode_all_ok(client: Client, settings: Any) -> None:
    settings.WORKER_MODE = "embedded"
    OutboxMessage.objects.create(kind="sms", idempotency_key="a", status="pending")
    OutboxMessage.objects.create(kind="sms", idempotency_key="b", status="dead")
    data = healthz(client)
    assert data["status"] == "ok"
    assert data["database"]["state"] == "ok"
    assert data["database"]["engine"] in ("sqlite", "postgresql")
    assert data["cache"] == {"state": "ok", "backend": data["cache"]["backend"]}
    assert data["cache"]["backend"]
    assert data["queue"] == {"state": "ok", "mode": "embedded"}
    assert data["outbox"] == {"pending": 1, "dead": 1}


def test_celery_mode_pings_real_redis(client: Client, settings: Any, redis_url: str) -> None:
    require_service("redis")
    settings.CELERY_BROKER_URL = redis_url
    settings.WORKER_MODE = "celery"
    data = healthz(client)
    assert data["queue"] == {"state": "ok", "mode": "celery", "transport": "redis"}
    assert data["status"] == "ok"
    assert redis_url not in json.dumps(data)


def test_celery_mode_broker_down_is_degraded(client: Client, settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://:secret@127.0.0.1:1/0"
    settings.WORKER_MODE = "celery"
    data = healthz(client)
    assert data["status"] == "degraded"
    assert data["queue"]["state"] == "error" and data["queue"]["mode"] == "celery"
    assert "secret" not in json.dumps(data)


def test_cache_down_is_degraded(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(health.cache, "set", broken)
    data = healthz(client)
    assert data["status"] == "degraded"
    assert data["cache"]["state"] == "error"


def test_database_down_is_503(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    class DownConnection:
        vendor = "postgresql"

        def cursor(self) -> Any:
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", DownConnection())
    data = healthz(client, status=503)
    assert data["status"] == "degraded"
    assert data["database"] == {
        "engine": "postgresql",
        "state": "error",
        "error": "OperationalError",
    }
    assert "outbox" not in data
