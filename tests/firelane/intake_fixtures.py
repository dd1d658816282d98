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
    vehicle: bytes | None = None,
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
    if vehicle is not None:
        part("vehiclePicture.jpg", "image/jpeg", vehicle)
    if scene is not None:
        part("detectionPicture.jpg", "image/jpeg", scene)
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def isapi_vehicle_xml(
    *,
    when: datetime,
    plate: str = "浙J12345",
    uuid_text: str | None = None,
    rect_on: str | None = None,
    rect: tuple[int, int, int, int] = (412, 608, 96, 32),
) -> bytes:
    """An ANPR alert whose pictures are the plate crop and the vehicle picture only, as
    several Hikvision ANPR models send it: the element order and `vehicleInfo` follow an
    alert captured from such a camera, the picture kinds Hikvision's ISAPI document
    (`pictureInfo/type`: vehiclePicture "机动车图", licensePlatePicture "车牌小图"). Such
    cameras send no `plateRect`; `rect_on` ("vehiclePicture", "licensePlatePicture")
    adds one to that picture's `pictureInfo` (X, Y, width, height per mille of it)."""

    def info(kind: str) -> str:
        box = ""
        if rect_on == kind:
            x, y, w, h = rect
            box = (
                f"<plateRect><X>{x}</X><Y>{y}</Y><width>{w}</width><height>{h}</height></plateRect>"
            )
        return (
            f"<pictureInfo><fileName>{kind}.jpg</fileName><type>{kind}</type>"
            f"<dataType>0</dataType>{box}</pictureInfo>"
        )

    uuid_line = f"<UUID>{uuid_text}</UUID>" if uuid_text else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<ipAddress>192.168.1.100</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>01:17:24:45:d9:f4</macAddress>
<channelID>1</channelID>
<dateTime>{when.isoformat(timespec="seconds")}</dateTime>
<activePostCount>1</activePostCount>
<eventType>ANPR</eventType>
<eventState>active</eventState>
<eventDescription>ANPR</eventDescription>
<ANPR>
<country>59</country>
<licensePlate>{plate}</licensePlate>
<line>1</line>
<direction>forward</direction>
<confidenceLevel>97</confidenceLevel>
<plateType>unknown</plateType>
<plateColor>blue</plateColor>
<licenseBright>63</licenseBright>
<vehicleType>SUVMPV</vehicleType>
<vehicleInfo>
<index>4295</index>
<colorDepth>2</colorDepth>
<color>blue</color>
<length>0</length>
<vehicleLogoRecog>1037</vehicleLogoRecog>
<vehileSubLogoRecog>0</vehileSubLogoRecog>
<vehileModel>0</vehileModel>
</vehicleInfo>
<pictureInfoList>
{info("licensePlatePicture")}
{info("vehiclePicture")}
</pictureInfoList>
<vehicleListName>otherList</vehicleListName>
<alarmDataType>0</alarmDataType>
<originalLicensePlate>{plate}</originalLicensePlate>
</ANPR>
{uuid_line}
</EventNotificationAlert>
""".encode()


def isapi_heartbeat_xml(*, when: datetime, event_type: str = "videoloss") -> bytes:
    """The alert a Hikvision camera or NVR repeats every few seconds while it is connected
    to its alarm server (the Hikvision namespace, `videoloss` with `eventState` inactive,
    `activePostCount` 0), as captured from Hikvision devices and reproduced in open-source
    ISAPI clients; sent as a plain application/xml body."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="1.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.168.1.64</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:47:cc:11:22:33</macAddress>
<channelID>1</channelID>
<dateTime>{when.isoformat(timespec="seconds")}</dateTime>
<activePostCount>0</activePostCount>
<eventType>{event_type}</eventType>
<eventState>inactive</eventState>
<eventDescription>{event_type} alarm</eventDescription>
</EventNotificationAlert>
""".encode()


# --------------------------------------------------------------------------- Frigate
#
# `after` objects as Frigate's `TrackedObject.to_dict` builds them, per version
# (github.com/blakeblackshear/frigate: frigate/object_processing.py at v0.13.0 and v0.14.0,
# frigate/track/tracked_object.py at v0.15.0 and v0.16.0), with the values of the
# example in Frigate's MQTT documentation (docs/docs/integrations/mqtt.md).


def frigate_after_v013(
    *,
    object_id: str,
    camera: str,
    frame_time: float,
    label: str = "car",
    sub_label: list[Any] | None = None,
) -> dict[str, Any]:
    """`after` of Frigate 0.13 to 0.15. No LPR of its own: an external recogniser posts
    the plate to `POST /api/events/<id>/sub_label`, which stores `(sub_label, score)` on
    the tracked object, published as `"sub_label": [plate, score]`."""
    return {
        "id": object_id,
        "camera": camera,
        "frame_time": frame_time,
        "snapshot": {
            "frame_time": frame_time - 4,
            "box": [415, 489, 528, 700],
            "area": 12728,
            "region": [260, 446, 660, 846],
            "score": 0.77546,
            "attributes": [],
        },
        "label": label,
        "sub_label": sub_label,
        "top_score": 0.958984375,
        "false_positive": False,
        "start_time": frame_time - 6,
        "end_time": None,
        "score": 0.87890625,
        "box": [432, 496, 544, 854],
        "area": 40096,
        "ratio": 1.251397,
        "region": [218, 440, 693, 915],
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 2,
        "current_zones": ["fire_lane"],
        "entered_zones": ["fire_lane"],
        "has_clip": True,
        "has_snapshot": False,
        "attributes": {},
        "current_attributes": [],
    }


def frigate_after_v016(
    *,
    object_id: str,
    camera: str,
    frame_time: float,
    label: str = "car",
    plate: list[Any] | str | None = None,
    sub_label: list[Any] | None = None,
) -> dict[str, Any]:
    """`after` of Frigate 0.16 and later: its LPR stores `(plate, score)` on the object
    (`set_recognized_license_plate`), published as `"recognized_license_plate": [plate,
    score]`; a plate matching `lpr.known_plates` also sets `sub_label` to that entry's
    name."""
    after = frigate_after_v013(
        object_id=object_id, camera=camera, frame_time=frame_time, label=label, sub_label=sub_label
    )
    after.update(
        active=True,
        pending_loitering=False,
        max_severity="alert",
        current_estimated_speed=0.77,
        average_estimated_speed=14.31,
        velocity_angle=180,
        path_data=[],
        recognized_license_plate=plate,
    )
    return after


def frigate_payload(after: dict[str, Any], kind: str = "update") -> bytes:
    """The `frigate/events` message around `after` (its `before`: one second earlier)."""
    import json

    before = dict(after, frame_time=after["frame_time"] - 1)
    return json.dumps({"type": kind, "before": before, "after": after}).encode()


__all__ = [
    "frigate_after_v013",
    "frigate_after_v016",
    "frigate_payload",
    "intake_camera_copies_forgotten",
    "intake_site_camera",
    "isapi_body",
    "isapi_heartbeat_xml",
    "isapi_vehicle_xml",
    "isapi_xml",
    "plate_jpeg",
    "scene_jpeg",
    "synthetic_jpeg",
]
