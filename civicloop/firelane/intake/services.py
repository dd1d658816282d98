"""Recording camera events: the rules every way in shares, and the refusal counters.

`sightings_record` is the one writer of `Sighting` rows from cameras. The ISAPI view, the
JSON API and the MQTT consumer all call it, so a rule (clock correction, image checks,
replays, counting refusals) holds whichever way an event came in.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, Q
from django.utils import timezone
from PIL import Image

from civicloop.core.client_ip import ip_in, ip_networks, ip_parse
from civicloop.core.jobs import run_after_commit
from civicloop.firelane.errors import IntakeReason
from civicloop.firelane.intake.events import CameraEvent, Outcome, RecordOutcome
from civicloop.firelane.models import Camera, IntakeRefusal, Sighting, Site
from civicloop.firelane.plates.normalize import plate_spelling
from civicloop.firelane.tasks import PROCESS_TASK

logger = logging.getLogger(__name__)

# Refusals that happen in normal operation (Frigate tracks people, cars before their plate
# is read): counted, logged quietly.
ROUTINE_REFUSALS = frozenset({IntakeReason.NO_PLATE, IntakeReason.NOT_VEHICLE})
SAFE_SERIAL = re.compile(r"[^A-Za-z0-9._-]")
PLATE_MAX_CHARS = 16
# How long a process trusts its copy of a camera row (see `_camera_copy`). Short: the copy
# may only accept events, and the INSERT re-checks it, so this bounds only how late a
# process notices that a camera it thought online was marked offline.
CAMERA_CACHE_TTL_S = 5.0


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
    return plate_spelling(value)[:PLATE_MAX_CHARS]


def address_allowed(*, allowlist: str, remote_addr: str | None) -> bool:
    """True when `remote_addr` is one of the IPs or inside one of the CIDRs of `allowlist`
    (space or comma separated). An empty allowlist allows nobody: a camera must be
    registered with its address before it can push."""
    address = ip_parse(remote_addr)
    if address is None:
        return False
    return ip_in(address, ip_networks(re.split(r"[\s,]+", allowlist or "")))


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


def _check_camera(*, camera: Camera | None, remote_addr: str | None) -> tuple[str, str] | None:
    if camera is None:
        return IntakeReason.UNKNOWN_CAMERA, "no camera with this serial"
    if camera.status == Camera.Status.DISABLED or not camera.site.is_active:
        return IntakeReason.CAMERA_DISABLED, "camera or site disabled"
    if remote_addr is not None and not address_allowed(
        allowlist=camera.ip_allowlist, remote_addr=remote_addr
    ):
        return IntakeReason.ADDRESS, f"address {remote_addr} not in the allowlist"
    return None


def _check_time(
    *, event: CameraEvent, camera: Camera, now: datetime
) -> tuple[datetime, list[str], tuple[str, str] | None]:
    taken_at = event.camera_time - timedelta(seconds=camera.clock_offset_s)
    if taken_at > now + timedelta(seconds=settings.FIRELANE_MAX_FUTURE_S):
        return (
            taken_at,
            [],
            (IntakeReason.FUTURE, f"taken_at {taken_at.isoformat()} is in the future"),
        )
    if taken_at < now - timedelta(seconds=settings.FIRELANE_MAX_LATE_S):
        return taken_at, [], (IntakeReason.LATE, f"taken_at {taken_at.isoformat()} is too old")
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
            return None, (IntakeReason.BAD_IMAGE, "scene picture is not a JPEG")
    if event.plate_jpeg is not None and jpeg_size(event.plate_jpeg) is None:
        return None, (IntakeReason.BAD_IMAGE, "plate picture is not a JPEG")
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
    storage = storages["default"]
    if type(storage) is FileSystemStorage:
        return name, digest, _file_publish(storage, name, data)
    if default_storage.exists(name):
        # The same picture already stored (a replay, or a camera resending a frame).
        return name, digest, False
    return default_storage.save(name, ContentFile(data)), digest, True


def _file_publish(storage: FileSystemStorage, name: str, data: bytes) -> bool:
    """Write `data` as `name` unless that file exists; True when this call created it.

    On local disk the storage API costs more than the write (an exists() call, a free-name
    search, chunked copying); the name is content-addressed, so a file already there holds
    these bytes. The picture is written under a temporary name and hard-linked into place,
    so a crash mid-write never leaves a truncated file under the real name."""
    path = storage.path(name)
    folder = os.path.dirname(path)
    temp = os.path.join(folder, f".{os.getpid()}-{threading.get_ident()}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(temp, flags, 0o666)
    except FileNotFoundError:
        _folder_make(storage, folder)
        fd = os.open(temp, flags, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if storage.file_permissions_mode is not None:
                os.fchmod(fd, storage.file_permissions_mode)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            # The same picture already stored (a replay, or a camera resending a frame).
            return False
        return True
    finally:
        os.unlink(temp)


def _folder_make(storage: FileSystemStorage, folder: str) -> None:
    # As FileSystemStorage does: honour FILE_UPLOAD_DIRECTORY_PERMISSIONS when set.
    mode = storage.directory_permissions_mode
    if mode is None:
        os.makedirs(folder, exist_ok=True)
        return
    old_umask = os.umask(0o777 & ~mode)
    try:
        os.makedirs(folder, mode, exist_ok=True)
    finally:
        os.umask(old_umask)


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

    One event (an HTTP push) that is stored takes a shorter way with the same guarantees:
    see `_sighting_record_one`.
    """
    now = now or timezone.now()
    if not events:
        return []
    if len(events) == 1:
        stored = _sighting_record_one(event=events[0], remote_addr=remote_addr, now=now)
        if stored is not None:
            return [stored]
    return _sightings_record_batch(events=events, remote_addr=remote_addr, now=now)


