"""Shared test fixtures.

Tests that need a real server (PostgreSQL, Redis, RabbitMQ, MQTT) ask for it through
`require_service`; when the server does not answer they are skipped, unless
CIVICLOOP_REQUIRE_SERVICES=1 (as in CI), where that is a failure.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sms_inbox import sms_inbox  # noqa: F401 (a fixture for every test)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
    "mqtt": ("127.0.0.1", 1883),
    "nats": ("127.0.0.1", 4222),
}


def _disabled_modules() -> set[str]:
    """Available modules that CIVICLOOP_MODULES leaves out (their code is not installed)."""
    from django.apps import apps
    from django.conf import settings

    return {
        app.rsplit(".", 1)[1]
        for app in settings.CIVICLOOP_MODULES_AVAILABLE
        if not apps.is_installed(app)
    }


# The file-level form: `pytestmark = ... needs_modules("<module>") ...` (up to a blank line).
_NEEDS = re.compile(r"""^pytestmark\s*=.*?needs_modules\(([^)]*)\)""", re.MULTILINE | re.DOTALL)


def pytest_ignore_collect(collection_path: Path, config: Any) -> bool | None:
    """With a module disabled, its tests are not collected: those under tests/<module>/,
    and any test file that declares `pytestmark = pytest.mark.needs_modules("<module>")`
    (read before import, since importing a disabled module's models fails)."""
    disabled = _disabled_modules()
    if not disabled:
        return None
    parts = collection_path.relative_to(ROOT).parts
    if len(parts) >= 2 and parts[0] == "tests" and parts[1] in disabled:
        return True
    if collection_path.suffix == ".py" and collection_path.is_file():
        for match in _NEEDS.finditer(collection_path.read_text(encoding="utf-8")):
            if "\n\n" not in match.group(0) and disabled & set(re.findall(r"\w+", match.group(1))):
                return True
    return None


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """A single test marked `needs_modules("<module>")` is skipped when it is disabled
    (a file whose imports need the module says so in its `pytestmark`, see above)."""
    disabled = _disabled_modules()
    if not disabled:
        return
    for item in items:
        for marker in item.iter_markers("needs_modules"):
            missing = disabled & set(marker.args)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"module disabled: {', '.join(missing)}"))


def services_required() -> bool:
    return os.environ.get("CIVICLOOP_REQUIRE_SERVICES", "") not in ("", "0")


def service_reachable(name: str) -> bool:
    host, port = SERVICES[name]
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    """Skip (or, with CIVICLOOP_REQUIRE_SERVICES=1, fail) when the server is down."""
    if service_reachable(name):
        return
    message = f"{name} not reachable at {SERVICES[name][0]}:{SERVICES[name][1]}"
    if services_required():
        pytest.fail(message + " (CIVICLOOP_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    require_service("redis")
    # Each xdist worker gets its own Redis database so runs do not see each other.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = 10 + int(worker.removeprefix("gw") or 0) % 5
    return f"redis://127.0.0.1:6379/{index}"


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def demo_city(db: None) -> None:
    """Wenling's areas, units and demo logins (and the modules' demo data)."""
    from civicloop.core.demo import demo_city_build

    demo_city_build()


@pytest.fixture
def demo_all(db: None, settings: Any) -> None:
    """The whole demo, as `load_demo` makes it (every module's data; no year of opinions)."""
    from civicloop.core.demo import demo_city_build

    settings.DEMO_SKIP_MODULES = []
    demo_city_build()


@pytest.fixture
def demo_year(db: None, settings: Any) -> None:
    """The demo city with a year of opinions over every town (a small year: 3 per town)."""
    from civicloop.core.demo import demo_city_build

    settings.DEMO_OPINION_HISTORY = 48
    demo_city_build()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests that create users do not need it to be. The
    demo's year of opinions is left out too, unless a test asks for it (`demo_year`)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEMO_OPINION_HISTORY = 0
    # The 人大 applications' demos take seconds each; `demo_city` leaves them out (their
    # own tests load them, and `demo_all` loads everything).
    settings.DEMO_SKIP_MODULES = [
        "suggestions",
        "projects",
        "oversight",
        "bulletins",
        "studios",
        "budgeting",
    ]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters (SMS codes, submissions, API calls) live in the cache; each
    test starts with none, as it starts with an empty database."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _calendar_for_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every database test sees the working calendar the product ships with.

    - Transactional tests flush every table, including the rows the calendar's data
      migration seeded; they are seeded again here, so no test depends on what ran before.
    - A year chinese-calendar has not published yet (next year, late in the year) is
      computed provisionally, as in the product (core.sla.working_days): tests that run
      on today's date keep working in December without any stand-in.
    """
    names = set(request.fixturenames)
    if not (
        {"transactional_db", "live_server", "db"} & names
        or request.node.get_closest_marker("django_db")
    ):
        yield
        return
    # The same database access the test itself gets: its django_db marker decides
    # (transaction or not) when it has one, otherwise the fixtures it asked for.
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
    elif {"transactional_db", "live_server"} & names:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")

    from civicloop.core.sla.calendar_source import seed_from_library
    from civicloop.core.sla.models import CalendarDay, CalendarYear
    from civicloop.core.sla.working_days import invalidate_local_cache

    if not CalendarYear.objects.exists():
        seed_from_library(CalendarYear, CalendarDay)
    invalidate_local_cache()
    yield
    # Whatever the test wrote is rolled back or flushed; so must this process's cached
    # copy of the calendar be.
    invalidate_local_cache()


@pytest.fixture(autouse=True)
def _fresh_data_registry(_calendar_for_the_test: None) -> Iterator[None]:
    """Applications and workflow definitions are seen through a process-local snapshot
    (core.forms.sources): a rolled-back test must not leave its rows visible to the next,
    and a test that counts queries counts its own, not the snapshot's first load (loaded
    here, as a running process has it already)."""
    from civicloop.core.forms import sources

    sources.reload()
    yield
    sources.invalidate()
