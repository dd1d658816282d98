"""The demo's camera simulator sends through the real fixed interfaces: ISAPI pushes over
HTTP to the live server, and Frigate events through the real Mosquitto broker (with their
snapshots served the way Frigate's API serves them)."""

from __future__ import annotations

import io
import socket
import uuid
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from PIL import Image

from civicloop.firelane.intake.events import CameraEvent
from civicloop.firelane.simulator import (
    DEMO_SCENARIO,
    CameraSimulator,
    frigate_event,
    isapi_alert_xml,
    osd_stamp,
    picture_load,
)
from tests.conftest import require_service
from tests.waiting import mqtt_subscribed, wait_until

BROKER = "mqtt://127.0.0.1:1883"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_pictures_come_with_a_plate_crop_and_box() -> None:
    picture = picture_load("hyperlpr_scene_0014.jpg")
    x1, y1, x2, y2 = picture.box
    assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
    crop = Image.open(io.BytesIO(picture.crop))
    assert crop.size[0] > crop.size[1]  # a plate is wide


def test_every_frame_is_a_different_file() -> None:
    from datetime import timedelta

    from django.utils import timezone

    scene = picture_load("hyperlpr_scene_0006.jpg").scene
    now = timezone.now()
    a = osd_stamp(scene, when=now, camera="DS-CY-001")
    b = osd_stamp(scene, when=now + timedelta(seconds=15), camera="DS-CY-001")
    assert a != b and a[:2] == b"\xff\xd8"


def test_the_alert_is_the_isapi_shape() -> None:
    from django.utils import timezone

    from civicloop.firelane.intake.isapi import Part, isapi_parts_parse

    xml = isapi_alert_xml(
        plate="浙FEQ635", when=timezone.now(), box=(0.4, 0.6, 0.5, 0.65), event_id="x1"
    )
    picture = picture_load("hyperlpr_scene_0014.jpg")
    parts = [
        Part("anpr.xml", "anpr.xml", "text/xml", xml),
        Part("detectionPicture.jpg", "detectionPicture.jpg", "image/jpeg", picture.scene),
        Part("licensePlatePicture.jpg", "licensePlatePicture.jpg", "image/jpeg", picture.crop),
    ]
    event = isapi_parts_parse(serial="DS-CY-001", parts=parts)
    assert isinstance(event, CameraEvent)
    assert event.plate == "浙FEQ635" and event.box is not None
    assert event.event_key == "isapi:x1"


def test_the_frigate_message_is_the_016_shape() -> None:
    import json
    import time

    from civicloop.firelane.intake.frigate import frigate_message_parse

    # Given the simulator's message for a car Frigate 0.16+ has read the plate of
    now = time.time()
    message = frigate_event(
        kind="new",
        object_id="sim-1",
        camera="chuangye_gate",
        frame_time=now,
        start_time=now - 30,
        plate="皖A195K9",
        picture=picture_load("ccpd_scene_0001.jpg"),
        before=None,
    )
    after = message["after"]
    # Then the plate is the [plate, score] pair Frigate's LPR publishes, with no score field
    assert after["recognized_license_plate"] == ["皖A195K9", pytest.approx(0.93)]
    assert "recognized_license_plate_score" not in after
    # And the intake reads it as such
    parsed = frigate_message_parse(payload=json.dumps(message, ensure_ascii=False).encode())
    assert parsed.event is not None and parsed.event.plate == "皖A195K9"
    assert parsed.event.confidence == pytest.approx(0.93)


@pytest.mark.django_db(transaction=True)
def test_the_simulator_drives_both_intakes(live_server: Any, settings: Any) -> None:
    require_service("mqtt")
    from civicloop.core.demo import demo_city_build
    from civicloop.firelane.intake.mqtt import MqttConsumer
    from civicloop.firelane.models import Sighting

    demo_city_build()
    port = _free_port()
    topic = f"test/sim/{uuid.uuid4().hex}/events"
    settings.FRIGATE_EVENTS_TOPIC = topic
    settings.FRIGATE_API_URL = f"http://127.0.0.1:{port}"
    client_id = f"civicloop-test-{uuid.uuid4().hex[:10]}"
    consumer = MqttConsumer(url=BROKER, topic=topic, client_id=client_id, batch_size=50)
    subscribed = mqtt_subscribed(consumer)
    consumer.start()
    assert consumer.connected.wait(5)
    assert subscribed.wait(5)
    hik = next(c for c in DEMO_SCENARIO if c.vendor == "hikvision")
    frigate = next(c for c in DEMO_SCENARIO if c.vendor == "frigate")
    scenario = (
        type(hik)(hik.plate, hik.image, hik.camera, hik.vendor, 0, 100),
        type(frigate)(frigate.plate, frigate.image, frigate.camera, frigate.vendor, 0, 100),
    )
    simulator = CameraSimulator(
        base_url=live_server.url,
        mqtt_url=BROKER,
        snapshot_port=port,
        scenario=scenario,
        period_s=1.05,  # the burnt-in time has whole seconds
        cycle_s=3.5,
        cycles=1,
    )
    try:
        simulator.run()  # in this thread: one short cycle
        wait_until(
            lambda: {"isapi", "mqtt"} <= set(Sighting.objects.values_list("source", flat=True)),
            timeout=15,
            interval=0.2,
        )
    finally:
        simulator.stop()
        consumer.stop()
        cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        cleaner.connect("127.0.0.1", 1883)
        cleaner.disconnect()
    assert simulator.errors == 0 and simulator.sent >= 4
    isapi = Sighting.objects.filter(source="isapi", camera__serial=hik.camera)
    frig = Sighting.objects.filter(source="mqtt", camera__serial=frigate.camera)
    assert isapi.count() >= 2 and frig.count() >= 2
    # Frigate sightings carry the snapshot fetched from the simulator's Frigate API.
    assert all(s.scene_sha256 for s in frig)
    # Every ISAPI frame is its own file (the camera's time is burnt in).
    assert len(set(isapi.values_list("scene_sha256", flat=True))) == isapi.count()
