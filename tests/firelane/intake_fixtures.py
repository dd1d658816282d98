"""Helpers of the camera intake tests: a minimal site with cameras, real JPEGs from the
shared plate set, an ISAPI multipart body as a Hikvision camera builds it, and the URLconf
the live server uses (the intake URLs on top of the project's)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

PLATES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "plates"
SCENE_FILE = PLATES_DIR / "hyperlpr_scene_0001.jpg"
PLATE_FILE = PLATES_DIR / "lprnet_0021.jpg"


@pytest.fixture(autouse=True)
def intake_camera_copies_forgotten() -> Iterator[None]:
    """Each test starts without the camera rows the intake keeps per process: a row kept
    from another test's database could otherwise say a camera is already online."""
    from civicloop.firelane.intake.services import camera_copies_clear

    camera_copies_clear()
    yield
    camera_copies_clear()


def scene_jpeg() -> bytes:
    if SCENE_FILE.exists():
        return SCENE_FILE.read_bytes()
    return synthetic_jpeg((320, 240))


def plate_jpeg() -> bytes:
    if PLATE_FILE.exists():
        return PLATE_FILE.read_bytes()
    return synthetic_jpeg((94, 24))


def synthetic_jpeg(size: tuple[int, int], color: tuple[int, int, int] = (90, 110, 130)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def intake_site_camera(
    *, serial: str = "DS-2CD-TEST-001", vendor: str = "hikvision", **camera: Any
) -> Any:
    """A site (with its area and units) and one camera on it; more cameras share the site."""
    from civicloop.core.areas.models import Area
    from civicloop.core.units.models import Unit
    from civicloop.firelane.models import Camera, Site

    area, _ = Area.objects.get_or_create(
        code="331081-intake", defaults={"name": "温岭市（测试）", "kind": "city"}
    )
    unit, _ = Unit.objects.get_or_create(
        code="intake-property", defaults={"name": "测试物业", "kind": "property", "area": area}
    )
    fire, _ = Unit.objects.get_or_create(
        code="intake-fire",
        defaults={"name": "消防救援大队（测试）", "kind": "department", "area": area},
    )
    site, _ = Site.objects.get_or_create(
        code="intake-site",
        defaults={
            "name": "测试小区",
            "address": "温岭市测试路1号",
            "area": area,
            "unit": unit,
            "enforcement_unit": fire,
        },
    )
    values: dict[str, Any] = {"name": f"camera {serial}", "vendor": vendor}
    values.setdefault("ip_allowlist", "127.0.0.1")
    values.update(camera)
    return Camera.objects.create(site=site, serial=serial, **values)


def isapi_xml(
    *,
    plate: str = "浙J12345",
    when: datetime,
    event_type: str = "ANPR",
    uuid_text: str | None = None,
    namespace: str = "http://www.isapi.org/ver20/XMLSchema",
    color: str = "blue",
    confidence: int = 97,
    channel: int = 1,
) -> bytes:
    """An EventNotificationAlert as a Hikvision ANPR camera sends it (trimmed to the fields
    we read and a few we do not)."""
    uuid_line = f"<UUID>{uuid_text}</UUID>" if uuid_text else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="{namespace}">
<ipAddress>127.0.0.1</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:a6:42:f3:2a:d7</macAddress>
<channelID>{channel}</channelID>
<dateTime>{when.isoformat(timespec="milliseconds")}</dateTime>
<activePostCount>1</activePostCount>
<eventType>{event_type}</eventType>
<eventState>active</eventState>
<eventDescription>ANPR</eventDescription>
<channelName>Fire lane 1</channelName>
<ANPR>
<country>3</country>
<licensePlate>{plate}</licensePlate>
<line>1</line>
<direction>forward</direction>
<confidenceLevel>{confidence}</confidenceLevel>
<plateType>92TypeCivil</plateType>
<plateColor>{color}</plateColor>
<licenseBright>173</licenseBright>
<vehicleType>vehicle</vehicleType>
<pictureInfoList>
<pictureInfo>
<fileName>licensePlatePicture.jpg</fileName>
<type>licensePlatePicture</type>
<dataType>0</dataType>
</pictureInfo>
<pictureInfo>
<fileName>detectionPicture.jpg</fileName>
<type>detectionPicture</type>
<dataType>0</dataType>
<plateRect>
<X>430</X>
<Y>275</Y>
<width>106</width>
<height>65</height>
</plateRect>
</pictureInfo>
</pictureInfoList>
<originalLicensePlate>{plate}</originalLicensePlate>
</ANPR>
{uuid_line}
<picNum>2</picNum>
</EventNotificationAlert>
""".encode()


def isapi_body(
    *,
    xml: bytes,
    scene: bytes | None = None,
    plate: bytes | None = None,
    xml_name: str = "anpr.xml",
) -> tuple[bytes, str]:
    """(body, content type) of the multipart push: the XML part first, then the pictures,
    each part named after its file, as Hikvision firmware does."""
    boundary = f"boundary{uuid.uuid4().hex}"
    chunks: list[bytes] = []

    def part(name: str, content_type: str, data: bytes) -> None:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{name}"\r\nContent-Type: {content_type}\r\n'
            f"Content-Length: {len(data)}\r\n\r\n".encode()
        )
        chunks.append(data + b"\r\n")

    part(xml_name, "application/xml", xml)
    if plate is not None:
        part("licensePlatePicture.jpg", "image/jpeg", plate)
    if scene is not None:
        part("detectionPicture.jpg", "image/jpeg", scene)
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


__all__ = [
    "intake_camera_copies_forgotten",
    "intake_site_camera",
    "isapi_body",
    "isapi_xml",
    "plate_jpeg",
    "scene_jpeg",
    "synthetic_jpeg",
]
