"""The camera simulator of the demo: real plate photos replayed as camera events.

Hikvision cameras push ISAPI multipart events over HTTP to `/intake/isapi/<serial>/`;
Frigate cameras publish on MQTT `frigate/events` and serve their snapshots over HTTP
(`/api/events/<id>/snapshot.jpg`, which this simulator also serves when
`FRIGATE_API_URL` points at a loopback port). Each car of the scenario arrives, is seen
every `period_s` seconds while it stands on the lane, and leaves; with the demo's short
thresholds the whole chain (warning, evidence, review, notice) shows within minutes.

Everything goes through the same fixed interfaces a real camera uses, so the simulator is
also the demo's proof that they work.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from PIL import Image

from civicloop.notify.fakes import LoopbackHTTPServer, LoopbackServer

logger = logging.getLogger(__name__)

IMAGES = Path(__file__).resolve().parent / "demo_images"


@dataclass(frozen=True)
class Car:
    plate: str
    image: str
    camera: str
    vendor: str  # "hikvision" | "frigate"
    arrive_s: int
    leave_s: int


# A ten-minute cycle on the demo sites (warn after 60 s, evidence after 180 s, gap 90 s).
DEMO_SCENARIO = (
    Car("浙FEQ635", "hyperlpr_scene_0014.jpg", "DS-CY-001", "hikvision", 0, 420),
    Car("浙AL270V", "hyperlpr_scene_0006.jpg", "DS-WC-001", "hikvision", 20, 110),
    Car("皖A195K9", "ccpd_scene_0001.jpg", "chuangye_gate", "frigate", 40, 300),
    Car("浙F359DZ", "hyperlpr_scene_0008.jpg", "wanchang_ramp", "frigate", 60, 330),
)
CYCLE_S = 600


@dataclass(frozen=True)
class Picture:
    scene: bytes
    crop: bytes
    box: tuple[float, float, float, float]  # the plate, as fractions of the scene
    size: tuple[int, int]


def picture_load(name: str) -> Picture:
    """A scene from demo_images/ with its plate found by our own reader (the camera's
    plate picture and plate rectangle are what a real ANPR camera sends with it)."""
    from civicloop.firelane.plates import plate_read

    scene = (IMAGES / name).read_bytes()
    image = Image.open(io.BytesIO(scene)).convert("RGB")
    w, h = image.size
    reading = plate_read(image=scene, kind="scene")
    box = reading.box or (0.4, 0.6, 0.6, 0.68)
    x1, y1, x2, y2 = box
    pad_x, pad_y = (x2 - x1) * 0.08, (y2 - y1) * 0.15
    crop = image.crop(
        (
            int(max(0, x1 - pad_x) * w),
            int(max(0, y1 - pad_y) * h),
            int(min(1, x2 + pad_x) * w),
            int(min(1, y2 + pad_y) * h),
        )
    )
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=92)
    return Picture(scene=scene, crop=buf.getvalue(), box=tuple(box), size=(w, h))  # type: ignore[arg-type]


def osd_stamp(scene: bytes, *, when: datetime, camera: str) -> bytes:
    """The scene with the camera's on-screen time and name burnt in, as real cameras do;
    it also makes every frame of a replayed photo a different file."""
    from PIL import ImageDraw, ImageFont

    image = Image.open(io.BytesIO(scene)).convert("RGB")
    text = f"{timezone.localtime(when):%Y-%m-%d %H:%M:%S}  {camera}"
    size = max(14, image.size[0] // 45)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((8, 8), text, font=font)
    draw.rectangle((left - 4, top - 4, right + 4, bottom + 4), fill=(0, 0, 0))
    draw.text((8, 8), text, fill=(255, 255, 255), font=font)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def isapi_alert_xml(
    *, plate: str, when: datetime, box: tuple[float, float, float, float], event_id: str
) -> bytes:
    """An EventNotificationAlert (eventType ANPR) as a Hikvision camera sends it."""
    x1, y1, x2, y2 = box
    rect = (int(x1 * 1000), int(y1 * 1000), int((x2 - x1) * 1000), int((y2 - y1) * 1000))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<ipAddress>127.0.0.1</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<channelID>1</channelID>
<dateTime>{when.isoformat(timespec="milliseconds")}</dateTime>
<activePostCount>1</activePostCount>
<eventType>ANPR</eventType>
<eventState>active</eventState>
<eventDescription>ANPR</eventDescription>
<ANPR>
<country>3</country>
<licensePlate>{plate}</licensePlate>
<confidenceLevel>96</confidenceLevel>
<plateType>92TypeCivil</plateType>
<plateColor>blue</plateColor>
<vehicleType>vehicle</vehicleType>
<pictureInfoList>
<pictureInfo><fileName>licensePlatePicture.jpg</fileName><type>licensePlatePicture</type><dataType>0</dataType></pictureInfo>
<pictureInfo><fileName>detectionPicture.jpg</fileName><type>detectionPicture</type><dataType>0</dataType>
<plateRect><X>{rect[0]}</X><Y>{rect[1]}</Y><width>{rect[2]}</width><height>{rect[3]}</height></plateRect></pictureInfo>
</pictureInfoList>
</ANPR>
<UUID>{event_id}</UUID>
<picNum>2</picNum>
</EventNotificationAlert>
""".encode()


