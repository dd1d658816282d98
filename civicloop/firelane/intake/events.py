"""The event every way in produces, the outcome of recording it, and the refusal reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Refusal(StrEnum):
    """Why an event was not stored; the code is counted in `IntakeRefusal.reason`."""

    MALFORMED = "malformed"  # unparseable XML/JSON/multipart, missing or invalid field
    NOT_ANPR = "not_anpr"  # an ISAPI alert that is not a plate read (heartbeat, motion ...)
    MISSING_IMAGE = "missing_image"
    BAD_IMAGE = "bad_image"  # a "JPEG" that is not one
    TOO_LARGE = "too_large"
    UNAUTHORIZED = "unauthorized"  # JSON API without a valid key
    UNKNOWN_CAMERA = "unknown_camera"
    CAMERA_DISABLED = "camera_disabled"
    ADDRESS = "address"  # remote address not in the camera's allowlist
    FUTURE = "future"
    LATE = "late"
    NO_PLATE = "no_plate"  # Frigate object without a recognised plate
    NOT_VEHICLE = "not_vehicle"  # Frigate object that is not a vehicle label


# The HTTP answer of each refusal on the HTTP ways in.
HTTP_STATUS: dict[str, int] = {
    Refusal.MALFORMED: 400,
    Refusal.NOT_ANPR: 400,
    Refusal.MISSING_IMAGE: 400,
    Refusal.BAD_IMAGE: 400,
    Refusal.TOO_LARGE: 413,
    Refusal.UNAUTHORIZED: 401,
    Refusal.UNKNOWN_CAMERA: 404,
    Refusal.CAMERA_DISABLED: 403,
    Refusal.ADDRESS: 403,
    Refusal.FUTURE: 422,
    Refusal.LATE: 422,
    Refusal.NO_PLATE: 422,
    Refusal.NOT_VEHICLE: 422,
}


class IntakeError(Exception):
    """Input refused before it became a `CameraEvent` (a parse or size error)."""

    def __init__(self, reason: Refusal, detail: str = ""):
        self.reason = reason
        self.detail = detail[:255]
        super().__init__(f"{reason}: {detail}" if detail else str(reason))


@dataclass(frozen=True, slots=True)
class CameraEvent:
    """One plate read as a camera reported it, before any rule was applied.

    `camera_time` is aware and in the camera's own clock (not yet corrected). `box` is
    [x1, y1, x2, y2] as fractions of the scene; `box_px` is the same in pixels of the
    camera's configured image size, for sources that only know pixels (Frigate)."""

    source: str  # a Sighting.Source value
    serial: str
    event_key: str
    camera_time: datetime
    plate: str
    color: str = ""
    confidence: float | None = None
    scene_jpeg: bytes | None = None
    plate_jpeg: bytes | None = None
    box: tuple[float, float, float, float] | None = None
    box_px: tuple[float, float, float, float] | None = None
    flags: tuple[str, ...] = field(default_factory=tuple)


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What became of one event: stored, a replay of a stored one, or refused (why)."""

    outcome: Outcome
    serial: str
    event_key: str
    sighting_id: int | None = None
    reason: str = ""
    detail: str = ""

    @property
    def http_status(self) -> int:
        if self.outcome is Outcome.REFUSED:
            return HTTP_STATUS.get(self.reason, 400)
        return 200


PLATE_COLORS = ("blue", "yellow", "green", "white", "black")


def color_from_camera(value: str | None) -> str:
    """A camera's plate colour as one of `PlateColor`'s values, or "" when unknown."""
    text = (value or "").strip().lower()
    if not text:
        return ""
    if text in PLATE_COLORS:
        return text
    # Hikvision reports new-energy plates as e.g. "newEnergyGreen"; Chinese forms appear too.
    for word, color in (
        ("green", "green"),
        ("newenergy", "green"),
        ("绿", "green"),
        ("蓝", "blue"),
        ("黄", "yellow"),
        ("白", "white"),
        ("黑", "black"),
    ):
        if word in text:
            return color
    return ""
