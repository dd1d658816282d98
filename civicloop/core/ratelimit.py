"""The one request limiter: at most `limit` hits per key in a window of `window` seconds,
counted in the Django cache (Redis in production, shared by every web process).

Each check is also the count, in one atomic cache operation, so concurrent requests can
never all pass a check that only one of them should: the count is `cache.add` (SET NX)
then `cache.incr` (INCR), atomic in Redis and under the lock of the local-memory cache.
A window opens at a key's first hit and lasts `window` seconds (so there is no burst of
twice the limit around a clock-aligned boundary); a hit refused for the limit is not
counted. With the local-memory cache each process counts on its own.

Callers key limits by what they limit: an API key, a phone's digest, or the client's
address from `civicloop.core.client_ip.client_ip` (never REMOTE_ADDR directly: behind
nginx that is nginx).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal

SUBMISSIONS_PER_MINUTE = 60
_PREFIX = "civicloop:ratelimit"


class RateLimitCode(StrEnum):
    RATE_LIMITED = "rate_limited"


class RateLimitExceeded(DomainError):
    """Too many requests; retry after `retry_after` seconds. `scope` names the limit."""

    codes = RateLimitCode
    messages = {RateLimitCode.RATE_LIMITED: _("请求过于频繁，请稍后再试。")}
    refusals = {RateLimitCode.RATE_LIMITED: Refusal.RATE_LIMITED}

    def __init__(self, retry_after: int, *, scope: str = ""):
        super().__init__(RateLimitCode.RATE_LIMITED, retry_after=retry_after)
        self.scope = scope


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One limit on one key: at most `limit` hits of `ident` in `scope` per `window`
    seconds."""

    scope: str
    ident: str
    limit: int
    window: int = 60


def _window_start(base: str, *, now: float, window: int) -> float:
    """When the current window of `base` opened: now, if this hit opens it. Concurrent
    first hits agree, because only one `cache.add` of the anchor succeeds."""
    anchor = f"{base}:start"
    for _attempt in range(2):  # the anchor may expire between add and get: open anew
        if cache.add(anchor, now, timeout=window):
            return now
        start = cache.get(anchor)
        if start is not None:
            return float(start)
    return now


def _count_key(base: str, start: float) -> str:
    return f"{base}:{int(start * 1000)}"


def rate_limit_hit(*, scope: str, ident: str, limit: int, window: int = 60) -> None:
    """Count one hit of `ident` in `scope`, or raise RateLimitExceeded when `limit` hits
    were already counted in its current window (then nothing is counted).

    Guarantees: of any number of concurrent hits at most `limit` pass per window, on every
    process sharing the cache; `retry_after` is the whole seconds until the window ends."""
    base = f"{_PREFIX}:{scope}:{ident}"
    now = time.time()
    start = _window_start(base, now=now, window=window)
    key = _count_key(base, start)
    # One second longer than the anchor: the count must not vanish inside its window.
    if cache.add(key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # gone between add and incr (evicted): this hit opens it again
            cache.add(key, 1, timeout=window + 1)
            count = 1
    if count > limit:
        # Refused hits are not counted, so a client that keeps knocking is let in again
        # when the window ends, and an abandoned request can be given back exactly.
        _give_back(key)
        retry_after = max(1, int(start + window - now + 0.999))
        raise RateLimitExceeded(retry_after=retry_after, scope=scope)


def rate_limits_hit(limits: Sequence[RateLimit]) -> None:
    """Count one hit on each of `limits`, all or none: when one refuses (RateLimitExceeded,
    naming its scope), the hits already counted on the others are given back."""
    taken: list[RateLimit] = []
    try:
        for limit in limits:
            rate_limit_hit(
                scope=limit.scope, ident=limit.ident, limit=limit.limit, window=limit.window
            )
            taken.append(limit)
    except RateLimitExceeded:
        rate_limits_release(taken)
        raise


def rate_limits_release(limits: Sequence[RateLimit]) -> None:
    """Give back one hit on each of `limits` (see `rate_limit_release`)."""
    for limit in limits:
        rate_limit_release(scope=limit.scope, ident=limit.ident)


def rate_limit_release(*, scope: str, ident: str) -> None:
    """Give back one hit counted by `rate_limit_hit` in the current window, for a request
    that was counted and then refused for another reason (so it did nothing). Does
    nothing once that window has ended."""
    base = f"{_PREFIX}:{scope}:{ident}"
    start = cache.get(f"{base}:start")
    if start is not None:
        _give_back(_count_key(base, float(start)))


def _give_back(key: str) -> None:
    # ValueError: the window ended meanwhile, nothing is left to give back.
    with contextlib.suppress(ValueError):
        cache.decr(key)
