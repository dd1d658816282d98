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
    isapi_heartbeat_xml,
    isapi_vehicle_xml,
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


def test_an_alert_with_only_the_plate_and_vehicle_pictures_is_stored(
    intake_http: Any, intake_camera: Any
) -> None:
    from civicloop.firelane.models import Sighting

    # Given a camera model that sends the plate crop and the vehicle picture, no detection
    # picture and no plate rectangle
    xml = isapi_vehicle_xml(when=timezone.now(), uuid_text="veh-1")
    body, ctype = isapi_body(xml=xml, plate=plate_jpeg(), vehicle=scene_jpeg())
    # When it pushes
    response = push(intake_http, body, ctype)
    # Then the alert is stored, the vehicle picture as its scene, the crop as its plate
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stored"
    sighting = Sighting.objects.get()
    assert sighting.event_key == "isapi:veh-1"
    assert sighting.camera_plate == "浙J12345"
    assert sighting.scene_sha256 == hashlib.sha256(scene_jpeg()).hexdigest()
    assert sighting.crop_sha256 == hashlib.sha256(plate_jpeg()).hexdigest()
    assert sighting.box is None  # no rectangle sent: none invented
    assert refusals() == {}


def parts_of(xml: bytes, **pictures: bytes) -> list[Any]:
    from civicloop.firelane.intake.isapi import Part

    return [Part("anpr.xml", "anpr.xml", "application/xml", xml)] + [
        Part(f"{kind}.jpg", f"{kind}.jpg", "image/jpeg", data) for kind, data in pictures.items()
    ]


def test_the_plate_rectangle_is_read_from_the_picture_it_belongs_to() -> None:
    from civicloop.firelane.intake.isapi import isapi_parts_parse

    now = timezone.now()
    vehicle, detection = synthetic_jpeg((640, 480)), scene_jpeg()
    # Given the rectangle on the vehicle picture, which is the scene
    on_vehicle = isapi_parts_parse(
        serial=SERIAL,
        parts=parts_of(
            isapi_vehicle_xml(when=now, rect_on="vehiclePicture", rect=(412, 608, 96, 32)),
            licensePlatePicture=plate_jpeg(),
            vehiclePicture=vehicle,
        ),
    )
    # Then it is the scene's box, per mille of that picture
    assert on_vehicle.scene_jpeg == vehicle  # type: ignore[union-attr]
    assert on_vehicle.box == pytest.approx((0.412, 0.608, 0.508, 0.64))  # type: ignore[union-attr]

    # Given the rectangle on the plate crop (not the scene)
    on_crop = isapi_parts_parse(
        serial=SERIAL,
        parts=parts_of(
            isapi_vehicle_xml(when=now, rect_on="licensePlatePicture"),
            licensePlatePicture=plate_jpeg(),
            vehiclePicture=vehicle,
        ),
    )
    # Then no box is read for the scene
    assert on_crop.box is None and on_crop.box_px is None  # type: ignore[union-attr]

    # Given a detection picture with its rectangle, and a vehicle picture too
    xml = isapi_xml(when=now).replace(
        b"</pictureInfoList>",
        b"<pictureInfo><fileName>vehiclePicture.jpg</fileName><type>vehiclePicture</type>"
        b"<dataType>0</dataType></pictureInfo></pictureInfoList>",
    )
    both = isapi_parts_parse(
        serial=SERIAL,
        parts=parts_of(
            xml,
            licensePlatePicture=plate_jpeg(),
            vehiclePicture=vehicle,
            detectionPicture=detection,
        ),
    )
    # Then the detection picture is the scene and its rectangle the box
    assert both.scene_jpeg == detection  # type: ignore[union-attr]
    assert both.box == pytest.approx((0.43, 0.275, 0.536, 0.34))  # type: ignore[union-attr]


def camera_row(camera: Any) -> Any:
    from civicloop.firelane.models import Camera

    return Camera.objects.get(pk=camera.pk)


