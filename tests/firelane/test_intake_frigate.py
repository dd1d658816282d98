"""Frigate events through the real Mosquitto broker into sightings, with the consumer."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from civicloop.firelane.intake.frigate import frigate_message_parse
from civicloop.firelane.intake.mqtt import MqttConsumer, broker_address
from tests.conftest import require_service
from tests.firelane.intake_fixtures import (
    frigate_after_v013,
    frigate_after_v016,
    frigate_payload,
    intake_camera_copies_forgotten,  # noqa: F401 (autouse)
    intake_site_camera,
    scene_jpeg,
)
from tests.waiting import mqtt_subscribed, wait_until

BROKER = "mqtt://127.0.0.1:1883"
CAMERA = "fire_lane_north"


def message(
    kind: str = "update",
    *,
    object_id: str = "1718000000.123456-abcd12",
    frame_time: float | None = None,
    plate: str | None = "浙J12345",
    label: str = "car",
    has_snapshot: bool = False,
    before_frame: float | None = None,
) -> bytes:
    frame_time = frame_time if frame_time is not None else time.time()
    after = {
        "id": object_id,
        "camera": CAMERA,
        "frame_time": frame_time,
        "snapshot": {"frame_time": frame_time, "box": [100, 200, 400, 500], "score": 0.9},
        "label": label,
        "sub_label": None,
        "top_score": 0.88,
        "false_positive": False,
        "start_time": frame_time - 30,
        "end_time": frame_time if kind == "end" else None,
        "score": 0.87,
        "box": [960, 540, 1440, 810],
        "area": 129600,
        "region": [800, 400, 1600, 1000],
        "stationary": True,
        "motionless_count": 40,
        "position_changes": 1,
        "current_zones": ["fire_lane"],
        "entered_zones": ["fire_lane"],
        "has_clip": True,
        "has_snapshot": has_snapshot,
        "recognized_license_plate": plate,
        "recognized_license_plate_score": 0.93 if plate else None,
    }
    before = dict(after, frame_time=before_frame if before_frame is not None else frame_time - 1)
    return json.dumps({"type": kind, "before": before, "after": after}).encode()


@pytest.fixture
def intake_broker() -> str:
    require_service("mqtt")
    return BROKER


@pytest.fixture
def intake_topic() -> str:
    return f"test/frigate/{uuid.uuid4().hex}/events"


@pytest.fixture
def intake_consumer(
    intake_broker: str, intake_topic: str, transactional_db: None, settings: Any, tmp_path: Path
) -> Iterator[Callable[..., MqttConsumer]]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    intake_site_camera(serial=CAMERA, vendor="frigate", ip_allowlist="")
    started: list[MqttConsumer] = []
    client_id = f"civicloop-test-{uuid.uuid4().hex[:10]}"

    def start() -> MqttConsumer:
        consumer = MqttConsumer(
            url=intake_broker, topic=intake_topic, client_id=client_id, batch_size=50
        )
        subscribed = mqtt_subscribed(consumer)
        consumer.start()
        assert consumer.connected.wait(5), "consumer did not connect"
        assert subscribed.wait(5), "the broker did not acknowledge the subscription"
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        consumer.stop()
    # Drop the persistent session this test created on the broker.
    cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    cleaner.connect("127.0.0.1", 1883)
    cleaner.disconnect()


def publish(topic: str, *payloads: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="")
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    infos = [client.publish(topic, p, qos=1) for p in payloads]
    for info in infos:
        info.wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    # Generous: 2 cores shared by many test processes can delay the consumer by seconds.
    assert wait_until(condition, timeout=timeout), "condition not met in time"


def test_events_become_sightings_and_a_replay_stays_one_row(
    intake_consumer: Callable[..., MqttConsumer], intake_topic: str
) -> None:
    from civicloop.firelane.models import Sighting

    consumer = intake_consumer()
    # Given a car Frigate follows: two frames, then the second message sent again
    t = time.time() - 5
    first, second = message("new", frame_time=t), message("update", frame_time=t + 2)
    publish(intake_topic, first, second, second)
    # Then two sightings, keyed by object id and frame time; the replay is a duplicate
    wait_for(lambda: consumer.stats.received == 3)
    rows = list(Sighting.objects.order_by("taken_at"))
    assert [r.event_key for r in rows] == [
        f"1718000000.123456-abcd12:{t}",
        f"1718000000.123456-abcd12:{t + 2}",
    ]
    assert consumer.stats.stored == 2 and consumer.stats.duplicates == 1
    row = rows[0]
    assert row.source == "mqtt" and row.camera_plate == "浙J12345"
    assert row.camera_confidence == pytest.approx(0.93)
    assert abs(row.taken_at.timestamp() - t) < 0.001
    # the object box in pixels of the camera's 1920x1080 image, as fractions
    assert row.box == pytest.approx([0.5, 0.5, 0.75, 0.75])
    assert row.scene == ""  # no snapshot: the tracker sends it to review


def test_no_plate_and_other_labels_are_counted_not_stored(
    intake_consumer: Callable[..., MqttConsumer], intake_topic: str
) -> None:
    from civicloop.firelane.models import IntakeRefusal, Sighting

    consumer = intake_consumer()
    t = time.time()
    publish(
        intake_topic,
        message(plate=None, frame_time=t),
        message(plate="", frame_time=t + 1),
        message(label="person", object_id="p-1", frame_time=t),
        b"{not json",
        # an update that shows no new frame is neither a sighting nor a refusal
        message(frame_time=t + 5, before_frame=t + 5),
    )
    wait_for(lambda: consumer.stats.received == 5)
    assert not Sighting.objects.exists()
    counts = {(r.source, r.reason, r.serial): r.count for r in IntakeRefusal.objects.all()}
    assert counts == {
        ("mqtt", "no_plate", CAMERA): 2,
        ("mqtt", "not_vehicle", CAMERA): 1,
        ("mqtt", "malformed", ""): 1,
    }


@pytest.fixture
def intake_snapshot_server(settings: Any) -> Iterator[list[str]]:
    """A loopback stand-in for Frigate's HTTP API serving one JPEG snapshot."""
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            if not self.path.endswith("/snapshot.jpg"):
                self.send_error(404)
                return
            body = scene_jpeg()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.FRIGATE_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield requested
    server.shutdown()
    server.server_close()


