"""`GET /healthz`: the state of each component, for load balancers and operators.

200 with status "ok" when everything answers, "degraded" when the cache or the queue
does not; 503 only when the database is down (nothing works without it). Component
details never include credentials.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from civicloop.core.registry import ReadyCheck

logger = logging.getLogger("civicloop.api.health")

BROKER_TIMEOUT_SECONDS = 2


def database_state() -> dict[str, Any]:
    """SELECT 1 on the default database."""
    state: dict[str, Any] = {"engine": connection.vendor}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        logger.warning("healthz: database check failed: %s", exc)
        return {**state, "state": "error", "error": type(exc).__name__}
    return {**state, "state": "ok"}


def cache_state() -> dict[str, Any]:
    """Write and read back a short-lived key through the default cache."""
    # The configured backend class (django.core.cache.cache is only a proxy to it).
    backend = str(settings.CACHES["default"]["BACKEND"]).rsplit(".", 1)[-1]
    key = f"civicloop:healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=10)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:  # a cache client raises its own errors
        logger.warning("healthz: cache check failed: %s", exc)
        return {"state": "error", "backend": backend, "error": type(exc).__name__}
    return {"state": "ok" if ok else "error", "backend": backend}


def queue_state() -> dict[str, Any]:
    """The job engine: the embedded worker needs nothing; Celery needs its broker."""
    mode = getattr(settings, "WORKER_MODE", "embedded")
    if mode != "celery":
        return {"state": "ok", "mode": mode}
    from kombu import Connection

    url = getattr(settings, "CELERY_BROKER_URL", "")
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            transport = conn.transport_cls if isinstance(conn.transport_cls, str) else "broker"
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # kombu wraps transport errors in several classes
        logger.warning("healthz: broker check failed: %s", exc)
        return {"state": "error", "mode": mode, "error": type(exc).__name__}
    return {"state": "ok", "mode": mode, "transport": transport}


def outbox_counts() -> dict[str, int] | None:
    """Pending and dead notifications, when the outbox app is installed."""
    try:
        model = apps.get_model("outbox", "OutboxMessage")
    except LookupError:
        return None
    try:
        return {
            "pending": model.objects.filter(status__in=["pending", "sending"]).count(),
            "dead": model.objects.filter(status="dead").count(),
        }
    except DatabaseError:
        return None


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    """Each component's state; 503 when the database is down."""
    database = database_state()
    body: dict[str, Any] = {
        "status": "ok",
        "database": database,
        "queue": queue_state(),
        "cache": cache_state(),
    }
    if database["state"] == "ok":
        counts = outbox_counts()
        if counts is not None:
            body["outbox"] = counts
    if any(body[c]["state"] != "ok" for c in ("database", "queue", "cache")):
        body["status"] = "degraded"
    return JsonResponse(body, status=200 if database["state"] == "ok" else 503)


def _worker_check(now: float) -> ReadyCheck:
    from civicloop.core.jobs.heartbeat import worker_last_beat

    try:
        beat = worker_last_beat()
    except Exception as exc:  # the cache is checked (and reported) on its own
        return ReadyCheck("worker", "unknown", f"heartbeat unreadable ({type(exc).__name__})")
    if beat is None:
        return ReadyCheck("worker", "no heartbeat yet", "no heartbeat yet")
    age = max(0, round(now - float(beat["at"])))
    text = f"last heartbeat {age} s ago ({beat.get('host', '?')})"
    if age > settings.READY_WORKER_MAX_SECONDS:
        return ReadyCheck("worker", f"no heartbeat for {age} s", f"no heartbeat for {age} s")
    return ReadyCheck("worker", text)


def _outbox_checks() -> list[ReadyCheck]:
    """Messages due and not sent yet, and how long the oldest of them has waited past
    its time (a message waiting for a later retry is not late yet)."""
    from django.db.models import Count, Min
    from django.utils import timezone

    try:
        model = apps.get_model("outbox", "OutboxMessage")
    except LookupError:
        return []
    now = timezone.now()
    due = model.objects.filter(status__in=["pending", "sending"], available_at__lte=now)
    figures = due.aggregate(n=Count("pk"), oldest=Min("available_at"))
    pending = int(figures["n"] or 0)
    oldest = round((now - figures["oldest"]).total_seconds()) if figures["oldest"] else 0
    return [
        ReadyCheck(
            "outbox_pending",
            pending,
            f"{pending} messages waiting" if pending > settings.READY_OUTBOX_MAX_PENDING else "",
        ),
        ReadyCheck(
            "outbox_oldest_pending_s",
            oldest,
            f"oldest waiting {oldest} s" if oldest > settings.READY_OUTBOX_MAX_AGE_SECONDS else "",
        ),
    ]


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """Readiness, for a load balancer and an operator: 200 with every figure when the
    platform can do its work, 503 naming what is not (`failing`: name -> what is wrong;
    each figure keeps its key, e.g. "worker": "no heartbeat for 95 s",
    "outbox_oldest_pending_s": 310): the database or the cache unreachable, no
    worker heartbeat within READY_WORKER_MAX_SECONDS, the outbox's backlog or its oldest
    due message over their limits, and whatever the modules check (an MQTT consumer's
    lag). `/healthz` stays the liveness answer."""
    import time

    from civicloop.core import registry

    checks: list[ReadyCheck] = []
    database, cached = database_state(), cache_state()
    for name, state in (("database", database), ("cache", cached)):
        problem = "" if state["state"] == "ok" else f"unreachable ({state.get('error', '')})"
        checks.append(ReadyCheck(name, problem or "ok", problem))
    if cached["state"] == "ok":
        checks.append(_worker_check(time.time()))
    if database["state"] == "ok":
        try:
            checks.extend(_outbox_checks())
        except DatabaseError as exc:
            checks.append(ReadyCheck("outbox", "unknown", f"unreadable ({type(exc).__name__})"))
        for check in registry.readiness_checks():
            try:
                result = check()
            except Exception as exc:  # a module's check failing is itself a finding
                logger.exception("healthz/ready: a module's check failed")
                result = ReadyCheck(getattr(check, "__name__", "module"), "error", repr(exc)[:200])
            if result is not None:
                checks.append(result)
    failing = {c.name: c.problem for c in checks if c.problem}
    body: dict[str, Any] = {"status": "fail" if failing else "ok", "failing": failing}
    body.update((c.name, c.value) for c in checks)
    return JsonResponse(body, status=503 if failing else 200)
