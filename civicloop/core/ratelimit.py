"""A fixed-window request counter in the Django cache (Redis in production).

Used to limit submissions per API key and per client address; the window is one
minute by default. With the local-memory cache each process counts on its own.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

SUBMISSIONS_PER_MINUTE = 60


class RateLimitExceeded(Exception):
    """Too many requests; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"retry after {retry_after}s")


def rate_limit_hit(*, scope: str, ident: str, limit: int, window: int = 60) -> None:
    """Count one request of `ident` in `scope`; raise RateLimitExceeded over `limit`."""
    now = time.time()
    bucket = int(now // window)
    key = f"civicloop:ratelimit:{scope}:{ident}:{bucket}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        raise RateLimitExceeded(retry_after=max(1, int((bucket + 1) * window - now) + 1))


def client_address(request: HttpRequest) -> str:
    """The client's address as the web server saw it (proxies set REMOTE_ADDR)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")
