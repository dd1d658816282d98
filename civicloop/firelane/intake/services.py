"""Recording camera events: the rules every way in shares, and the refusal counters.

`sightings_record` is the one writer of `Sighting` rows from cameras. The ISAPI view, the
JSON API and the MQTT consumer all call it, so a rule (clock correction, image checks,
replays, counting refusals) holds whichever way an event came in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image

from civicloop.core.jobs import run_after_commit
from civicloop.firelane.intake.events import (
    CameraEvent,
    Outcome,
    RecordOutcome,
    Refusal,
)
from civicloop.firelane.models import Camera, IntakeRefusal, Sighting
from civicloop.firelane.plates.normalize import plate_normalize
from civicloop.firelane.tasks import PROCESS_TASK

logger = logging.getLogger(__name__)

# Refusals that happen in normal operation (Frigate tracks people, cars before their plate
# is read): counted, logged quietly.
ROUTINE_REFUSALS = frozenset({Refusal.NO_PLATE, Refusal.NOT_VEHICLE})
SAFE_SERIAL = re.compile(r"[^A-Za-z0-9._-]")
PLATE_SEPARATORS = re.compile(r"[\s·.\-_•]")
PLATE_MAX_CHARS = 16


@dataclass(frozen=True, slots=True)
class RefusalNote:
    """One refused event, to be counted: which way in, why, which serial it claimed."""

    source: str
    reason: str
    serial: str = ""
    detail: str = ""


def plate_from_camera(value: str) -> str:
    """The camera's plate text in its canonical spelling; text that is not a plate is kept
    (without separators, upper case) for the reviewer rather than dropped."""
    raw = PLATE_SEPARATORS.sub("", value or "").upper()
    return (plate_normalize(value) if raw else None) or raw[:PLATE_MAX_CHARS]


def address_allowed(*, allowlist: str, remote_addr: str | None) -> bool:
    """True when `remote_addr` is one of the IPs or inside one of the CIDRs of `allowlist`
    (space or comma separated). An empty allowlist allows nobody: a camera must be
    registered with its address before it can push."""
    if not remote_addr:
        return False
    try:
        addr = ipaddress.ip_address(remote_addr.strip())
    except ValueError:
        return False
    for item in re.split(r"[\s,]+", allowlist or ""):
        if not item:
            continue
        try:
            if addr in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            logger.warning("Camera allowlist entry %r is not an address or network", item)
    return False


def jpeg_size(data: bytes | None) -> tuple[int, int] | None:
    """(width, height) when `data` is a JPEG by its content (SOI/EOI markers and Pillow's
    verify), else None. The name or content type a client gave is not evidence."""
    if not data or len(data) < 4 or data[:3] != b"\xff\xd8\xff":
        return None
    # Some cameras pad the picture part with NUL bytes after the EOI marker.
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return None
    try:
        with Image.open(BytesIO(data)) as image:
            if image.format != "JPEG":
                return None
            size = image.size
            image.verify()
    except Exception:  # Pillow raises many types for broken files; all mean "not a JPEG"
        return None
    return size


def intake_refusals_count(*, notes: Iterable[RefusalNote], now: datetime | None = None) -> int:
    """Count (and log) refused events in today's per-reason counters.

    Guarantees: one counter row per (day, source, reason, serial), incremented in SQL
    (F("count") + n), so concurrent writers never lose a count; a first insert that races
    another is retried as an increment. Returns how many events were counted."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    grouped: dict[tuple[str, str, str], list[RefusalNote]] = {}
    for note in notes:
        level = logging.INFO if note.reason in ROUTINE_REFUSALS else logging.WARNING
        logger.log(
            level,
            "firelane intake refused (%s) from %s camera %r: %s",
            note.reason,
            note.source,
            note.serial,
            note.detail,
        )
        key = (note.source[:16], str(note.reason)[:32], note.serial[:64])
        grouped.setdefault(key, []).append(note)
    total = 0
    for (source, reason, serial), group in sorted(grouped.items()):
        _refusal_add(
            day=day,
            source=source,
            reason=reason,
            serial=serial,
            count=len(group),
            detail=group[-1].detail[:255],
            now=now,
        )
        total += len(group)
    return total