def _sightings_record_batch(
    *, events: Sequence[CameraEvent], remote_addr: str | None, now: datetime
) -> list[RecordOutcome]:
    """`sightings_record` for any number of events: fresh camera rows, one transaction."""
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
        problem = _check_camera(camera=camera, remote_addr=remote_addr)
        if problem is not None or camera is None:
            refuse(index, event, *(problem or (IntakeReason.UNKNOWN_CAMERA, "")))
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
    lost: list[str] = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            row.pk = None
            winner = (
                Sighting.objects.filter(camera_id=row.camera_id, event_key=row.event_key)
                .values_list("pk", flat=True)
                .first()
            )
            row._intake_winner = winner  # type: ignore[attr-defined]
            lost.extend(getattr(row, "_intake_files", []))
    # Rows of this batch that were stored are visible to the check (same transaction): a
    # picture they share with a lost row stays, and stays in `written` should the batch
    # roll back later.
    for name in _files_delete_unreferenced(lost):
        if name in written:
            written.remove(name)


def _files_delete_unreferenced(names: Sequence[str]) -> list[str]:
    """Delete those of `names` (pictures written for rows that lost a race) that no
    sighting refers to, and return them. A content-addressed picture may be shared: by the
    winner (which found our file already there) or by another event with the same bytes."""
    if not names:
        return []
    used: set[str] = set()
    for scene, crop in Sighting.objects.filter(Q(scene__in=names) | Q(crop__in=names)).values_list(
        "scene", "crop"
    ):
        used.update((scene, crop))
    unused = [n for n in dict.fromkeys(names) if n not in used]
    _files_delete(unused)
    return unused


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
    if stale:
        _cameras_mark_online(stale, now=now, every=every)


def _cameras_mark_online(pks: Sequence[int], *, now: datetime, every: timedelta) -> None:
    # The condition again in SQL: concurrent requests that all read a stale row write once.
    Camera.objects.filter(pk__in=pks).exclude(status=Camera.Status.DISABLED).filter(
        Q(last_seen_at=None) | Q(last_seen_at__lte=now - every) | ~Q(status=Camera.Status.ONLINE)
    ).update(status=Camera.Status.ONLINE, last_seen_at=now)


# -- one event: the HTTP push -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CameraCopy:
    """This process's copy of a camera row (site included). Shared by threads: read only."""

    camera: Camera
    read_at: float  # time.monotonic() when read
    # The last last_seen_at known to be written together with status online, if any.
    online_since: datetime | None


