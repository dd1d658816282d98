"""The event every way in produces, the outcome of recording it, and the refusal reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from civicloop.core.errors import REFUSAL_STATUS, Refusal
from civicloop.firelane.errors import INTAKE_REFUSALS


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
    HEARTBEAT = "heartbeat"  # an alert that only says the camera is alive


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What became of one event: stored, a replay of a stored one, a heartbeat (nothing
    to store, the camera marked alive), or refused (why)."""

    outcome: Outcome
    serial: str
    event_key: str
    sighting_id: int | None = None
    reason: str = ""
    detail: str = ""

    @property
    def http_status(self) -> int:
        if self.outcome is Outcome.REFUSED:
            return REFUSAL_STATUS[INTAKE_REFUSALS.get(self.reason, Refusal.INVALID)]
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
