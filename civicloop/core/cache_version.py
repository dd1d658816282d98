"""A version number in the shared cache that tells every process "reload now".

A process that changes rows it and others keep in memory (the working-days calendar,
applications and workflow definitions) bumps the version after commit; the others read
it (a cache read, not a query) and reload when it moved. A cache outage never stops the
platform: reads give None and each user's own periodic table check bounds staleness."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def shared_version(key: str) -> object:
    """The current version (0 when never bumped), None when the cache cannot be read."""
    try:
        return cache.get(key, 0)
    except Exception:
        logger.warning("shared version %s unreadable from cache", key, exc_info=True)
        return None


def shared_version_bump(key: str) -> None:
    """Move the version so that every process reloads."""
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except ValueError:
        # The key vanished (eviction) between add and incr: any new value is a change.
        cache.set(key, time.time_ns(), timeout=None)
    except Exception:
        logger.warning("shared version %s not bumped in cache", key, exc_info=True)
