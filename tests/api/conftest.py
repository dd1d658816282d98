"""Fixtures for the API tests: the demo city, API keys, signed-in staff clients."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils.translation import trans_real

from civicloop.core.accounts.models import User
from civicloop.core.accounts.services import api_key_create
from civicloop.core.demo import demo_city_build

LOCALE_PO = Path(__file__).resolve().parents[2] / "civicloop/api/locale/en/LC_MESSAGES/django.po"


@pytest.fixture(scope="session", autouse=True)
def api_catalog_compiled() -> None:
    """Compile the API's English catalog when it is missing or stale (`make setup` does
    this too), and drop any catalog Django loaded before it existed."""
    mo = LOCALE_PO.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= LOCALE_PO.stat().st_mtime:
        return
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return
    partial = mo.with_name(f"django.mo.{os.getpid()}")
    subprocess.run([msgfmt, "-o", str(partial), str(LOCALE_PO)], check=True)
    os.replace(partial, mo)  # atomic: parallel workers never read half a file
    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Rate-limit counters live in the cache; each test starts with none."""
    cache.clear()


@pytest.fixture
def demo_city(db: None, settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    demo_city_build()


@pytest.fixture
def api_key(db: None) -> str:
    _key, raw = api_key_create(name="test integration")
    return raw


@pytest.fixture
def full_key(db: None) -> str:
    """A key that may read whole records through Open311."""
    _key, raw = api_key_create(name="records office", can_read_full_records=True)
    return raw


def staff_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def station_client(demo_city: None) -> Client:
    """林站长, staff of the 泽国镇 station (the receiving unit of the demo opinions)."""
    return staff_client("station_zeguo")


@pytest.fixture
def station_user(demo_city: None) -> User:
    return User.objects.get(username="station_zeguo")
