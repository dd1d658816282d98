"""Modules are chosen by CIVICLOOP_MODULES: a disabled module has no page, API path,
periodic task or table, and `manage.py modules` says which run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civicloop.core import registry
from civicloop.core.registry import Channel, ModuleSpec, RegistryError

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, resolve
schema = json.loads(Client().get("/api/v1/openapi.json").content)
def routed(path):
    try:
        resolve(path)
        return True
    except Resolver404:
        return False
print(json.dumps({
    "paths": sorted(schema["paths"]),
    "beat": sorted(settings.CELERY_BEAT_SCHEDULE),
    "apps": settings.INSTALLED_APPS,
    "review_page": routed("/firelane/review/"),
    "inbox_page": routed("/deputy/inbox/"),
}))
"""


def probe(modules: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "CIVICLOOP_MODULES"}
    env.update(DJANGO_SETTINGS_MODULE="civicloop.config.settings", CIVICLOOP_MODULES=modules)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_opinions_alone_has_no_fire_lane_path_task_or_app() -> None:
    seen = probe("opinions")
    assert "/api/v1/deputies" in seen["paths"]
    assert not [p for p in seen["paths"] if "firelane" in p]
    assert "firelane-sweep" not in seen["beat"]
    assert "civicloop.firelane" not in seen["apps"]
    assert seen["inbox_page"] and not seen["review_page"]


def test_firelane_alone_has_no_opinion_path() -> None:
    seen = probe("firelane")
    assert "/api/v1/firelane/cameras" in seen["paths"]
    assert "/api/v1/deputies" not in seen["paths"]
    assert "firelane-sweep" in seen["beat"]
    assert seen["review_page"] and not seen["inbox_page"]


def test_manage_modules_lists_channels_routes_and_tasks() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CIVICLOOP_MODULES"}
    env["CIVICLOOP_MODULES"] = "firelane"
    out = subprocess.run(
        [sys.executable, "manage.py", "modules", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = {m["name"]: m for m in json.loads(out.stdout)}
    assert listed["opinions"]["enabled"] is False and listed["opinions"]["routes"] == []
    firelane = listed["firelane"]
    assert firelane["enabled"] is True
    assert [c["code"] for c in firelane["channels"]] == ["firelane"]
    assert firelane["channels"][0]["intakes"] == ["module"]
    assert "/intake/isapi/<str:serial>/" in firelane["routes"]
    assert "GET /api/v1/firelane/cameras" in firelane["api"]
    assert "firelane-sweep" in [t["name"] for t in firelane["periodic_tasks"]]


def test_a_second_spec_under_a_registered_name_is_refused() -> None:
    spec = registry.modules()[0]
    registry.register_module(spec)  # the same spec again (a second ready()): nothing happens
    clone = ModuleSpec(name=spec.name, label=spec.label, app=spec.app)
    with pytest.raises(RegistryError, match="registered twice"):
        registry.register_module(clone)


def test_a_channel_naming_an_unknown_workflow_is_refused() -> None:
    spec = ModuleSpec(
        name="zz_broken",
        label="zz",
        app="civicloop.zz_broken",
        channels=(Channel(code="zz", name="zz", number_prefix="ZZ", workflow="no_such_flow"),),
    )
    with pytest.raises(RegistryError, match="unknown workflow"):
        registry.register_module(spec)
    assert "zz_broken" not in {m.name for m in registry.modules()}
