"""Frigate NVR events (MQTT topic `frigate/events`) into `CameraEvent`s.

A message is `{"type": "new" | "update" | "end", "before": {...}, "after": {...}}`; `after`
describes one tracked object (`TrackedObject.to_dict` in Frigate's source): `id` (stable
for the object's whole stay in view), `camera` (Frigate's camera name = our
Camera.serial), `frame_time` (epoch seconds of the frame), `label`, `box` ([x1, y1, x2, y2]
pixels of the detect resolution), `has_snapshot`, and the plate, which Frigate's versions
carry differently:

- 0.16 and later (its own LPR): `recognized_license_plate` is `[plate, score]`, the
  `(plate, score)` tuple `set_recognized_license_plate` stores on the object. The MQTT
  documentation shows a string with a separate `recognized_license_plate_score`; both are
  read. A known plate's *name* (`lpr.known_plates`) goes to `sub_label`, so the
  recognised plate wins over `sub_label`.
- 0.13 to 0.15 (no LPR of its own): an external recogniser (frigate_plate_recognizer,
  CodeProject.AI ...) posts the plate to `POST /api/events/<id>/sub_label`, and
  `sub_label` is `[plate, score]`. Frigate+ also puts delivery logos there (`["ups",
  0.8]`), so a sub label is read as a plate only when it looks like one.

Frigate's LPR runs on `car` and `motorcycle`, and dedicated LPR cameras with a
plate-detecting model track `license_plate` objects: FRIGATE_VEHICLE_LABELS lists the
labels taken as vehicles.

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
from civicloop.firelane.plates.normalize import PROVINCES, plate_compact, plate_normalize

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


def _score(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return min(max(float(value), 0.0), 1.0)
    return None


def _pair(value: object) -> tuple[str, float | None]:
    """A plate field as (text, score): `[text, score]` (how Frigate serialises its
    `(value, score)` tuples), or a bare string without a score."""
    score: object = None
    if isinstance(value, list | tuple):
        pair = list(value)
        value, score = [*pair, None, None][:2]
    text = value.strip() if isinstance(value, str) else ""
    return text, _score(score) if text else None


def _looks_like_plate(text: str) -> bool:
    # A Chinese plate, or a misread one (it starts with a province character); not a
    # Frigate+ logo ("ups", "fedex") nor a known plate's name.
    compact = plate_compact(text)
    return plate_normalize(text) is not None or (6 <= len(compact) <= 9 and compact[0] in PROVINCES)


def _plate(after: dict[str, Any]) -> tuple[str, float | None]:
    plate, score = _pair(after.get("recognized_license_plate"))
    if plate:
        if score is None:
            score = _score(after.get("recognized_license_plate_score"))
        return plate, score
    label, label_score = _pair(after.get("sub_label"))
    if label and _looks_like_plate(label):
        return label, label_score
    return "", None


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