def test_the_snapshot_is_fetched_from_frigate(
    intake_consumer: Callable[..., MqttConsumer],
    intake_topic: str,
    intake_snapshot_server: list[str],
) -> None:
    import hashlib

    from civicloop.firelane.models import Sighting

    consumer = intake_consumer()
    publish(intake_topic, message(has_snapshot=True, object_id="obj/1"))
    wait_for(lambda: consumer.stats.stored == 1)
    row = Sighting.objects.get()
    assert intake_snapshot_server == ["/api/events/obj%2F1/snapshot.jpg"]
    assert row.scene_sha256 == hashlib.sha256(scene_jpeg()).hexdigest()
    assert row.scene.name.endswith("-scene.jpg")


def test_events_published_while_the_consumer_is_down_are_not_lost(
    intake_consumer: Callable[..., MqttConsumer], intake_topic: str
) -> None:
    from civicloop.firelane.models import Sighting

    # Given the consumer has subscribed once (its session persists), then stops
    intake_consumer().stop()
    # When events are published while it is down
    t = time.time()
    publish(intake_topic, *(message(frame_time=t + i) for i in range(5)))
    # Then the next start with the same client id receives and stores them
    consumer = intake_consumer()
    wait_for(lambda: Sighting.objects.count() == 5)
    assert consumer.stats.stored == 5


def test_parse_and_broker_url_edge_cases() -> None:
    assert frigate_message_parse(payload=b"[]").refusal is not None
    plate_pair = json.loads(message())
    plate_pair["after"]["recognized_license_plate"] = ["浙J99999", 0.8]
    plate_pair["after"]["recognized_license_plate_score"] = None
    parsed = frigate_message_parse(payload=json.dumps(plate_pair).encode())
    assert parsed.event is not None and parsed.event.plate == "浙J99999"
    assert parsed.event.confidence == pytest.approx(0.8)
    address = broker_address("mqtt://user:p%40ss@broker.local:1884")
    assert (address.host, address.port, address.username, address.password) == (
        "broker.local",
        1884,
        "user",
        "p@ss",
    )
    with pytest.raises(ValueError):
        broker_address("http://nope")


# --------------------------------------------------------------------------- versions


def parse(after: dict[str, Any]) -> Any:
    return frigate_message_parse(payload=frigate_payload(after))