def _refusal_add(
    *, day: date, source: str, reason: str, serial: str, count: int, detail: str, now: datetime
) -> None:
    counter = IntakeRefusal.objects.filter(day=day, source=source, reason=reason, serial=serial)
    values = {"count": F("count") + count, "last_at": now, "last_detail": detail}
    if counter.update(**values):
        return
    try:
        with transaction.atomic():
            IntakeRefusal.objects.create(
                day=day,
                source=source,
                reason=reason,
                serial=serial,
                count=count,
                last_at=now,
                last_detail=detail,
            )
    except IntegrityError:
        # Another writer created today's row between our UPDATE and INSERT.
        counter.update(**values)


@dataclass(slots=True)
class _Candidate:
    index: int
    event: CameraEvent
    camera: Camera
    taken_at: datetime
    flags: list[str]
    scene_size: tuple[int, int] | None
    sighting: Sighting | None = None


def _check_camera(
    *, event: CameraEvent, camera: Camera | None, remote_addr: str | None
) -> tuple[str, str] | None:
    if camera is None:
        return Refusal.UNKNOWN_CAMERA, "no camera with this serial"
    if camera.status == Camera.Status.DISABLED or not camera.site.is_active:
        return Refusal.CAMERA_DISABLED, "camera or site disabled"
    if remote_addr is not None and not address_allowed(
        allowlist=camera.ip_allowlist, remote_addr=remote_addr
    ):
        return Refusal.ADDRESS, f"address {remote_addr} not in the allowlist"
    return None


def _check_time(
    *, event: CameraEvent, camera: Camera, now: datetime
) -> tuple[datetime, list[str], tuple[str, str] | None]:
    taken_at = event.camera_time - timedelta(seconds=camera.clock_offset_s)
    if taken_at > now + timedelta(seconds=settings.FIRELANE_MAX_FUTURE_S):
        return taken_at, [], (Refusal.FUTURE, f"taken_at {taken_at.isoformat()} is in the future")
    if taken_at < now - timedelta(seconds=settings.FIRELANE_MAX_LATE_S):
        return taken_at, [], (Refusal.LATE, f"taken_at {taken_at.isoformat()} is too old")
    flags = list(event.flags)
    # The camera's clock (less its known offset) far from our receipt time: it drifted,
    # or the event waited somewhere; either way the times need a second look.
    if abs((taken_at - now).total_seconds()) > settings.FIRELANE_CLOCK_SKEW_S:
        flags.append("clock_skew")
    return taken_at, flags, None


def _check_images(event: CameraEvent) -> tuple[tuple[int, int] | None, tuple[str, str] | None]:
    scene_size = None
    if event.scene_jpeg is not None:
        scene_size = jpeg_size(event.scene_jpeg)
        if scene_size is None:
            return None, (Refusal.BAD_IMAGE, "scene picture is not a JPEG")
    if event.plate_jpeg is not None and jpeg_size(event.plate_jpeg) is None:
        return None, (Refusal.BAD_IMAGE, "plate picture is not a JPEG")
    return scene_size, None


def _box(
    event: CameraEvent, camera: Camera, scene_size: tuple[int, int] | None
) -> list[float] | None:
    if event.box is not None:
        return [round(v, 5) for v in event.box]
    if event.box_px is None:
        return None
    width, height = scene_size or (camera.image_width, camera.image_height)
    if not width or not height:
        return None
    x1, y1, x2, y2 = event.box_px
    return [
        round(min(max(v, 0.0), 1.0), 5) for v in (x1 / width, y1 / height, x2 / width, y2 / height)
    ]


def _image_store(*, data: bytes, serial: str, day: date, kind: str) -> tuple[str, str, bool]:
    """Store `data` under a content-addressed name; (name, sha256, written_now)."""
    digest = hashlib.sha256(data).hexdigest()
    safe = SAFE_SERIAL.sub("_", serial)[:64] or "_"
    name = f"firelane/{day:%Y/%m/%d}/{safe}/{digest}-{kind}.jpg"
    if default_storage.exists(name):
        # The same picture already stored (a replay, or a camera resending a frame).
        return name, digest, False
    return default_storage.save(name, ContentFile(data)), digest, True


