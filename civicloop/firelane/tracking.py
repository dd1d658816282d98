"""Sightings → stays → warning (T1) and evidence (T2).

The intake stores each camera event as a pending `Sighting` and hints
`sightings_process`. Here the server reads the plate itself, decides whether the reading
can be trusted or needs a human check, finds the lane the car is on, and merges the
sighting into a stay. Thresholds are checked on every merge and again by the periodic
`firelane_sweep`, which also ends stays whose car has gone and marks silent cameras
offline: a lost hint delays work, it never loses it (DESIGN principle 1).
`firelane_retention_sweep` deletes what led to no case once its retention period is over.

Concurrency: a stay is only created or extended with its lane row locked, so two
workers merging sightings of the same car cannot open two stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from civicloop.core.attachments.models import Attachment
from civicloop.firelane.enforcement import (
    camera_offline_notify,
    stay_moved_close,
    stay_thresholds_check,
)
from civicloop.firelane.models import Camera, Exemption, Lane, Payment, Sighting, Stay
from civicloop.firelane.notices import notice_mark_paid
from civicloop.firelane.payments.services import payment_reconcile
from civicloop.firelane.plates import (
    CONFIDENCE_REVIEW_BELOW,
    PlateReading,
    plate_read,
    plates_similar,
)

logger = logging.getLogger(__name__)

Check = Sighting.Check


# --------------------------------------------------------------------------- plate check


@dataclass(frozen=True)
class PlateDecision:
    plate: str
    color: str
    confidence: float | None
    check: str
    flags: tuple[str, ...] = ()
    box: list[float] | None = None


def _read_file(field: object) -> bytes | None:
    name = getattr(field, "name", "")
    if not name:
        return None
    try:
        with field.open("rb") as handle:  # type: ignore[attr-defined]
            return bytes(handle.read())
    except OSError:
        logger.warning("Sighting image %s is missing from storage", name)
        return None


def plate_decide(*, camera_plate: str, reading: PlateReading | None) -> PlateDecision:
    """Whether the server's reading confirms the camera's. The camera's text alone is
    never trusted: no image, a disagreement, or a low confidence goes to a human."""
    if reading is None:
        if not camera_plate:
            return PlateDecision("", "", None, Check.NO_PLATE, ("no_image",))
        return PlateDecision(camera_plate, "", None, Check.REVIEW, ("no_image",))
    box = list(reading.box) if reading.box else None
    if not reading.plate:
        if not camera_plate:
            return PlateDecision("", "", reading.confidence, Check.NO_PLATE, box=box)
        return PlateDecision(
            camera_plate, "", reading.confidence, Check.REVIEW, ("server_no_plate",), box
        )
    flags: list[str] = []
    if camera_plate and camera_plate != reading.plate:
        flags.append("disagreement")
    if reading.confidence < CONFIDENCE_REVIEW_BELOW:
        flags.append("low_confidence")
    if not camera_plate:
        flags.append("camera_no_plate")
    check = Check.REVIEW if {"disagreement", "low_confidence"} & set(flags) else Check.AGREED
    return PlateDecision(reading.plate, reading.color, reading.confidence, check, tuple(flags), box)


def _reading_of(sighting: Sighting) -> PlateReading | None:
    """The plate crop read alone; the scene when there is no crop or it showed no plate."""
    crop = _read_file(sighting.crop)
    crop_reading = plate_read(image=crop, kind="crop") if crop is not None else None
    if crop_reading is not None and crop_reading.plate:
        return crop_reading
    scene = _read_file(sighting.scene)
    if scene is not None:
        return plate_read(image=scene, kind="scene")
    return crop_reading


# --------------------------------------------------------------------------- lanes


def point_in_polygon(x: float, y: float, polygon: list[list[float]]) -> bool:
    """Ray casting; the polygon's points are [x, y] fractions of the image."""
    inside = False
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < cross:
                inside = not inside
    return inside


def lane_for(*, lanes: list[Lane], box: list[float] | None) -> Lane | None:
    """The lane whose polygon holds the plate's centre. With no box, a camera that
    watches a single lane sees the car on it; otherwise the lane is unknown."""
    if box is None or len(box) != 4:
        return lanes[0] if len(lanes) == 1 else None
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for lane in lanes:
        if len(lane.polygon) >= 3 and point_in_polygon(x, y, lane.polygon):
            return lane
    return None


# --------------------------------------------------------------------------- exemptions