def frigate_event(
    *,
    kind: str,
    object_id: str,
    camera: str,
    frame_time: float,
    start_time: float,
    plate: str,
    picture: Picture,
    before: dict[str, Any] | None,
) -> dict[str, Any]:
    """A `frigate/events` message as Frigate 0.16+ publishes it (`TrackedObject.to_dict`):
    the tracked car, its zones, and its plate as `recognized_license_plate: [plate, score]`
    (the tuple Frigate's LPR stores on the object; there is no separate score field)."""
    w, h = picture.size
    x1, y1, x2, y2 = picture.box
    # Frigate's box is the car's, in pixels: around and above the plate.
    car = [
        max(0, (x1 - (x2 - x1)) * w),
        max(0, (y1 - 4 * (y2 - y1)) * h),
        min(w, (x2 + (x2 - x1)) * w),
        min(h, (y2 + (y2 - y1)) * h),
    ]
    area = int((car[2] - car[0]) * (car[3] - car[1]))
    plate_read = [plate, 0.93]
    after = {
        "id": object_id,
        "camera": camera,
        "frame_time": frame_time,
        "snapshot": {
            "frame_time": frame_time,
            "box": car,
            "area": area,
            "region": [0, 0, w, h],
            "score": 0.91,
            "attributes": [],
            "current_estimated_speed": 0,
            "velocity_angle": 0,
            "path_data": [],
            "recognized_license_plate": plate_read,
            "recognized_license_plate_score": None,
        },
        "label": "car",
        "sub_label": None,
        "top_score": 0.91,
        "false_positive": False,
        "start_time": start_time,
        "end_time": frame_time if kind == "end" else None,
        "score": 0.9,
        "box": car,
        "area": area,
        "ratio": round((car[2] - car[0]) / max(car[3] - car[1], 1), 6),
        "region": [0, 0, w, h],
        "active": kind == "new",
        "stationary": kind != "new",
        "motionless_count": 0 if kind == "new" else 40,
        "position_changes": 1,
        "current_zones": ["fire_lane"],
        "entered_zones": ["fire_lane"],
        "has_clip": True,
        "has_snapshot": True,
        "attributes": {},
        "current_attributes": [],
        "pending_loitering": False,
        "max_severity": "alert",
        "current_estimated_speed": 0,
        "average_estimated_speed": 0,
        "velocity_angle": 0,
        "path_data": [],
        "recognized_license_plate": plate_read,
    }
    return {"type": kind, "before": before or after, "after": after}


class _SnapshotHandler(BaseHTTPRequestHandler):
    server: LoopbackHTTPServer

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        data = None
        if len(parts) == 4 and parts[:2] == ["api", "events"] and parts[3] == "snapshot.jpg":
            data = self.server.fake.snapshots.get(parts[2])
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FrigateSnapshots(LoopbackServer):
    """Frigate's snapshot API (`/api/events/<id>/snapshot.jpg`) for the simulated cameras."""

    handler_class = _SnapshotHandler

    def __init__(self, *, port: int) -> None:
        super().__init__(port=port)
        self.snapshots: dict[str, bytes] = {}


