"""`GET /api/v1/firelane/cameras` (a fixed interface): any API key from create_api_key."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from civicloop.firelane.models import Camera

pytestmark = pytest.mark.django_db


def _key() -> str:
    out = io.StringIO()
    call_command("create_api_key", "城管平台", stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_cameras_need_an_api_key(fl_site: Any) -> None:
    client = Client()
    assert client.get("/api/v1/firelane/cameras").status_code == 401
    bad = client.get("/api/v1/firelane/cameras", HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 401 and bad["WWW-Authenticate"] == "Bearer"


def test_cameras_list_with_site_status_and_last_seen(fl_site: Any) -> None:
    now = timezone.now()
    Camera.objects.filter(serial="DS-CY-001").update(last_seen_at=now, status="online")
    Camera.objects.filter(serial="DS-CY-002").update(
        last_seen_at=now - timedelta(hours=3),
        status="online",  # silent beyond its heartbeat
    )
    response = Client().get("/api/v1/firelane/cameras", HTTP_AUTHORIZATION=f"Bearer {_key()}")
    assert response.status_code == 200
    rows = {row["serial"]: row for row in response.json()}
    assert len(rows) == Camera.objects.count() == 6
    assert rows["DS-CY-001"]["site"] == fl_site.name
    assert rows["DS-CY-001"]["status"] == "online"
    assert rows["DS-CY-001"]["last_seen"].startswith(str(timezone.localdate(now))[:4])
    assert rows["DS-CY-002"]["status"] == "offline"
    assert (
        rows["chuangye_gate"]["status"] == "offline" and rows["chuangye_gate"]["last_seen"] is None
    )