def test_frigate_016_and_later_send_the_plate_as_a_pair() -> None:
    # Given Frigate 0.16+'s own LPR: the plate and its score in one field, no score field
    after = frigate_after_v016(
        object_id="1718000000.1-a", camera=CAMERA, frame_time=time.time(), plate=["浙J12345", 0.91]
    )
    assert "recognized_license_plate_score" not in after
    # When the message is read
    parsed = parse(after)
    # Then the plate and its score are the pair's
    assert parsed.refusal is None and parsed.event is not None
    assert parsed.event.plate == "浙J12345"
    assert parsed.event.confidence == pytest.approx(0.91)


def test_the_documented_plate_string_with_its_score_is_read() -> None:
    # Frigate's MQTT documentation shows a string and a separate score
    after = frigate_after_v016(
        object_id="1718000000.2-b", camera=CAMERA, frame_time=time.time(), plate="浙J54321"
    )
    after["recognized_license_plate_score"] = 0.933451
    parsed = parse(after)
    assert parsed.event is not None and parsed.event.plate == "浙J54321"
    assert parsed.event.confidence == pytest.approx(0.933451)


@pytest.mark.parametrize("version", ["0.13", "0.14", "0.15"])
def test_frigate_013_to_015_carry_an_external_plate_in_sub_label(version: str) -> None:
    # Given an external recogniser that posted the plate through Frigate's sub_label API
    after = frigate_after_v013(
        object_id=f"{version}-c",
        camera=CAMERA,
        frame_time=time.time(),
        sub_label=["浙J67890", 0.86],
    )
    assert "recognized_license_plate" not in after
    # When the message is read
    parsed = parse(after)
    # Then the sub label is the plate, its score the confidence
    assert parsed.event is not None and parsed.event.plate == "浙J67890"
    assert parsed.event.confidence == pytest.approx(0.86)


def test_a_sub_label_that_is_no_plate_is_not_read_as_one() -> None:
    now = time.time()
    # Given a Frigate+ delivery logo in sub_label and no plate
    logo = parse(
        frigate_after_v013(object_id="d", camera=CAMERA, frame_time=now, sub_label=["ups", 0.8])
    )
    # Then it is not a plate: counted as an object without one
    assert logo.event is None and logo.refusal is not None
    assert logo.refusal.reason == "no_plate"
    # Given Frigate 0.16+ naming a known plate in sub_label beside the recognised plate
    known = parse(
        frigate_after_v016(
            object_id="e",
            camera=CAMERA,
            frame_time=now,
            sub_label=["张师傅的车", 0.95],
            plate=["浙J13579", 0.95],
        )
    )
    # Then the recognised plate is read, not the name
    assert known.event is not None and known.event.plate == "浙J13579"


@pytest.mark.parametrize("label", ["car", "motorcycle", "license_plate"])
def test_frigates_lpr_labels_are_vehicles_by_default(label: str) -> None:
    after = frigate_after_v016(
        object_id=f"f-{label}",
        camera=CAMERA,
        frame_time=time.time(),
        label=label,
        plate=["浙J24680", 0.9],
    )
    parsed = parse(after)
    assert parsed.refusal is None and parsed.event is not None
    assert parsed.event.plate == "浙J24680"


def test_the_vehicle_labels_are_a_setting(settings: Any) -> None:
    # Given a deployment that takes only cars
    settings.FRIGATE_VEHICLE_LABELS = ["car"]
    after = frigate_after_v016(
        object_id="g", camera=CAMERA, frame_time=time.time(), label="motorcycle", plate=["浙J1"]
    )
    # Then a motorcycle is counted as not a vehicle
    parsed = parse(after)
    assert parsed.event is None and parsed.refusal is not None
    assert parsed.refusal.reason == "not_vehicle"


def test_a_frigate_013_plate_goes_through_the_broker(
    intake_consumer: Callable[..., MqttConsumer], intake_topic: str
) -> None:
    from civicloop.firelane.models import Sighting

    consumer = intake_consumer()
    # Given a 0.13-0.15 message on a motorcycle with its plate in sub_label
    after = frigate_after_v013(
        object_id="1718000000.5-moto",
        camera=CAMERA,
        frame_time=time.time() - 2,
        label="motorcycle",
        sub_label=["浙J8642D", 0.88],
    )
    publish(intake_topic, frigate_payload(after))
    # Then it is one sighting with that plate
    wait_for(lambda: consumer.stats.received == 1)
    row = Sighting.objects.get()
    assert row.camera_plate == "浙J8642D" and row.source == "mqtt"
    assert row.camera_confidence == pytest.approx(0.88)
