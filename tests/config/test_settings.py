"""Configuration comes from the environment; production refuses to start without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "k3y-f0r-7he-dep1oy-check-" + "a1b2c3d4e5" * 4,
    "FIELD_ENCRYPTION_KEY": "q2dMUSOnWXDYr4FlSmO8ykf9g5VoE2nN7m8T8uqQYr0=",
    "ALLOWED_HOSTS": "civicloop.example.gov.cn",
    "SITE_URL": "https://civicloop.example.gov.cn",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "ALIPAY_APP_ID": "2021000000000000",
    "ALIPAY_APP_PRIVATE_KEY": "stand-in",
    "ALIPAY_PUBLIC_KEY": "stand-in",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The deployment check must see a deployment's environment, not the test runner's.
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "CIVICLOOP_MODULES")
    }
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "civicloop.config.production"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_names_the_missing_variable(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"Environment variable {missing} is required" in result.stderr


def test_production_settings_pass_the_deploy_check() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_fake_payment_provider() -> None:
    result = manage("check", env={**PRODUCTION_ENV, "PAYMENT_PROVIDER": "fake"})
    assert result.returncode != 0
    assert "PAYMENT_PROVIDER must be 'alipay'" in result.stderr


def test_a_deployment_without_a_module_needs_none_of_its_secrets() -> None:
    """Given a town that runs 民意 alone, when production starts without the fire-lane
    payment keys, then it starts: only the enabled modules' secrets are required."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if not k.startswith("ALIPAY_")}
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**env, "CIVICLOOP_MODULES": "opinions"}
    )
    assert result.returncode == 0, result.stderr
    modules = manage("modules", env={**env, "CIVICLOOP_MODULES": "opinions"})
    assert "opinions (" in modules.stdout and ": enabled" in modules.stdout
    assert "firelane (" in modules.stdout and ": disabled" in modules.stdout


def test_production_refuses_a_cache_each_process_keeps_to_itself() -> None:
    """Rate limits and the applications' change signal must be shared by every web
    process: a memory cache is refused."""
    result = manage("check", env={**PRODUCTION_ENV, "CACHE_URL": "locmemcache://x"})
    assert result.returncode != 0
    assert "CACHE_URL must name a shared cache" in result.stderr


def test_an_unknown_module_name_stops_start_up() -> None:
    result = manage("check", env={**PRODUCTION_ENV, "CIVICLOOP_MODULES": "opinions,grdi"})
    assert result.returncode != 0
    assert "CIVICLOOP_MODULES names unknown module(s) grdi" in result.stderr
