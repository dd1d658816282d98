"""Our JSON form (POST /intake/events/) with an API key."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.firelane.intake_fixtures import (
    intake_camera_copies_forgotten,  # noqa: F401 (autouse)
    intake_site_camera,
    plate_jpeg,
    scene_jpeg,
)

SERIAL = "VENDOR-CAM-7"
URL = "/intake/events/"


@pytest.fixture
def intake_api(settings: Any, tmp_path: Any, db: None) -> tuple[Client, str]:
    from civicloop.core.accounts.services import api_key_create

    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The allowlist is for direct pushes; an API sender is known by its key instead.
    intake_site_camera(serial=SERIAL, vendor="other", ip_allowlist="10.9.9.9")
    _, raw = api_key_create(name="vendor bridge")
    return Client(), raw


def event(**overrides: Any) -> dict[str, Any]:
    body = {
        "camera": SERIAL,
        "event_id": "evt-0001",
        "time": timezone.localtime().isoformat(),
        "plate": "浙J·A1234",
        "color": "yellow",
        "confidence": 0.91,
        "scene_jpeg": base64.b64encode(scene_jpeg()).decode(),
        "plate_jpeg": base64.b64encode(plate_jpeg()).decode(),
        "box": [0.4, 0.6, 0.5, 0.66],
    }
    body.update(overrides)
    return body


def post(client: Client, body: Any, token: str | None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def test_a_key_is_required(intake_api: tuple[Client, str]) -> None:
    from civicloop.firelane.models import IntakeRefusal, Sighting

    client, _ = intake_api
    assert post(client, event(), None).status_code == 401
    assert post(client, event(), "clk_bogus_key").status_code == 401
    assert not Sighting.objects.exists()
    assert IntakeRefusal.objects.get(source="api", reason="unauthorized").count == 2


def test_an_event_is_stored_then_a_replay_is_a_duplicate(intake_api: tuple[Client, str]) -> None:
    from civicloop.firelane.models import Sighting

    client, key = intake_api
    # When the vendor posts an event, and posts it again
    first = post(client, event(), key)
    again = post(client, event(), key)
    # Then one row, both answers 200
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "stored"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["sighting"] == first.json()["sighting"]
    sighting = Sighting.objects.get()
    assert sighting.source == "api" and sighting.event_key == "api:evt-0001"
    assert sighting.camera_plate == "浙JA1234"
    assert sighting.camera_color == "yellow"
    assert sighting.camera_confidence == pytest.approx(0.91)
    assert sighting.box == pytest.approx([0.4, 0.6, 0.5, 0.66])
    assert sighting.scene_sha256 and sighting.crop_sha256


@pytest.mark.parametrize(
    ("overrides", "status", "reason"),
    [
        ({"time": "2026-01-01T08:00:00"}, 400, "malformed"),  # no offset
        ({"confidence": 1.5}, 400, "malformed"),
        ({"box": [0.5, 0.5, 0.4, 0.6]}, 400, "malformed"),
        ({"scene_jpeg": "%%%not base64"}, 400, "malformed"),
        ({"scene_jpeg": base64.b64encode(b"GIF89a not a jpeg").decode()}, 400, "bad_image"),
        ({"camera": "NOPE"}, 404, "unknown_camera"),
        ({"time": (timezone.now() - timedelta(days=3)).isoformat()}, 422, "late"),
    ],
    ids=["naive-time", "confidence", "box", "base64", "not-jpeg", "unknown", "late"],
)
def test_bad_events_are_refused_with_a_reason(
    intake_api: tuple[Client, str], overrides: dict[str, Any], status: int, reason: str
) -> None:
    client, key = intake_api
    response = post(client, event(**overrides), key)
    assert response.status_code == status
    assert response.json()["reason"] == reason


def test_a_body_that_is_not_json_is_400(intake_api: tuple[Client, str]) -> None:
    client, key = intake_api
    assert post(client, b"{nope", key).status_code == 400
    assert post(client, [1, 2], key).status_code == 400
