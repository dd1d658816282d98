"""Fixtures for the web shell: the demo city, logged-in clients, fresh opinion cases."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit, transition
from civicloop.core.demo import demo_city_build
from civicloop.core.units.models import Unit

STATION = "station-331081100"
TOWN = "town-331081100"


@pytest.fixture(autouse=True)
def web_settings(settings, tmp_path: Path) -> None:
    """Fast password hashing and files on a temporary disk."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def demo(db) -> None:
    demo_city_build()


@pytest.fixture
def login_as(demo, client: Client) -> Callable[[str], Client]:
    def _login(username: str) -> Client:
        client.force_login(User.objects.get(username=username))
        return client

    return _login


@pytest.fixture
def new_opinion(demo) -> Callable[..., Case]:
    """A newly submitted opinion received by the 泽国镇 station, optionally moved on."""

    def _make(*, anonymous: bool = False, steps: tuple[str, ...] = (), title: str = "") -> Case:
        case = case_submit(
            draft=CaseDraft(
                channel="opinion",
                title=title or "村口路灯不亮",
                body="村口的路灯坏了两周，晚上看不见路。",
                area=Area.objects.get(name="泽国镇"),
                contact_name="陈小明",
                contact_phone="13912345678",
                anonymous=anonymous,
                owner_unit=Unit.objects.get(code=STATION),
            )
        )
        station = User.objects.get(username="station_zeguo")
        handler = User.objects.get(username="handler_zeguo")
        for action in steps:
            transition(
                case=case,
                action=action,
                actor=handler if action in ("claim", "submit_result") else station,
                unit=Unit.objects.get(code=TOWN) if action == "dispatch" else None,
                grade="town" if action == "dispatch" else "",
                note="已处理。" if action == "submit_result" else "",
            )
        case.refresh_from_db()
        return case

    return _make


def jpeg_upload(name: str = "photo.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 200)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")
