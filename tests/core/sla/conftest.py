"""Each test starts with an empty working-day snapshot: the database is rolled back
between tests, so a snapshot loaded in one test must not leak into the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from civicloop.core.sla.working_days import invalidate_local_cache


@pytest.fixture(autouse=True)
def _fresh_calendar_snapshot() -> Iterator[None]:
    invalidate_local_cache()
    yield
    invalidate_local_cache()