def exemption_reason(*, plate: str, site_id: int, at: datetime) -> str:
    """Why this plate may stand here at this time, or "" if it may not."""
    local = timezone.localtime(at)
    rows = Exemption.objects.filter(Q(site_id=site_id) | Q(site__isnull=True)).filter(
        Q(plate=plate) | Q(plate="")
    )
    for ex in rows:
        if ex.valid_from and at < ex.valid_from:
            continue
        if ex.valid_until and at > ex.valid_until:
            continue
        if ex.daily_start and ex.daily_end:
            t = local.time()
            within = (
                ex.daily_start <= t < ex.daily_end
                if ex.daily_start <= ex.daily_end
                else (t >= ex.daily_start or t < ex.daily_end)  # a window across midnight
            )
            if not within:
                continue
        elif not ex.plate:
            continue  # a plate-less exemption must name its hours
        return str(ex.get_kind_display()) + (f"：{ex.note}" if ex.note else "")
    return ""


# --------------------------------------------------------------------------- stays


def stay_merge(*, sighting: Sighting, now: datetime | None = None) -> Stay | None:
    """Merge a trusted sighting into the open stay of the same car on the same lane, or
    open a new one. Gaps up to the site's `gap_s` and one-character OCR variants are
    tolerated; a car gone for longer starts a new stay. Call inside a transaction."""
    if sighting.lane_id is None or not sighting.plate:
        return None
    lane = Lane.objects.select_for_update().select_related("camera__site").get(pk=sighting.lane_id)
    site = lane.camera.site
    gap = timedelta(seconds=site.gap_s)
    at = sighting.taken_at
    open_stays = list(
        Stay.objects.select_for_update().filter(lane=lane, ended_at__isnull=True).order_by("pk")
    )
    match: Stay | None = None
    for stay in open_stays:
        near = stay.last_seen_at >= at - gap and stay.started_at <= at + gap
        if not near:
            continue
        if stay.plate == sighting.plate:
            match = stay
            break
        if match is None and plates_similar(stay.plate, sighting.plate):
            match = stay
    if match is not None:
        match.started_at = min(match.started_at, at)
        match.last_seen_at = max(match.last_seen_at, at)
        match.sightings_count += 1
        match.save(update_fields=["started_at", "last_seen_at", "sightings_count"])
        stay = match
    else:
        # The same car seen again after a long gap: its old stay is over, this is a return.
        for old in open_stays:
            if plates_similar(old.plate, sighting.plate) and old.last_seen_at < at - gap:
                old.ended_at = old.last_seen_at
                old.save(update_fields=["ended_at"])
        stay = Stay.objects.create(
            site=site,
            lane=lane,
            plate=sighting.plate,
            color=sighting.color,
            started_at=at,
            last_seen_at=at,
            sightings_count=1,
            exempt_reason=exemption_reason(plate=sighting.plate, site_id=site.pk, at=at),
        )
    Sighting.objects.filter(pk=sighting.pk).update(stay=stay)
    sighting.stay = stay
    return stay


def _apply_reading(sighting: Sighting, decision: PlateDecision) -> None:
    lanes = list(sighting.camera.lanes.all())
    box = sighting.box if sighting.box else decision.box
    lane = lane_for(lanes=lanes, box=box)
    flags = list(dict.fromkeys([*sighting.flags, *decision.flags]))
    if lane is None and decision.check in (Check.AGREED, Check.REVIEW):
        flags.append("off_lane")
    sighting.plate = decision.plate
    sighting.color = decision.color or sighting.camera_color
    sighting.confidence = decision.confidence
    sighting.plate_check = decision.check
    sighting.lane = lane
    sighting.flags = flags
    if sighting.box is None and decision.box is not None:
        sighting.box = decision.box
    sighting.save(
        update_fields=["plate", "color", "confidence", "plate_check", "lane", "flags", "box"]
    )


def sighting_process(*, sighting_id: int, now: datetime | None = None) -> Stay | None:
    """Read one pending sighting's plate and, if trusted, merge it into a stay and check
    the thresholds. Safe to repeat: a sighting no longer pending is left alone."""
    try:
        sighting = Sighting.objects.select_related("camera").get(pk=sighting_id)
    except Sighting.DoesNotExist:
        return None
    if sighting.plate_check != Check.PENDING:
        return None
    # The slow part (reading the image) runs outside any transaction.
    decision = plate_decide(camera_plate=sighting.camera_plate, reading=_reading_of(sighting))
    with transaction.atomic():
        locked = Sighting.objects.select_for_update().select_related("camera").get(pk=sighting.pk)
        if locked.plate_check != Check.PENDING:
            return None
        _apply_reading(locked, decision)
        stay = stay_merge(sighting=locked) if locked.plate_check == Check.AGREED else None
    if stay is not None:
        stay_thresholds_check(stay_id=stay.pk, now=now)
    return stay


