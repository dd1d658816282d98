"""The ISAPI camera allowlist sees the camera's real address behind a trusted proxy
(core.client_ip; TRUSTED_PROXIES)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.firelane.models import Sighting
from tests.firelane.intake_fixtures import (
    intake_camera_copies_forgotten,  # noqa: F401 (autouse)
    intake_site_camera,
    isapi_body,
    isapi_xml,
    plate_jpeg,
    scene_jpeg,
)

CLIENT = "203.0.113.7"


@pytest.fixture
def behind_nginx(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "127.0.0.1"]


# --------------------------------------------------------------------------- ISAPI allowlist


def isapi_push(client: Client, serial: str, **extra: str) -> Any:
    body, content_type = isapi_body(
        xml=isapi_xml(when=timezone.now() - timedelta(seconds=5)),
        scene=scene_jpeg(),
        plate=plate_jpeg(),
    )
    return client.generic("POST", f"/intake/isapi/{serial}/", body, content_type, **extra)


@pytest.mark.django_db
def test_the_isapi_allowlist_sees_the_camera_behind_a_trusted_proxy(
    settings: Any, tmp_path: Any, behind_nginx: None
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Given a camera allowed only from its own address, pushing through nginx
    camera = intake_site_camera(serial="CAM-PROXY", ip_allowlist="192.0.2.10")
    # When an untrusted peer claims to be the camera in X-Forwarded-For
    spoofed = isapi_push(
        Client(REMOTE_ADDR=CLIENT), camera.serial, HTTP_X_FORWARDED_FOR="192.0.2.10"
    )
    # Then it is refused for its address
    assert spoofed.status_code == 403, spoofed.content
    assert spoofed.json()["reason"] == "address"
    # When the camera's push arrives through the trusted proxy
    response = isapi_push(
        Client(REMOTE_ADDR="127.0.0.1"), camera.serial, HTTP_X_FORWARDED_FOR="192.0.2.10"
    )
    # Then the allowlist sees the camera and the push is stored
    assert response.status_code == 200, response.content
    assert Sighting.objects.filter(camera=camera).count() == 1