def _files_delete(names: Iterable[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("Could not delete intake file %s", name)


def sightings_record(
    *, events: Sequence[CameraEvent], remote_addr: str | None, now: datetime | None = None
) -> list[RecordOutcome]:
    """Store each event once as a `Sighting`, or say why not; one outcome per event, in order.

    Guarantees:
    - the camera exists, is not disabled (nor its site), and, when `remote_addr` is given
      (the ISAPI push), that address is in its allowlist;
    - `taken_at` is the camera time less the camera's known clock offset; events more than
      FIRELANE_MAX_FUTURE_S ahead or FIRELANE_MAX_LATE_S behind are refused, and a clock
      further than FIRELANE_CLOCK_SKEW_S from our receipt time is flagged `clock_skew`;
    - pictures are JPEGs by content, stored content-addressed with their SHA-256;
    - a replay (same camera and event key, in this batch, earlier, or by a concurrent
      writer) returns the stored row: never a second row, never an error; pictures written
      for a write that lost that race are deleted;
    - every refusal is logged and counted (`IntakeRefusal`), in the same transaction as the
      rows stored, and the tracker is hinted once after commit if anything was stored;
    - each camera that pushed is marked online, writing `last_seen_at` at most every
      FIRELANE_LAST_SEEN_EVERY_S seconds.
    """
    now = now or timezone.now()
    if not events:
        return []
    cameras = {
        c.serial: c
        for c in Camera.objects.select_related("site").filter(serial__in={e.serial for e in events})
    }
    outcomes: list[RecordOutcome | None] = [None] * len(events)
    refusals: list[RefusalNote] = []
    seen_cameras: dict[int, Camera] = {}
    candidates: list[_Candidate] = []

    def refuse(index: int, event: CameraEvent, reason: str, detail: str) -> None:
        outcomes[index] = RecordOutcome(
            Outcome.REFUSED, event.serial, event.event_key, reason=reason, detail=detail
        )
        refusals.append(RefusalNote(event.source, reason, event.serial, detail))

    for index, event in enumerate(events):
        camera = cameras.get(event.serial)
        problem = _check_camera(event=event, camera=camera, remote_addr=remote_addr)
        if problem is not None or camera is None:
            refuse(index, event, *(problem or (Refusal.UNKNOWN_CAMERA, "")))
            continue
        seen_cameras[camera.pk] = camera
        taken_at, flags, problem = _check_time(event=event, camera=camera, now=now)
        if problem is None:
            scene_size, problem = _check_images(event)
        if problem is not None:
            refuse(index, event, *problem)
            continue
        candidates.append(_Candidate(index, event, camera, taken_at, flags, scene_size))

    # Replays: already stored, or twice in this batch.
    stored = _stored_ids(candidates)
    fresh: list[_Candidate] = []
    batch_keys: dict[tuple[int, str], _Candidate] = {}
    for cand in candidates:
        key = (cand.camera.pk, cand.event.event_key)
        if key in stored:
            outcomes[cand.index] = _duplicate(cand, stored[key])
        elif key in batch_keys:
            outcomes[cand.index] = RecordOutcome(
                Outcome.DUPLICATE, cand.event.serial, cand.event.event_key
            )
        else:
            batch_keys[key] = cand
            fresh.append(cand)

    written: list[str] = []
    try:
        for cand in fresh:
            cand.sighting = _sighting_build(cand, now=now, written=written)
        with transaction.atomic():
            _sightings_insert(fresh, written=written)
            for cand in fresh:
                sighting = cand.sighting
                assert sighting is not None
                if sighting.pk is None:  # lost a race: a concurrent writer stored it
                    outcomes[cand.index] = _duplicate(
                        cand, getattr(sighting, "_intake_winner", None)
                    )
                else:
                    outcomes[cand.index] = RecordOutcome(
                        Outcome.STORED, cand.event.serial, cand.event.event_key, sighting.pk
                    )
            if refusals:
                intake_refusals_count(notes=refusals, now=now)
            _cameras_seen(seen_cameras.values(), now=now)
            if any(o is not None and o.outcome is Outcome.STORED for o in outcomes):
                run_after_commit(PROCESS_TASK)
    except BaseException:
        _files_delete(written)
        raise
    # Duplicates inside one batch point at the row their first copy got.
    final: list[RecordOutcome] = []
    for index, outcome in enumerate(outcomes):
        assert outcome is not None
        if outcome.outcome is Outcome.DUPLICATE and outcome.sighting_id is None:
            event = events[index]
            camera = cameras[event.serial]
            first = batch_keys[(camera.pk, event.event_key)]
            first_outcome = outcomes[first.index]
            assert first_outcome is not None
            outcome = RecordOutcome(
                Outcome.DUPLICATE, event.serial, event.event_key, first_outcome.sighting_id
            )
        final.append(outcome)
    return final


def _duplicate(cand: _Candidate, sighting_id: int | None) -> RecordOutcome:
    return RecordOutcome(Outcome.DUPLICATE, cand.event.serial, cand.event.event_key, sighting_id)


def _stored_ids(candidates: Sequence[_Candidate]) -> dict[tuple[int, str], int]:
    if not candidates:
        return {}
    wanted = {(c.camera.pk, c.event.event_key) for c in candidates}
    rows = Sighting.objects.filter(
        camera_id__in={c.camera.pk for c in candidates},
        event_key__in={c.event.event_key for c in candidates},
    ).values_list("camera_id", "event_key", "pk")
    return {(cam, key): pk for cam, key, pk in rows if (cam, key) in wanted}


def _sighting_build(cand: _Candidate, *, now: datetime, written: list[str]) -> Sighting:
    event = cand.event
    day = timezone.localdate(cand.taken_at)
    scene = crop = scene_sha = crop_sha = ""
    files: list[str] = []
    if event.scene_jpeg is not None:
        scene, scene_sha, new = _image_store(
            data=event.scene_jpeg, serial=event.serial, day=day, kind="scene"
        )
        if new:
            files.append(scene)
    if event.plate_jpeg is not None:
        crop, crop_sha, new = _image_store(
            data=event.plate_jpeg, serial=event.serial, day=day, kind="plate"
        )
        if new:
            files.append(crop)
    written.extend(files)
    sighting = Sighting(
        camera=cand.camera,
        source=event.source,
        event_key=event.event_key[:128],
        camera_time=event.camera_time,
        taken_at=cand.taken_at,
        received_at=now,
        camera_plate=plate_from_camera(event.plate),
        camera_color=event.color[:8],
        camera_confidence=event.confidence,
        plate_check=Sighting.Check.PENDING,
        box=_box(event, cand.camera, cand.scene_size),
        scene=scene,
        scene_sha256=scene_sha,
        crop=crop,
        crop_sha256=crop_sha,
        flags=cand.flags,
    )
    # Remember which files this row wrote, to delete them if it loses a race.
    sighting._intake_files = files  # type: ignore[attr-defined]
    return sighting


def _sightings_insert(fresh: Sequence[_Candidate], *, written: list[str]) -> None:
    """INSERT the new rows, all at once; if a concurrent writer stored some of the same
    events meanwhile, row by row, each in a savepoint, leaving losers without a pk."""
    rows = [c.sighting for c in fresh if c.sighting is not None]
    if not rows:
        return
    try:
        with transaction.atomic():
            Sighting.objects.bulk_create(rows)
        return
    except IntegrityError:
        for row in rows:
            row.pk = None
            row._state.adding = True
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            row.pk = None
            # Delete what we wrote for the lost row, unless the winner (which may have
            # found our content-addressed file already there) refers to it.
            winner = (
                Sighting.objects.filter(camera_id=row.camera_id, event_key=row.event_key)
                .values_list("pk", "scene", "crop")
                .first()
            )
            row._intake_winner = winner[0] if winner else None  # type: ignore[attr-defined]
            lost = [n for n in getattr(row, "_intake_files", []) if n not in (winner or ())[1:]]
            _files_delete(lost)
            for name in getattr(row, "_intake_files", []):
                if name in written:
                    written.remove(name)


def _cameras_seen(cameras: Iterable[Camera], *, now: datetime) -> None:
    every = timedelta(seconds=settings.FIRELANE_LAST_SEEN_EVERY_S)
    stale = [
        c.pk
        for c in cameras
        if c.status != Camera.Status.DISABLED
        and (
            c.status != Camera.Status.ONLINE
            or c.last_seen_at is None
            or c.last_seen_at <= now - every
        )
    ]
    if not stale:
        return
    # The condition again in SQL: concurrent requests that all read a stale row write once.
    Camera.objects.filter(pk__in=stale).exclude(status=Camera.Status.DISABLED).filter(
        Q(last_seen_at=None) | Q(last_seen_at__lte=now - every) | ~Q(status=Camera.Status.ONLINE)
    ).update(status=Camera.Status.ONLINE, last_seen_at=now)