_camera_copies: dict[str, _CameraCopy] = {}


def camera_copies_clear() -> None:
    """Forget the camera rows this process holds (tests do, between databases)."""
    _camera_copies.clear()


def _camera_copy(serial: str) -> _CameraCopy | None:
    copy = _camera_copies.get(serial)
    if copy is not None and time.monotonic() - copy.read_at < CAMERA_CACHE_TTL_S:
        return copy
    camera = Camera.objects.select_related("site").filter(serial=serial).first()
    if camera is None:
        # Unknown serials are not kept: the copies stay as many as the cameras.
        _camera_copies.pop(serial, None)
        return None
    online = camera.status == Camera.Status.ONLINE
    copy = _CameraCopy(camera, time.monotonic(), camera.last_seen_at if online else None)
    _camera_copies[serial] = copy
    return copy


def _camera_copy_seen(serial: str, *, camera_id: int, now: datetime) -> None:
    copy = _camera_copies.get(serial)
    if copy is not None and copy.camera.pk == camera_id:
        _camera_copies[serial] = replace(copy, online_since=now)


def _sighting_record_one(
    *, event: CameraEvent, remote_addr: str | None, now: datetime
) -> RecordOutcome | None:
    """Store one event that passes every check, in as few round trips as it can be done:
    its outcome, or None when it is not simply stored (refused, a replay, or the camera row
    changed meanwhile); `sightings_record` then decides it the batch way, on fresh rows,
    so refusals and duplicates are answered and counted exactly as for a batch.

    The ways it is shorter, and why each keeps the guarantees:
    - the camera row may come from this process's copy (at most CAMERA_CACHE_TTL_S old),
      trusted only to accept: the INSERT re-checks in SQL that the row still says what the
      checks read (`_sighting_insert_checked`); a changed row inserts nothing;
    - `INSERT ... ON CONFLICT DO NOTHING RETURNING id` on the (camera, event key) unique
      constraint replaces the replay SELECT, the savepoint and BEGIN/COMMIT: in autocommit
      the statement is its own transaction, so the row is committed before the hint;
    - the camera is marked online as in `_cameras_seen`, judged on what this process wrote.
    """
    copy = _camera_copy(event.serial)
    if copy is None:
        return None
    camera = copy.camera
    if _check_camera(camera=camera, remote_addr=remote_addr) is not None:
        return None
    taken_at, flags, problem = _check_time(event=event, camera=camera, now=now)
    if problem is not None:
        return None
    scene_size, problem = _check_images(event)
    if problem is not None:
        return None
    candidate = _Candidate(0, event, camera, taken_at, flags, scene_size)
    written: list[str] = []
    try:
        sighting = _sighting_build(candidate, now=now, written=written)
        sighting_id = _sighting_insert_checked(sighting, camera=camera)
    except BaseException:
        _files_delete(written)
        raise
    if sighting_id is None:
        # A replay (or a lost race), or a changed camera row: forget the row, undo our files.
        _camera_copies.pop(event.serial, None)
        _files_delete_unreferenced(written)
        return None
    every = timedelta(seconds=settings.FIRELANE_LAST_SEEN_EVERY_S)
    if copy.online_since is None or copy.online_since <= now - every:
        _cameras_mark_online([camera.pk], now=now, every=every)
        # Remember the mark only once it is committed (a caller's transaction may roll back).
        serial, camera_id = event.serial, camera.pk
        transaction.on_commit(
            lambda: _camera_copy_seen(serial, camera_id=camera_id, now=now), robust=True
        )
    run_after_commit(PROCESS_TASK)
    return RecordOutcome(Outcome.STORED, event.serial, event.event_key, sighting_id)


_insert_sql: dict[str, str] = {}


