"""The Hikvision ISAPI push over real HTTP (live server + requests)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.core.files.storage import default_storage
from django.utils import timezone

from tests.firelane.intake_fixtures import (
    intake_camera_copies_forgotten,  # noqa: F401 (autouse)
    intake_site_camera,
    isapi_body,
    isapi_xml,
    plate_jpeg,
    scene_jpeg,
    synthetic_jpeg,
)

SERIAL = "DS-2CD-TEST-001"


@pytest.fixture
def intake_http(settings: Any, tmp_path: Any, live_server: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return live_server


@pytest.fixture
def intake_camera(intake_http: Any) -> Any:
    return intake_site_camera(serial=SERIAL)


def push(server: Any, body: bytes, content_type: str, serial: str = SERIAL) -> requests.Response:
    return requests.post(
        f"{server.url}/intake/isapi/{serial}/",
        data=body,
        headers={"Content-Type": content_type},
        timeout=10,
    )


def good_push(server: Any, *, serial: str = SERIAL, **xml: Any) -> requests.Response:
    xml.setdefault("when", timezone.now())
    body, ctype = isapi_body(xml=isapi_xml(**xml), scene=scene_jpeg(), plate=plate_jpeg())
    return push(server, body, ctype, serial)


def refusals() -> dict[str, int]:
    from civicloop.firelane.models import IntakeRefusal

    return {r.reason: r.count for r in IntakeRefusal.objects.filter(source="isapi")}


def test_an_anpr_push_is_stored_with_its_pictures(intake_http: Any, intake_camera: Any) -> None:
    from civicloop.firelane.models import Camera, Sighting

    # Given a camera that may push from 127.0.0.1
    # When it pushes an ANPR alert with both pictures
    when = timezone.now() - timedelta(seconds=5)
    response = good_push(intake_http, when=when, uuid_text="a0fe72d4-3652-464a-aebd-3f9190010236")

    # Then it is stored once, as the camera reported it, pictures and hashes included
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stored"
    sighting = Sighting.objects.get()
    assert response.json()["sighting"] == sighting.pk
    assert sighting.source == "isapi"
    assert sighting.event_key == "isapi:a0fe72d4-3652-464a-aebd-3f9190010236"
    assert sighting.camera_plate == "浙J12345"
    assert sighting.camera_color == "blue"
    assert sighting.camera_confidence == pytest.approx(0.97)
    assert sighting.plate_check == "pending"
    assert sighting.flags == []
    assert abs((sighting.taken_at - when).total_seconds()) < 0.01
    assert sighting.box == pytest.approx([0.43, 0.275, 0.536, 0.34])
    assert sighting.scene_sha256 == hashlib.sha256(scene_jpeg()).hexdigest()
    assert sighting.crop_sha256 == hashlib.sha256(plate_jpeg()).hexdigest()
    day = timezone.localdate(sighting.taken_at)
    assert sighting.scene.name.startswith(f"firelane/{day:%Y/%m/%d}/{SERIAL}/")
    assert sighting.scene.name.endswith(f"{sighting.scene_sha256}-scene.jpg")
    assert sighting.crop.name.endswith("-plate.jpg")
    with default_storage.open(sighting.scene.name) as f:
        assert f.read() == scene_jpeg()
    camera = Camera.objects.get(pk=intake_camera.pk)
    assert camera.status == "online" and camera.last_seen_at is not None


def test_a_replay_is_a_duplicate_not_a_second_row(intake_http: Any, intake_camera: Any) -> None:
    from civicloop.firelane.models import Sighting

    # Given a stored push (with and without a UUID: the digest key is stable too)
    when = timezone.now()
    first = good_push(intake_http, when=when, uuid_text="u-1")
    digest_first = good_push(intake_http, when=when, plate="浙J54321")
    # When the camera sends both again
    again = good_push(intake_http, when=when, uuid_text="u-1")
    digest_again = good_push(intake_http, when=when, plate="浙J54321")
    # Then both answers are 200 duplicate, pointing at the stored rows
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["sighting"] == first.json()["sighting"]
    assert digest_again.status_code == 200 and digest_again.json()["status"] == "duplicate"
    assert digest_again.json()["sighting"] == digest_first.json()["sighting"]
    assert Sighting.objects.count() == 2


def test_unknown_camera_is_404_and_counted(intake_http: Any, intake_camera: Any) -> None:
    response = good_push(intake_http, serial="NO-SUCH-CAMERA")
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown_camera"
    assert refusals() == {"unknown_camera": 1}


def test_an_address_outside_the_allowlist_is_403(intake_http: Any, intake_camera: Any) -> None:
    from civicloop.firelane.models import Camera, Sighting

    # Given the camera may only push from its own network
    Camera.objects.filter(pk=intake_camera.pk).update(ip_allowlist="10.8.0.0/24, 192.168.1.7")
    # When a push comes from 127.0.0.1
    response = good_push(intake_http)
    # Then it is refused and counted, nothing stored, the camera not marked online
    assert response.status_code == 403
    assert response.json()["reason"] == "address"
    assert not Sighting.objects.exists()
    assert Camera.objects.get(pk=intake_camera.pk).status == "offline"
    # And a CIDR that holds the address lets it in
    Camera.objects.filter(pk=intake_camera.pk).update(ip_allowlist="10.8.0.0/24 127.0.0.0/8")
    assert good_push(intake_http).status_code == 200
    assert refusals() == {"address": 1}


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"<EventNotificationAlert><eventType>ANPR</eventType", "malformed"),
        (b"not xml at all", "malformed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<EventNotificationAlert><eventType>ANPR</eventType>"
            b"<ANPR><licensePlate>&lol2;</licensePlate></ANPR></EventNotificationAlert>",
            "malformed",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<EventNotificationAlert><eventType>ANPR</eventType></EventNotificationAlert>",
            "malformed",
        ),
    ],
    ids=["truncated", "garbage", "entity-expansion", "external-entity"],
)
def test_malformed_or_dangerous_xml_is_400(
    intake_http: Any, intake_camera: Any, xml: bytes, reason: str
) -> None:
    body, ctype = isapi_body(xml=xml, scene=scene_jpeg(), plate=plate_jpeg())
    response = push(intake_http, body, ctype)
    assert response.status_code == 400
    assert response.json()["reason"] == reason
    assert refusals() == {reason: 1}


def test_an_alert_that_is_not_anpr_is_400(intake_http: Any, intake_camera: Any) -> None:
    xml = isapi_xml(when=timezone.now(), event_type="VMD")
    body, ctype = isapi_body(xml=xml, scene=scene_jpeg(), plate=plate_jpeg())
    response = push(intake_http, body, ctype)
    assert response.status_code == 400 and response.json()["reason"] == "not_anpr"


def test_a_picture_that_is_not_a_jpeg_or_missing_is_400(
    intake_http: Any, intake_camera: Any
) -> None:
    from civicloop.firelane.models import Sighting

    xml = isapi_xml(when=timezone.now())
    # A "JPEG" that is a PNG
    fake = b"\x89PNG\r\n\x1a\n" + synthetic_jpeg((10, 10))[8:]
    body, ctype = isapi_body(xml=xml, scene=fake, plate=plate_jpeg())
    bad = push(intake_http, body, ctype)
    # JPEG markers but garbage inside
    body, ctype = isapi_body(
        xml=xml, scene=scene_jpeg(), plate=b"\xff\xd8\xff" + b"x" * 50 + b"\xff\xd9"
    )
    garbage = push(intake_http, body, ctype)
    # No detection picture at all
    body, ctype = isapi_body(xml=xml, scene=None, plate=plate_jpeg())
    missing = push(intake_http, body, ctype)
    assert (bad.status_code, bad.json()["reason"]) == (400, "bad_image")
    assert (garbage.status_code, garbage.json()["reason"]) == (400, "bad_image")
    assert (missing.status_code, missing.json()["reason"]) == (400, "missing_image")
    assert not Sighting.objects.exists()
    assert refusals() == {"bad_image": 2, "missing_image": 1}


def test_times_out_of_range_are_422(intake_http: Any, intake_camera: Any, settings: Any) -> None:
    from civicloop.firelane.models import Sighting

    now = timezone.now()
    future = good_push(
        intake_http, when=now + timedelta(seconds=settings.FIRELANE_MAX_FUTURE_S + 60)
    )
    late = good_push(intake_http, when=now - timedelta(seconds=settings.FIRELANE_MAX_LATE_S + 60))
    assert (future.status_code, future.json()["reason"]) == (422, "future")
    assert (late.status_code, late.json()["reason"]) == (422, "late")
    assert not Sighting.objects.exists()
    assert refusals() == {"future": 1, "late": 1}


def test_the_camera_clock_offset_is_applied(intake_http: Any, intake_camera: Any) -> None:
    from civicloop.firelane.models import Camera, Sighting

    # Given a camera known to run 10 minutes fast
    Camera.objects.filter(pk=intake_camera.pk).update(clock_offset_s=600)
    # When it stamps an event 10 minutes ahead of our clock
    camera_time = timezone.now() + timedelta(seconds=600)
    response = good_push(intake_http, when=camera_time)
    # Then it is not refused as future, the true time is taken_at, and nothing is flagged
    assert response.status_code == 200, response.text
    sighting = Sighting.objects.get()
    assert abs((sighting.camera_time - camera_time).total_seconds()) < 0.01
    assert abs((sighting.taken_at - (camera_time - timedelta(seconds=600))).total_seconds()) < 0.01
    assert sighting.flags == []


def test_a_drifted_camera_clock_is_flagged(intake_http: Any, intake_camera: Any) -> None:
    from civicloop.firelane.models import Sighting

    # Given a camera with no known offset whose clock is 4 minutes fast (within the future limit)
    response = good_push(intake_http, when=timezone.now() + timedelta(seconds=240))
    # Then the event is stored, flagged for a second look at its times
    assert response.status_code == 200
    assert Sighting.objects.get().flags == ["clock_skew"]


def test_a_push_too_large_is_413(intake_http: Any, intake_camera: Any, settings: Any) -> None:
    settings.FIRELANE_INTAKE_MAX_BYTES = 10_000
    response = good_push(intake_http)
    assert response.status_code == 413 and response.json()["reason"] == "too_large"


def test_the_hikvision_namespace_and_a_naive_time_are_read(
    intake_http: Any, intake_camera: Any
) -> None:
    from civicloop.firelane.models import Sighting

    local = timezone.localtime().replace(tzinfo=None, microsecond=0)
    xml = isapi_xml(when=local, namespace="http://www.hikvision.com/ver20/XMLSchema")  # type: ignore[arg-type]
    body, ctype = isapi_body(xml=xml, scene=scene_jpeg(), plate=None)
    # The XML lists licensePlatePicture.jpg but it was not sent: refused
    assert push(intake_http, body, ctype).json()["reason"] == "missing_image"
    body, ctype = isapi_body(
        xml=xml, scene=scene_jpeg(), plate=plate_jpeg(), xml_name="MoveDetection.xml"
    )
    response = push(intake_http, body, ctype)
    assert response.status_code == 200, response.text
    assert timezone.localtime(Sighting.objects.get().taken_at).replace(tzinfo=None) == local


def test_get_is_not_allowed_and_never_500(intake_http: Any, intake_camera: Any) -> None:
    assert requests.get(f"{intake_http.url}/intake/isapi/{SERIAL}/", timeout=5).status_code == 405
    response = requests.post(
        f"{intake_http.url}/intake/isapi/{SERIAL}/",
        data=b"--x\r\nbroken",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        timeout=5,
    )
    assert 400 <= response.status_code < 500


def test_a_push_with_base64_pictures_goes_through_djangos_parser(
    intake_http: Any, intake_camera: Any
) -> None:
    import base64

    from civicloop.firelane.models import Sighting

    # Given firmware that base64-encodes its pictures
    boundary = "b64boundary"
    xml = isapi_xml(when=timezone.now(), uuid_text="b64-1")

    def part(name: str, data: bytes, encoded: bool) -> bytes:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
        )
        if encoded:
            head += "Content-Transfer-Encoding: base64\r\n"
            data = base64.b64encode(data)
        return head.encode() + b"\r\n" + data + b"\r\n"

    body = (
        part("anpr.xml", xml, False)
        + part("licensePlatePicture.jpg", plate_jpeg(), True)
        + part("detectionPicture.jpg", scene_jpeg(), True)
        + f"--{boundary}--\r\n".encode()
    )
    # When it pushes
    response = push(intake_http, body, f"multipart/form-data; boundary={boundary}")
    # Then the pictures are decoded and stored as sent
    assert response.status_code == 200, response.text
    sighting = Sighting.objects.get()
    assert sighting.scene_sha256 == hashlib.sha256(scene_jpeg()).hexdigest()
    assert sighting.crop_sha256 == hashlib.sha256(plate_jpeg()).hexdigest()
