"""Our JSON form of a camera event, for vendors other than Hikvision and Frigate.

{"camera": serial, "event_id": str, "time": ISO 8601 with offset, "plate": str,
 "color": str, "confidence": 0..1, "scene_jpeg": base64, "plate_jpeg": base64 (optional),
 "box": [x1, y1, x2, y2] fractions (optional)}
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime
from typing import Any

from civicloop.firelane.errors import IntakeError, IntakeReason
from civicloop.firelane.intake.events import CameraEvent, color_from_camera

EVENT_ID_MAX_CHARS = 100


def _field(
    body: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True
) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise IntakeError(IntakeReason.MALFORMED, f"{name} is required")
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        label = kind.__name__ if isinstance(kind, type) else "number"
        raise IntakeError(IntakeReason.MALFORMED, f"{name} must be a {label}")
    return value


def _jpeg(body: dict[str, Any], name: str, *, required: bool) -> bytes | None:
    value = _field(body, name, str, required=required)
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IntakeError(IntakeReason.MALFORMED, f"{name} is not base64") from exc


def json_event_parse(*, body: bytes) -> CameraEvent:
    """The `CameraEvent` of one JSON body, or IntakeError(malformed) naming the field."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntakeError(IntakeReason.MALFORMED, "body is not JSON") from exc
    except RecursionError as exc:  # the parser recurses once per level of nesting
        raise IntakeError(IntakeReason.MALFORMED, "body is nested too deeply") from exc
    if not isinstance(data, dict):
        raise IntakeError(IntakeReason.MALFORMED, "body must be a JSON object")
    serial = _field(data, "camera", str).strip()
    event_id = _field(data, "event_id", str).strip()
    if not serial or len(serial) > 64:
        raise IntakeError(IntakeReason.MALFORMED, "camera must be 1-64 characters")
    if not event_id or len(event_id) > EVENT_ID_MAX_CHARS:
        raise IntakeError(
            IntakeReason.MALFORMED, f"event_id must be 1-{EVENT_ID_MAX_CHARS} characters"
        )
    try:
        moment = datetime.fromisoformat(_field(data, "time", str).replace("Z", "+00:00"))
    except ValueError as exc:
        raise IntakeError(IntakeReason.MALFORMED, "time is not ISO 8601") from exc
    if moment.tzinfo is None:
        raise IntakeError(IntakeReason.MALFORMED, "time needs a UTC offset")
    plate = _field(data, "plate", str).strip()
    if len(plate) > 16:
        raise IntakeError(IntakeReason.MALFORMED, "plate longer than 16 characters")
    color = _field(data, "color", str, required=False) or ""
    confidence = _field(data, "confidence", (int, float), required=False)
    if confidence is not None and not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        raise IntakeError(IntakeReason.MALFORMED, "confidence must be between 0 and 1")
    box = _field(data, "box", list, required=False)
    if box is not None:
        if len(box) != 4 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in box
        ):
            raise IntakeError(IntakeReason.MALFORMED, "box must be 4 fractions [x1, y1, x2, y2]")
        if not (box[0] < box[2] and box[1] < box[3]):
            raise IntakeError(IntakeReason.MALFORMED, "box must have x1 < x2 and y1 < y2")
    return CameraEvent(
        source="api",
        serial=serial,
        event_key=f"api:{event_id}",
        camera_time=moment,
        plate=plate,
        color=color_from_camera(color),
        confidence=float(confidence) if confidence is not None else None,
        scene_jpeg=_jpeg(data, "scene_jpeg", required=True),
        plate_jpeg=_jpeg(data, "plate_jpeg", required=False),
        box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])) if box else None,
    )
