"""Shared test fixtures.

Tests that need a real server (PostgreSQL, Redis, RabbitMQ, MQTT) ask for it through
`require_service`; when the server does not answer they are skipped, unless
CIVICLOOP_REQUIRE_SERVICES=1 (as in CI), where that is a failure.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
    "mqtt": ("127.0.0.1", 1883),
    "nats": ("127.0.0.1", 4222),
}


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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests that create users do not need it to be."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
