"""Frigate NVR events (MQTT topic `frigate/events`) into `CameraEvent`s.

A message is `{"type": "new" | "update" | "end", "before": {...}, "after": {...}}`; `after`
describes one tracked object: `id` (stable for the object's whole stay in view), `camera`
(Frigate's camera name = our Camera.serial), `frame_time` (epoch seconds of the frame),
`label`, `box` ([x1, y1, x2, y2] pixels of the detect resolution), `has_snapshot`,
`recognized_license_plate` and `recognized_license_plate_score` (Frigate 0.16 LPR).

Each message whose `after.frame_time` is new is one sighting, keyed "<id>:<frame_time>",
so the lead's tracker sees the car again and again while it stays. The snapshot comes
from Frigate's HTTP API (`/api/events/<id>/snapshot.jpg`) when it has one.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from civicloop.firelane.errors import IntakeError, IntakeReason
from civicloop.firelane.intake.events import CameraEvent
from civicloop.firelane.intake.services import RefusalNote

logger = logging.getLogger(__name__)

SOURCE = "mqtt"
SNAPSHOT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FrigateMessage:
    """What one message means: an event to record (`event`, with `frigate_id` and
    `has_snapshot` for fetching its picture), a refusal to count, or neither (an update
    that shows no new frame)."""

    event: CameraEvent | None = None
    frigate_id: str = ""
    has_snapshot: bool = False
    refusal: RefusalNote | None = None


def _plate(after: dict[str, Any]) -> tuple[str, float | None]:
    plate = after.get("recognized_license_plate")
    score = after.get("recognized_license_plate_score")
    # Some versions carry [text, score] pairs (as sub_label does).
    if isinstance(plate, list | tuple) and plate:
        plate, score = plate[0], (plate[1] if len(plate) > 1 and score is None else score)
    text = plate.strip() if isinstance(plate, str) else ""
    value: float | None = None
    if isinstance(score, int | float) and not isinstance(score, bool) and math.isfinite(score):
        value = min(max(float(score), 0.0), 1.0)
    return text, value


def _box_px(after: dict[str, Any]) -> tuple[float, float, float, float] | None:
    box = after.get("box")
    if (
        isinstance(box, list)
        and len(box) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        and box[0] < box[2]
        and box[1] < box[3]
    ):
        return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    return None


def frigate_message_parse(*, payload: bytes) -> FrigateMessage:
    """Read one `frigate/events` payload; never raises for bad input (it becomes a refusal)."""
    try:
        return _parse(payload)
    except IntakeError as exc:
        return FrigateMessage(refusal=RefusalNote(SOURCE, exc.reason, "", exc.detail))


def _parse(payload: bytes) -> FrigateMessage:
    try:
        message = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntakeError(IntakeReason.MALFORMED, "payload is not JSON") from exc
    if not isinstance(message, dict) or not isinstance(message.get("after"), dict):
        raise IntakeError(IntakeReason.MALFORMED, "no 'after' object")
    after: dict[str, Any] = message["after"]
    before = message.get("before") if isinstance(message.get("before"), dict) else None
    object_id, camera = after.get("id"), after.get("camera")
    frame_time = after.get("frame_time")
    if not isinstance(object_id, str) or not object_id or len(object_id) > 100:
        raise IntakeError(IntakeReason.MALFORMED, "after.id missing")
    if not isinstance(camera, str) or not camera or len(camera) > 64:
        raise IntakeError(IntakeReason.MALFORMED, "after.camera missing")
    if (
        not isinstance(frame_time, int | float)
        or isinstance(frame_time, bool)
        or not math.isfinite(frame_time)
        or frame_time <= 0
    ):
        return FrigateMessage(
            refusal=RefusalNote(SOURCE, IntakeReason.MALFORMED, camera, "after.frame_time missing")
        )
    kind = message.get("type")
    if kind in ("update", "end") and before is not None and before.get("frame_time") == frame_time:
        return FrigateMessage()  # nothing new was seen: no sighting, nothing refused
    label = after.get("label")
    if label not in settings.FRIGATE_VEHICLE_LABELS:
        return FrigateMessage(
            refusal=RefusalNote(
                SOURCE, IntakeReason.NOT_VEHICLE, camera, f"label {str(label)[:40]}"
            )
        )
    plate, score = _plate(after)
    if not plate:
        return FrigateMessage(
            refusal=RefusalNote(SOURCE, IntakeReason.NO_PLATE, camera, f"object {object_id[:60]}")
        )
    if len(plate) > 16:
        return FrigateMessage(
            refusal=RefusalNote(SOURCE, IntakeReason.MALFORMED, camera, "plate longer than 16")
        )
    event = CameraEvent(
        source=SOURCE,
        serial=camera,
        event_key=f"{object_id}:{frame_time}",
        camera_time=datetime.fromtimestamp(float(frame_time), tz=UTC),
        plate=plate,
        confidence=score,
        box_px=_box_px(after),
    )
    return FrigateMessage(
        event=event, frigate_id=object_id, has_snapshot=bool(after.get("has_snapshot"))
    )


def frigate_snapshot_fetch(
    *, frigate_id: str, session: requests.Session | None = None
) -> bytes | None:
    """The event's snapshot JPEG from Frigate's API, or None (no API configured, timeout,
    error): the sighting is then stored without images and the tracker sends it to review."""
    base = settings.FRIGATE_API_URL
    if not base:
        return None
    url = f"{base}/api/events/{quote(frigate_id, safe='')}/snapshot.jpg"
    try:
        response = (session or requests).get(
            url, timeout=settings.FRIGATE_SNAPSHOT_TIMEOUT_S, stream=True
        )
        with response:
            if response.status_code != 200:
                logger.warning("Frigate snapshot %s: HTTP %s", frigate_id, response.status_code)
                return None
            data = response.raw.read(SNAPSHOT_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        logger.warning("Frigate snapshot %s not fetched: %s", frigate_id, exc)
        return None
    if len(data) > SNAPSHOT_MAX_BYTES:
        logger.warning("Frigate snapshot %s larger than %s bytes", frigate_id, SNAPSHOT_MAX_BYTES)
        return None
    return data
