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


# --------------------------------------------------------------------------- /healthz/ready


def ready(client: Client, status: int) -> dict[str, Any]:
    response = client.get("/healthz/ready")
    assert response.status_code == status, response.content
    return json.loads(response.content)  # type: ignore[no-any-return]


@pytest.fixture
def beat_now(settings: Any) -> Any:
    from django.core.cache import cache

    from civicloop.core.jobs.heartbeat import worker_heartbeat

    cache.clear()
    settings.MQTT_URL = ""  # no MQTT consumer expected
    worker_heartbeat()
    return cache


def test_ready_answers_every_figure_when_all_is_well(client: Client, beat_now: Any) -> None:
    OutboxMessage.objects.create(kind="sms", idempotency_key="r1", status="pending")
    data = ready(client, 200)
    assert data["status"] == "ok" and data["failing"] == {}
    assert data["database"] == "ok" and data["cache"] == "ok"
    assert data["worker"].startswith("last heartbeat 0 s ago")
    assert data["outbox_pending"] == 1 and data["outbox_oldest_pending_s"] <= 1


def test_ready_fails_without_a_worker_and_comes_back_with_one(
    client: Client, beat_now: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /healthz said ok with 27 messages pending and no worker running: /healthz/ready not.
    from civicloop.core.jobs import heartbeat

    beat_now.delete(heartbeat.HEARTBEAT_KEY)
    for i in range(27):
        OutboxMessage.objects.create(kind="sms", idempotency_key=f"w{i}", status="pending")
    assert healthz(client)["status"] == "ok"
    data = ready(client, 503)
    assert data["failing"] == {"worker": "no heartbeat yet"}
    # A worker that beat 95 s ago (the limit is 90) is named with its silence.
    real_time = heartbeat.time.time
    monkeypatch.setattr(heartbeat.time, "time", lambda: real_time() - 95)
    heartbeat.worker_heartbeat()
    monkeypatch.undo()
    data = ready(client, 503)
    assert data["worker"] == "no heartbeat for 95 s"
    heartbeat.worker_heartbeat()
    assert ready(client, 200)["outbox_pending"] == 27


def test_ready_fails_on_an_outbox_that_does_not_drain(
    client: Client, beat_now: Any, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    settings.READY_OUTBOX_MAX_AGE_SECONDS = 300
    settings.READY_OUTBOX_MAX_PENDING = 2
    now = timezone.now()
    OutboxMessage.objects.create(
        kind="sms",
        idempotency_key="late",
        status="pending",
        available_at=now - timedelta(seconds=310),
    )
    # A message waiting for its next retry is not late yet.
    OutboxMessage.objects.create(
        kind="sms",
        idempotency_key="retry",
        status="pending",
        available_at=now + timedelta(minutes=5),
    )
    data = ready(client, 503)
    assert data["outbox_oldest_pending_s"] in (310, 311)
    assert set(data["failing"]) == {"outbox_oldest_pending_s"}
    for i in range(2):
        OutboxMessage.objects.create(kind="sms", idempotency_key=f"more{i}", status="pending")
    data = ready(client, 503)
    assert data["outbox_pending"] == 3
    assert set(data["failing"]) == {"outbox_oldest_pending_s", "outbox_pending"}


def test_ready_fails_when_the_database_or_cache_is_down(
    client: Client, beat_now: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(health.cache, "set", broken)
    data = ready(client, 503)
    assert data["failing"] == {"cache": "unreachable (ConnectionError)"}
    monkeypatch.undo()

    class DownConnection:
        vendor = "postgresql"

        def cursor(self) -> Any:
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", DownConnection())
    data = ready(client, 503)
    assert data["failing"] == {"database": "unreachable (OperationalError)"}
    assert "outbox_pending" not in data
