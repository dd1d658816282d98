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