def _sighting_insert_sql() -> tuple[str, list[Field[Any, Any]]]:
    fields = [f for f in Sighting._meta.concrete_fields if not f.primary_key]
    sql = _insert_sql.get(connection.vendor)
    if sql is None:
        qn = connection.ops.quote_name
        sighting, camera, site = Sighting._meta, Camera._meta, Site._meta
        names = {
            "sighting": qn(sighting.db_table),
            "columns": ", ".join(qn(f.column) for f in fields),
            "values": ", ".join(["%s"] * len(fields)),
            "camera": qn(camera.db_table),
            "camera_pk": qn(camera.pk.column),
            "camera_site": qn(Camera.site.field.column),
            "site": qn(site.db_table),
            "site_pk": qn(site.pk.column),
            "unique": ", ".join(qn(f.column) for f in fields if f.name in ("camera", "event_key")),
            "pk": qn(sighting.pk.column),
        }
        # Identifiers come from the models (quoted); every value is a parameter.
        sql = (  # noqa: S608
            "INSERT INTO {sighting} ({columns}) SELECT {values} WHERE EXISTS ("
            "SELECT 1 FROM {camera} c INNER JOIN {site} s ON s.{site_pk} = c.{camera_site}"
            " WHERE c.{camera_pk} = %s AND c.status <> %s AND s.is_active = %s"
            " AND c.ip_allowlist = %s AND c.clock_offset_s = %s"
            " AND c.image_width = %s AND c.image_height = %s)"
            " ON CONFLICT ({unique}) DO NOTHING RETURNING {pk}"
        ).format(**names)
        _insert_sql[connection.vendor] = sql
    return sql, fields


def _sighting_insert_checked(row: Sighting, *, camera: Camera) -> int | None:
    """INSERT `row` unless its (camera, event key) is stored, or the camera row no longer
    says what the checks read (disabled, site closed, allowlist, clock offset, picture
    size): the new id, or None. One statement (PostgreSQL; SQLite >= 3.35)."""
    sql, fields = _sighting_insert_sql()
    # The raw attribute values: no pre_save is needed (no auto_now fields; the file names
    # are already stored), and a FileField's descriptor would wrap each name in a FieldFile.
    values = row.__dict__
    params: list[Any] = [f.get_db_prep_save(values[f.attname], connection) for f in fields]
    params += [
        camera.pk,
        Camera.Status.DISABLED.value,
        True,
        camera.ip_allowlist,
        camera.clock_offset_s,
        camera.image_width,
        camera.image_height,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return int(found[0]) if found else None


# -- heartbeats ---------------------------------------------------------------------------


def camera_heartbeat_record(
    *, serial: str, source: str, remote_addr: str | None, now: datetime | None = None
) -> RecordOutcome:
    """Take an alert that only says the camera `serial` is alive (a heartbeat).

    Guarantees: the camera passes the same checks as an event (known serial, camera and
    site not disabled, `remote_addr` in its allowlist when given); then it is marked online
    exactly as a stored event marks it (`last_seen_at` written at most every
    FIRELANE_LAST_SEEN_EVERY_S) and the outcome is HEARTBEAT, which is not a refusal and
    is not counted as one. A camera that fails the checks is refused and counted, as its
    events would be. Nothing else is written.

    The checks may read this process's copy of the camera row (see `_camera_copy`); a
    refusal is decided on a fresh row."""
    now = now or timezone.now()
    copy = _camera_copy(serial)
    problem = _check_camera(camera=copy.camera if copy else None, remote_addr=remote_addr)
    if problem is not None and copy is not None:
        _camera_copies.pop(serial, None)
        copy = _camera_copy(serial)
        problem = _check_camera(camera=copy.camera if copy else None, remote_addr=remote_addr)
    if problem is not None or copy is None:
        reason, detail = problem or (IntakeReason.UNKNOWN_CAMERA, "")
        intake_refusals_count(notes=[RefusalNote(source, reason, serial, detail)], now=now)
        return RecordOutcome(Outcome.REFUSED, serial, "", reason=reason, detail=detail)
    every = timedelta(seconds=settings.FIRELANE_LAST_SEEN_EVERY_S)
    if copy.online_since is None or copy.online_since <= now - every:
        camera_id = copy.camera.pk
        _cameras_mark_online([camera_id], now=now, every=every)
        transaction.on_commit(
            lambda: _camera_copy_seen(serial, camera_id=camera_id, now=now), robust=True
        )
    return RecordOutcome(Outcome.HEARTBEAT, serial, "")
