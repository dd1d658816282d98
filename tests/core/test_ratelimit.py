"""The one rate limiter (core/ratelimit.py): check and count in one atomic step, per key
and window, on the local-memory cache and on Redis."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from civicloop.core import ratelimit
from civicloop.core.ratelimit import (
    RateLimit,
    RateLimitExceeded,
    rate_limit_hit,
    rate_limit_release,
    rate_limits_hit,
)


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request: pytest.FixtureRequest, settings: Any) -> str:
    """The limiter on each cache backend production may use."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    return str(request.param)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1_000_000.0
        monkeypatch.setattr(ratelimit.time, "time", lambda: self.now)


def passes(**kw: Any) -> bool:
    try:
        rate_limit_hit(**kw)
    except RateLimitExceeded:
        return False
    return True


def test_the_limit_holds_per_key_and_window(
    shared_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    # Given a limit of 3 a minute
    hit = {"scope": "t", "ident": "a", "limit": 3, "window": 60}
    # When 3 hits come, then a 4th 20 seconds later
    assert all(passes(**hit) for _ in range(3))
    clock.now += 20
    with pytest.raises(RateLimitExceeded) as refused:
        rate_limit_hit(**hit)
    # Then the 4th is refused until the window that opened with the first hit ends
    assert refused.value.retry_after == 40 and refused.value.scope == "t"
    # And another key, or another scope, is not held back
    assert passes(**{**hit, "ident": "b"}) and passes(**{**hit, "scope": "u"})


def test_a_new_window_opens_with_the_full_limit(shared_cache: str) -> None:
    # Given a key at its limit, knocked on again (refused)
    hit = {"scope": "w", "ident": "a", "limit": 2, "window": 1}
    assert passes(**hit) and passes(**hit) and not passes(**hit) and not passes(**hit)
    # When its window (real time: the cache's own expiry ends it) is over
    time.sleep(1.2)
    # Then it has its full limit again: the refusals were not counted
    assert passes(**hit) and passes(**hit) and not passes(**hit)


def test_concurrent_hits_never_pass_more_than_the_limit(shared_cache: str) -> None:
    # Given 40 requests at once against a limit of 5
    passed: list[bool] = []
    start = threading.Barrier(8)

    def knock() -> None:
        start.wait()
        for _ in range(5):
            passed.append(passes(scope="race", ident="x", limit=5, window=60))

    threads = [threading.Thread(target=knock) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly 5 passed: the check is the count
    assert passed.count(True) == 5


def test_several_limits_are_counted_all_or_none(
    shared_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch)
    phone = RateLimit("phone", "p1", 5, 3600)
    address = RateLimit("ip", "1.2.3.4", 1, 3600)
    # Given an address whose one hit is used
    rate_limits_hit([RateLimit("phone", "p0", 5, 3600), address])
    # When a phone is counted together with that address
    with pytest.raises(RateLimitExceeded) as refused:
        rate_limits_hit([phone, address])
    # Then the refusal names the address, and the phone's hit was given back
    assert refused.value.scope == "ip"
    assert all(passes(scope="phone", ident="p1", limit=5, window=3600) for _ in range(5))


def test_a_released_hit_can_be_used_again(
    shared_cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Clock(monkeypatch)
    hit = {"scope": "r", "ident": "a", "limit": 1, "window": 60}
    assert passes(**hit) and not passes(**hit)
    rate_limit_release(scope="r", ident="a")
    assert passes(**hit) and not passes(**hit)
    # Releasing where nothing was counted does nothing harmful
    rate_limit_release(scope="r", ident="nobody")