def test_a_heartbeat_is_200_and_marks_the_camera_alive(
    intake_http: Any, intake_camera: Any
) -> None:
    from civicloop.firelane.models import Sighting

    # Given a registered camera never heard from
    assert camera_row(intake_camera).last_seen_at is None
    # When it sends its videoloss heartbeat as a plain application/xml body
    before = timezone.now()
    response = push(
        intake_http, isapi_heartbeat_xml(when=timezone.now()), "application/xml; charset=UTF-8"
    )
    # Then it is answered 200 as a heartbeat, the camera is online, nothing is refused
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "heartbeat"
    camera = camera_row(intake_camera)
    assert camera.status == "online" and camera.last_seen_at >= before
    assert not Sighting.objects.exists()
    assert refusals() == {}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda: isapi_body(xml=isapi_heartbeat_xml(when=timezone.now())), id="multipart"
        ),
        pytest.param(
            lambda: isapi_body(
                xml=isapi_xml(when=timezone.now(), event_type="VMD"), scene=scene_jpeg()
            ),
            id="motion",
        ),
        pytest.param(
            lambda: (isapi_heartbeat_xml(when=timezone.now(), event_type="heartBeat"), "text/xml"),
            id="heartBeat",
        ),
    ],
)
def test_other_alerts_are_heartbeats_not_refusals(
    intake_http: Any, intake_camera: Any, body: Any
) -> None:
    from civicloop.firelane.models import Sighting

    response = push(intake_http, *body())
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "heartbeat"
    assert camera_row(intake_camera).status == "online"
    assert not Sighting.objects.exists()
    assert refusals() == {}


def test_a_heartbeat_passes_the_camera_checks(intake_http: Any, intake_camera: Any) -> None:
    from civicloop.firelane.models import Camera

    heartbeat = isapi_heartbeat_xml(when=timezone.now())
    # Given an unknown serial, then a registered camera pushing from elsewhere
    unknown = push(intake_http, heartbeat, "application/xml", serial="NO-SUCH-CAMERA")
    Camera.objects.filter(pk=intake_camera.pk).update(ip_allowlist="10.8.0.0/24")
    elsewhere = push(intake_http, heartbeat, "application/xml")
    # Then both are refused and counted as an event from them would be; nobody is alive
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "unknown_camera")
    assert (elsewhere.status_code, elsewhere.json()["reason"]) == (403, "address")
    assert camera_row(intake_camera).status == "offline"
    assert refusals() == {"unknown_camera": 1, "address": 1}


@pytest.mark.django_db
def test_heartbeats_write_the_online_mark_at_most_every_interval(settings: Any) -> None:
    from civicloop.firelane.intake.services import camera_heartbeat_record

    # Given a camera and a 10-second interval for its online mark
    settings.FIRELANE_LAST_SEEN_EVERY_S = 10
    camera = intake_site_camera(serial="HB-1")
    t0 = timezone.now()

    def beat(at: Any) -> str:
        outcome = camera_heartbeat_record(
            serial="HB-1", source="isapi", remote_addr="127.0.0.1", now=at
        )
        return str(outcome.outcome)

    # When it beats at t0, t0 + 5 s and t0 + 11 s
    assert beat(t0) == "heartbeat"
    assert camera_row(camera).last_seen_at == t0
    assert beat(t0 + timedelta(seconds=5)) == "heartbeat"
    # Then the mark is written at t0, not again within the interval, then again
    assert camera_row(camera).last_seen_at == t0
    assert beat(t0 + timedelta(seconds=11)) == "heartbeat"
    assert camera_row(camera).last_seen_at == t0 + timedelta(seconds=11)


def test_an_anpr_alert_sent_before_its_pictures_is_acknowledged(
    intake_http: Any, intake_camera: Any
) -> None:
    from civicloop.firelane.models import Sighting

    # Given ISAPI's "plate first, complete upload later" mode: the XML alone, hasMoreData
    xml = isapi_xml(when=timezone.now(), uuid_text="more-1").replace(
        b"</ANPR>", b"<hasMoreData>true</hasMoreData></ANPR>"
    )
    first = push(intake_http, xml, "application/xml")
    # Then it is acknowledged as a sign of life; the complete upload is stored
    assert first.status_code == 200 and first.json()["status"] == "heartbeat"
    body, ctype = isapi_body(xml=xml, scene=scene_jpeg(), plate=plate_jpeg())
    complete = push(intake_http, body, ctype)
    assert complete.status_code == 200 and complete.json()["status"] == "stored"
    assert Sighting.objects.get().event_key == "isapi:more-1"
    # But an ANPR alert without pictures and without that promise is refused
    bare = push(intake_http, isapi_xml(when=timezone.now()), "application/xml")
    assert (bare.status_code, bare.json()["reason"]) == (400, "missing_image")
    assert refusals() == {"missing_image": 1}


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