class CameraSimulator(threading.Thread):
    """Plays a scenario in a loop (or `cycles` times) in a daemon thread."""

    def __init__(
        self,
        *,
        base_url: str,
        mqtt_url: str = "",
        snapshot_port: int | None = None,
        scenario: tuple[Car, ...] = DEMO_SCENARIO,
        period_s: float = 15.0,
        cycle_s: float = CYCLE_S,
        cycles: int | None = None,
        speed: float = 1.0,
    ) -> None:
        super().__init__(name="firelane-simulator", daemon=True)
        self.base_url = base_url.rstrip("/")
        self.mqtt_url = mqtt_url
        self.scenario = scenario
        self.period_s = period_s
        self.cycle_s = cycle_s
        self.cycles = cycles
        self.speed = speed
        self.sent = 0
        self.errors = 0
        self._stop_event = threading.Event()
        self._pictures: dict[str, Picture] = {}
        # Frigate sends the object's previous state as "before" with each update.
        self._frigate_last: dict[str, dict[str, Any]] = {}
        self._mqtt: Any = None
        self._snapshots: FrigateSnapshots | None = None
        if snapshot_port is not None:
            self._snapshots = FrigateSnapshots(port=snapshot_port).start()

    def stop(self) -> None:
        self._stop_event.set()
        if self._snapshots is not None:
            self._snapshots.stop()
        if self._mqtt is not None:
            self._mqtt.loop_stop()
            self._mqtt.disconnect()

    def _picture(self, name: str) -> Picture:
        if name not in self._pictures:
            self._pictures[name] = picture_load(name)
        return self._pictures[name]

    def _mqtt_client(self) -> Any:
        if self._mqtt is None and self.mqtt_url:
            import paho.mqtt.client as mqtt

            url = urlsplit(self.mqtt_url)
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2, client_id=f"civicloop-sim-{uuid.uuid4().hex[:8]}"
            )
            if url.username:
                client.username_pw_set(url.username, url.password)
            client.connect(url.hostname or "127.0.0.1", url.port or 1883)
            client.loop_start()
            self._mqtt = client
        return self._mqtt

    def push_isapi(self, *, car: Car, when: datetime, event_id: str) -> int:
        picture = self._picture(car.image)
        xml = isapi_alert_xml(plate=car.plate, when=when, box=picture.box, event_id=event_id)
        files = [
            ("anpr.xml", ("anpr.xml", xml, "application/xml")),
            (
                "detectionPicture.jpg",
                (
                    "detectionPicture.jpg",
                    osd_stamp(picture.scene, when=when, camera=car.camera),
                    "image/jpeg",
                ),
            ),
            ("licensePlatePicture.jpg", ("licensePlatePicture.jpg", picture.crop, "image/jpeg")),
        ]
        response = requests.post(
            f"{self.base_url}/intake/isapi/{car.camera}/", files=files, timeout=10
        )
        if response.status_code != 200:
            logger.warning(
                "simulator: ISAPI push refused %s: %s", response.status_code, response.text[:200]
            )
        return response.status_code

    def publish_frigate(
        self, *, car: Car, object_id: str, kind: str, frame_time: float, start_time: float
    ) -> bool:
        client = self._mqtt_client()
        if client is None:
            return False
        picture = self._picture(car.image)
        if self._snapshots is not None:
            when = datetime.fromtimestamp(frame_time, tz=timezone.get_current_timezone())
            self._snapshots.snapshots[object_id] = osd_stamp(
                picture.scene, when=when, camera=car.camera
            )
        message = frigate_event(
            kind=kind,
            object_id=object_id,
            camera=car.camera,
            frame_time=frame_time,
            start_time=start_time,
            plate=car.plate,
            picture=picture,
            before=self._frigate_last.get(object_id),
        )
        self._frigate_last[object_id] = message["after"]
        topic = getattr(settings, "FRIGATE_EVENTS_TOPIC", "frigate/events")
        info = client.publish(topic, json.dumps(message, ensure_ascii=False), qos=1)
        info.wait_for_publish(timeout=5)
        return True

    def play_cycle(self, *, cycle: int) -> None:
        start = time.monotonic()
        started = timezone.now()
        ids = {car: f"sim-{uuid.uuid4().hex[:12]}" for car in self.scenario}
        tick = 0
        while not self._stop_event.is_set():
            elapsed = (time.monotonic() - start) * self.speed
            if elapsed > self.cycle_s:
                return
            for car in self.scenario:
                if not car.arrive_s <= elapsed <= car.leave_s:
                    continue
                when = started + timedelta(seconds=elapsed)
                try:
                    if car.vendor == "frigate":
                        kind = (
                            "new"
                            if elapsed - car.arrive_s < self.period_s * self.speed
                            else "update"
                        )
                        self.publish_frigate(
                            car=car,
                            object_id=ids[car],
                            kind=kind,
                            frame_time=when.timestamp(),
                            start_time=(started + timedelta(seconds=car.arrive_s)).timestamp(),
                        )
                    elif self.push_isapi(car=car, when=when, event_id=f"{ids[car]}-{tick}") != 200:
                        self.errors += 1
                        continue
                    self.sent += 1
                except Exception:
                    self.errors += 1
                    logger.exception("simulator: could not send %s", car.plate)
            tick += 1
            self._stop_event.wait(self.period_s)

    def pictures_load(self) -> None:
        """Read every picture of the scenario (and find its plate) now, so that the first
        tick of a cycle is not late by the time that takes."""
        for car in self.scenario:
            self._picture(car.image)

    def run(self) -> None:
        self.pictures_load()
        cycle = 0
        while not self._stop_event.is_set() and (self.cycles is None or cycle < self.cycles):
            self.play_cycle(cycle=cycle)
            cycle += 1


def simulator_start() -> CameraSimulator | None:
    """Start the demo's simulator when FIRELANE_SIMULATOR is on (`make run` turns it on)."""
    if not getattr(settings, "FIRELANE_SIMULATOR", False):
        return None
    api = urlsplit(getattr(settings, "FRIGATE_API_URL", "") or "")
    port = api.port if api.hostname in ("127.0.0.1", "localhost") else None
    simulator = CameraSimulator(
        base_url=settings.SITE_URL,
        mqtt_url=getattr(settings, "MQTT_URL", ""),
        snapshot_port=port,
    )
    simulator.start()
    return simulator
