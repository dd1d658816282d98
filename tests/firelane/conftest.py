"""Fixtures of the 生命通道 tests: a site with one camera and one lane, images from the
shared labelled plates, and sightings built the way the intake stores them."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

PLATES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "plates"


@pytest.fixture
def fl_site(demo_city: None) -> Any:
    """创业大厦小区 from the demo, with thresholds T1 = 5 min, T2 = 30 min, gap 3 min."""
    from civicloop.firelane.models import Site

    site = Site.objects.get(code="chuangye")
    site.warn_after_s, site.notice_after_s, site.gap_s = 300, 1800, 180
    site.save()
    return site


@pytest.fixture
def fl_camera(fl_site: Any) -> Any:
    return fl_site.cameras.get(serial="DS-CY-001")


def store_image(data: bytes, name: str) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return default_storage.save(f"firelane/test/{digest[:16]}-{name}", ContentFile(data)), digest


def scene_bytes(plate_box: bool = True) -> bytes:
    """A synthetic scene (no real plate): enough for evidence and owner-page crops."""
    image = Image.new("RGB", (640, 480), (90, 110, 130))
    buf = io.BytesIO()
    image.save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def make_sighting(fl_camera: Any) -> Callable[..., Any]:
    """A sighting as the intake stores it; `trusted=True` skips plate reading (the plate
    is taken as agreed), for tests of what happens after the plate is known."""
    from civicloop.firelane.models import Sighting

    counter = {"n": 0}

    def make(
        plate: str,
        at: datetime,
        *,
        camera: Any = None,
        trusted: bool = True,
        scene: bytes | None = None,
        crop: bytes | None = None,
        box: list[float] | None = None,
        camera_plate: str | None = None,
    ) -> Any:
        counter["n"] += 1
        cam = camera or fl_camera
        fields: dict[str, Any] = {}
        if scene is not None:
            fields["scene"], fields["scene_sha256"] = store_image(scene, "scene.jpg")
        if crop is not None:
            fields["crop"], fields["crop_sha256"] = store_image(crop, "plate.jpg")
        return Sighting.objects.create(
            camera=cam,
            source=Sighting.Source.API,
            event_key=f"t{counter['n']}",
            camera_time=at,
            taken_at=at,
            camera_plate=plate if camera_plate is None else camera_plate,
            plate=plate if trusted else "",
            color="blue" if trusted else "",
            plate_check=Sighting.Check.AGREED if trusted else Sighting.Check.PENDING,
            lane=cam.lanes.first() if trusted else None,
            box=box,
            **fields,
        )

    return make


@pytest.fixture
def registry_records(tmp_path: Path) -> Callable[[list[tuple[str, str, str]]], None]:
    """Owners in the local registry mirror, loaded the way the city loads them: a CSV
    export through `manage.py import_registry`."""
    from django.core.management import call_command

    def load(rows: list[tuple[str, str, str]]) -> None:
        path = tmp_path / f"registry-{len(rows)}-{rows[0][0] if rows else 'none'}.csv"
        lines = ["hphm,hpzl,syr,sjhm"] + [f"{p},02,{n},{ph}" for p, n, ph in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        call_command("import_registry", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    return load


@pytest.fixture
def t0() -> datetime:
    return timezone.now() - timedelta(hours=1)


def shared_plate_image(file: str) -> bytes:
    return (PLATES_DIR / file).read_bytes()