def sightings_process(*, limit: int = 200, now: datetime | None = None) -> int:
    """Process up to `limit` pending sightings, oldest first; returns how many."""
    ids = list(
        Sighting.objects.filter(plate_check=Check.PENDING)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        try:
            sighting_process(sighting_id=pk, now=now)
            done += 1
        except Exception:
            # One bad image must not stop the queue; the row stays pending for the sweep.
            logger.exception("Could not process sighting %s", pk)
    return done


def sighting_confirm(*, sighting: Sighting, plate: str, now: datetime | None = None) -> Stay | None:
    """A human checked the plate of a sighting in the review queue: record it and track
    it like an agreed reading. `plate` must already be normalized by the caller."""
    with transaction.atomic():
        locked = Sighting.objects.select_for_update().select_related("camera").get(pk=sighting.pk)
        if locked.plate_check != Check.REVIEW:
            return None
        locked.plate = plate
        locked.plate_check = Check.CONFIRMED
        if locked.lane_id is None:
            locked.lane = lane_for(lanes=list(locked.camera.lanes.all()), box=locked.box)
        locked.save(update_fields=["plate", "plate_check", "lane"])
        stay = stay_merge(sighting=locked)
    if stay is not None:
        stay_thresholds_check(stay_id=stay.pk, now=now)
    return stay


def sighting_reject(*, sighting: Sighting) -> bool:
    """A human found no usable plate in a sighting of the review queue."""
    return bool(
        Sighting.objects.filter(pk=sighting.pk, plate_check=Check.REVIEW).update(
            plate_check=Check.REJECTED
        )
    )


# --------------------------------------------------------------------------- sweep


def stays_end_gone(*, now: datetime | None = None) -> list[int]:
    """End every open stay whose car has not been seen for longer than its site's gap;
    returns their ids."""
    now = now or timezone.now()
    ended: list[int] = []
    for stay in Stay.objects.filter(ended_at__isnull=True).select_related("site"):
        if stay.last_seen_at < now - timedelta(seconds=stay.site.gap_s):
            with transaction.atomic():
                n = Stay.objects.filter(pk=stay.pk, ended_at__isnull=True).update(
                    ended_at=stay.last_seen_at
                )
            if n:
                ended.append(stay.pk)
    return ended


def cameras_check_heartbeat(*, now: datetime | None = None) -> list[int]:
    """Mark cameras silent for longer than their heartbeat interval offline, and tell
    their site's managing unit once per outage; returns the ids newly offline."""
    now = now or timezone.now()
    out: list[int] = []
    for camera in Camera.objects.exclude(status=Camera.Status.DISABLED).select_related("site"):
        if camera.last_seen_at is None:
            # Never heard from (not installed yet): offline, but nothing to report as an outage.
            if camera.status != Camera.Status.OFFLINE:
                Camera.objects.filter(pk=camera.pk).update(status=Camera.Status.OFFLINE)
            continue
        silent = not camera.heard_within_heartbeat(now=now)
        if silent and camera.offline_notified_at is None:
            with transaction.atomic():
                n = Camera.objects.filter(pk=camera.pk, offline_notified_at__isnull=True).update(
                    status=Camera.Status.OFFLINE, offline_notified_at=now
                )
                if n:
                    camera_offline_notify(camera=camera, now=now)
                    out.append(camera.pk)
        elif not silent and camera.offline_notified_at is not None:
            Camera.objects.filter(pk=camera.pk).update(
                status=Camera.Status.ONLINE, offline_notified_at=None
            )
    return out


def firelane_sweep(*, now: datetime | None = None) -> int:
    """Everything periodic: pending sightings a lost hint left, ended stays, thresholds
    of open stays (warnings delayed by an outage), evidence, silent cameras."""
    now = now or timezone.now()
    work = sightings_process(limit=500, now=now)
    for stay_id in stays_end_gone(now=now):
        stay_moved_close(stay_id=stay_id, now=now)
        work += 1
    due = Stay.objects.filter(ended_at__isnull=True, exempt_reason="").filter(
        Q(warned_at__isnull=True) | Q(eligible_at__isnull=True)
    )
    for stay_id in due.values_list("pk", flat=True):
        if stay_thresholds_check(stay_id=stay_id, now=now):
            work += 1
    work += len(cameras_check_heartbeat(now=now))
    work += payments_reconcile_stale(now=now)
    return work


# A notify the provider never delivered (and an owner who never came back to the page):
# ask the provider, after a while, about payments still waiting.
RECONCILE_AFTER = timedelta(minutes=15)
RECONCILE_UNTIL = timedelta(days=2)


def payments_reconcile_stale(*, now: datetime) -> int:
    stale = Payment.objects.filter(
        status=Payment.Status.CREATED,
        created_at__lt=now - RECONCILE_AFTER,
        created_at__gt=now - RECONCILE_UNTIL,
    ).order_by("created_at")[:50]
    done = 0
    for payment in stale:
        try:
            if (
                payment_reconcile(payment=payment, on_paid=notice_mark_paid).status
                == Payment.Status.PAID
            ):
                done += 1
        except Exception:
            logger.warning("Could not reconcile payment %s", payment.out_trade_no, exc_info=True)
    return done


# --------------------------------------------------------------------------- retention

RETENTION_BATCH = 500
RETENTION_BATCHES_PER_RUN = 20


def sighting_retention() -> timedelta:
    """How long a sighting that led to no case, its pictures and its stay are kept
    (FIRELANE_SIGHTING_RETENTION_DAYS)."""
    return timedelta(days=int(getattr(settings, "FIRELANE_SIGHTING_RETENTION_DAYS", 30)))


def _led_to_no_case(cutoff: datetime) -> Q:
    """Sightings taken before `cutoff` that led to no case: in no stay (no plate, off
    the lane, rejected, never checked) or in a stay that ended before `cutoff` without a
    case. An open stay may still become a case, so its sightings wait until it ends."""
    return Q(taken_at__lt=cutoff) & (
        Q(stay__isnull=True) | Q(stay__case__isnull=True, stay__ended_at__lt=cutoff)
    )


def _pictures_in_use(names: set[str], *, besides: list[int]) -> set[str]:
    """Those of `names` that a sighting other than `besides`, or an attachment (a case's
    evidence), still refers to. Pictures are stored under content-addressed names, so one
    file may serve several sightings (a camera resending the same frame)."""
    if not names:
        return set()
    others = Sighting.objects.exclude(pk__in=besides)
    used = set(others.filter(scene__in=names).values_list("scene", flat=True))
    used |= set(others.filter(crop__in=names).values_list("crop", flat=True))
    used |= set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
    return used


def sightings_delete_expired(*, now: datetime | None = None, batch: int = RETENTION_BATCH) -> int:
    """Delete up to `batch` sightings that led to no case and were taken longer ago than
    the retention period, and their pictures; returns how many sightings were deleted.

    Never touches a sighting of a stay that became a case: a case's evidence is kept as
    long as the case. A picture another sighting or an attachment still refers to is
    kept. The pictures go before the rows, in the rows' transaction: a crash in between
    leaves rows whose pictures are gone and the next run deletes them (deleting a
    missing file is a no-op), never a picture that no row names. A picture that cannot
    be deleted keeps its rows for the next run. Safe to repeat, and to run twice at once
    (rows locked by the other run are skipped)."""
    cutoff = (now or timezone.now()) - sighting_retention()
    with transaction.atomic():
        rows = list(
            Sighting.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(_led_to_no_case(cutoff))
            .order_by("taken_at", "pk")
            .values_list("pk", "scene", "crop")[:batch]
        )
        if not rows:
            return 0
        ids = [pk for pk, _scene, _crop in rows]
        names = {name for _pk, scene, crop in rows for name in (scene, crop) if name}
        failed: set[str] = set()
        for name in sorted(names - _pictures_in_use(names, besides=ids)):
            try:
                default_storage.delete(name)
            except Exception:
                logger.warning("Could not delete sighting picture %s", name, exc_info=True)
                failed.add(name)
        keep = {pk for pk, scene, crop in rows if scene in failed or crop in failed}
        deleted, _ = (
            Sighting.objects.filter(pk__in=[pk for pk in ids if pk not in keep])
            .filter(_led_to_no_case(cutoff))
            .delete()
        )
    return deleted


def stays_delete_expired(*, now: datetime | None = None, batch: int = RETENTION_BATCH) -> int:
    """Delete up to `batch` stays that ended longer ago than the retention period without
    a case and whose sightings are gone (`sightings_delete_expired` first): the plate,
    place and times they summarise are the sightings' data. Returns how many."""
    cutoff = (now or timezone.now()) - sighting_retention()
    expired = Stay.objects.filter(case__isnull=True, ended_at__lt=cutoff).filter(
        ~Exists(Sighting.objects.filter(stay_id=OuterRef("pk")))
    )
    ids = list(expired.order_by("ended_at", "pk").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    deleted, _ = expired.filter(pk__in=ids).delete()
    return deleted


def firelane_retention_sweep(
    *,
    now: datetime | None = None,
    batch: int = RETENTION_BATCH,
    batches: int = RETENTION_BATCHES_PER_RUN,
) -> int:
    """Delete, a batch at a time and at most `batches` batches of each, the sightings,
    pictures and stays that led to no case once their retention period is over; returns
    how many rows were deleted. What is left over waits for the next run."""
    now = now or timezone.now()
    done = 0
    for kind in (sightings_delete_expired, stays_delete_expired):
        for _round in range(batches):
            n = kind(now=now, batch=batch)
            done += n
            if n < batch:
                break
    return done
