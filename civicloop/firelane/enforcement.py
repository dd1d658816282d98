"""What happens when a stay crosses its site's thresholds.

- T1 (`warn_after_s`): the case is opened on the fire-lane channel, the owner (found
  through the vehicle registry) gets an SMS to move the car and the site's managing
  unit a DingTalk notice — through the outbox, exactly once per stay.
- T2 (`notice_after_s`): an evidence package is built (GA/T 832: at least two
  full-scene images at least 10 s apart, the plate crop, corrected camera times, the
  lane polygon, SHA-256 of every file) and put in the case's hash chain; the case waits
  for an officer's review.
- The car leaves before T2: the warned case closes as 已驶离.

A registry outage leaves the stay unwarned with `warn_error` set; the sweep tries again,
so the warning is delayed, never lost.
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from civicloop.core.accounts.masking import mask_plate
from civicloop.core.attachments.models import Attachment
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.models import Case
from civicloop.core.cases.notifications import staff_roles
from civicloop.core.cases.services import CaseDraft, case_submit, timeline_append, transition
from civicloop.core.outbox.services import OutboxDraft
from civicloop.core.units.selectors import unit_staff_dingtalk_ids
from civicloop.firelane.models import Camera, Owner, Sighting, Stay
from civicloop.firelane.vehicles.services import RegistryUnavailable, owner_lookup
from civicloop.firelane.workflow import VIA, WARNED

logger = logging.getLogger(__name__)

# GA/T 832-2014 (道路交通安全违法行为图像取证技术规范): a parking violation is proven by
# at least two images of the scene taken at different times.
EVIDENCE_MIN_SCENES = 2
EVIDENCE_MIN_INTERVAL_S = 10


def _minutes(stay: Stay) -> int:
    return stay.duration_minutes


def _dingtalk(
    *, unit_id: int, key: str, reference: str, title: str, text: str
) -> list[OutboxDraft]:
    from civicloop.core.units.models import Unit

    userids = unit_staff_dingtalk_ids(unit=Unit.objects.get(pk=unit_id), roles=staff_roles())
    if not userids:
        return []
    return [
        OutboxDraft(
            "dingtalk_work", {"userids": userids, "title": title, "text": text}, key, reference
        )
    ]


# --------------------------------------------------------------------------- T1


def stay_warn(*, stay_id: int, now: datetime | None = None) -> bool:
    """Open the stay's case and warn the owner and the site's managing unit, once.

    Returns True when the warning was written now. A registry outage records the reason
    on the stay and returns False; the sweep calls again later."""
    now = now or timezone.now()
    stay = Stay.objects.select_related("site", "lane").get(pk=stay_id)
    if stay.warned_at is not None or stay.exempt_reason or stay.ended_at is not None:
        return False
    try:
        found = owner_lookup(plate=stay.plate, color=stay.color)
    except RegistryUnavailable as exc:
        logger.warning("Registry unavailable for stay %s, warning delayed: %s", stay.pk, exc)
        Stay.objects.filter(pk=stay.pk).update(warn_error="registry_unavailable")
        return False
    site = stay.site
    with transaction.atomic():
        stay = Stay.objects.select_for_update().select_related("site", "lane").get(pk=stay_id)
        if stay.warned_at is not None:
            return False
        masked = mask_plate(stay.plate)
        case = case_submit(
            draft=CaseDraft(
                channel="firelane",
                title=_("%(plate)s 占用%(site)s消防车通道") % {"plate": masked, "site": site.name},
                body=_("%(plate)s 于 %(start)s 起停放在%(site)s%(lane)s，已超过 %(minutes)s 分钟。")
                % {
                    "plate": masked,
                    "start": timezone.localtime(stay.started_at).strftime("%Y-%m-%d %H:%M:%S"),
                    "site": site.name,
                    "lane": stay.lane.name,
                    "minutes": _minutes(stay),
                },
                category="fire_lane",
                area=site.area,
                address=site.address,
                owner_unit=site.enforcement_unit,
                source="camera",
                submission_key=f"firelane-stay-{stay.pk}",
                data={"stay": stay.pk, "site": site.code, "lane": stay.lane.name},
            ),
            now=now,
        )
        Owner.objects.update_or_create(
            stay=stay,
            defaults={
                "found": found.found,
                "name": found.name,
                "phone": found.phone,
                "source": found.source or found.reason,
                "looked_up_at": now,
            },
        )
        drafts: list[OutboxDraft] = []
        if found.found and found.phone:
            drafts.append(
                OutboxDraft(
                    "sms",
                    {
                        "phone": found.phone,
                        "template": "firelane_warning",
                        "params": {"plate": stay.plate, "site": site.name},
                    },
                    f"firelane:stay:{stay.pk}:warn:sms",
                    case.number,
                )
            )
        drafts += _dingtalk(
            unit_id=site.unit_id,
            key=f"firelane:stay:{stay.pk}:warn:dingtalk",
            reference=case.number,
            title="消防车通道占用提醒",
            text=(
                f"**{site.name}** {stay.lane.name}\n\n车辆 {masked} 已停放 {_minutes(stay)} 分钟，"
                "请协助提醒车主立即驶离。"
            ),
        )
        locked = Case.objects.select_for_update().get(pk=case.pk)
        timeline_append(
            case=locked,
            action="firelane_warning",
            data={
                "sms": bool(found.found and found.phone),
                "owner": found.source or found.reason,
                "minutes": _minutes(stay),
            },
            drafts=drafts,
            now=now,
        )
        stay.warned_at = now
        stay.warn_error = ""
        stay.case = case
        stay.save(update_fields=["warned_at", "warn_error", "case"])
    return True


# --------------------------------------------------------------------------- T2


def _scene_pair(sightings: list[Sighting]) -> list[Sighting]:
    """The earliest and the latest scene image, if they are far enough apart."""
    scenes = [s for s in sightings if s.scene and s.scene_sha256]
    if len(scenes) < EVIDENCE_MIN_SCENES:
        return []
    first, last = scenes[0], scenes[-1]
    if (last.taken_at - first.taken_at).total_seconds() < EVIDENCE_MIN_INTERVAL_S:
        return []
    return [first, last]


def _crop_from_scene(sighting: Sighting) -> tuple[str, str] | None:
    """Cut the plate out of a scene image when the camera sent no plate picture."""
    if not sighting.box or not sighting.scene:
        return None
    with sighting.scene.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    w, h = image.size
    x1, y1, x2, y2 = sighting.box
    crop = image.crop((int(x1 * w), int(y1 * h), int(x2 * w), int(y2 * h))).convert("RGB")
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    name = default_storage.save(f"firelane/evidence/{digest}-plate.jpg", ContentFile(data))
    return name, digest


def _attachment(*, name: str, sha256: str) -> Attachment:
    """An attachment row over an evidence file already in storage (not re-encoded: the
    file is the camera's own picture, and its digest must stay the camera's)."""
    existing = Attachment.objects.filter(file=name).first()
    if existing is not None:
        return existing
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return Attachment.objects.create(
        kind=Attachment.Kind.PHOTO,
        file=name,
        original_name=name.rsplit("/", 1)[-1],
        content_type="image/jpeg",
        size=len(data),
        sha256=sha256,
        width=width,
        height=height,
    )


def _file_entry(
    role: str, sighting: Sighting, attachment: Attachment, camera: Camera
) -> dict[str, Any]:
    return {
        "role": role,
        "sighting": sighting.pk,
        "attachment": str(attachment.pk),
        "sha256": attachment.sha256,
        "camera_time": sighting.camera_time.isoformat(),
        "taken_at": sighting.taken_at.isoformat(),
        "clock_offset_s": camera.clock_offset_s,
    }


def stay_evidence(*, stay_id: int, now: datetime | None = None) -> bool:
    """Build the evidence package of a warned stay that reached T2 and move its case to
    review. Returns False (and changes nothing) while the images do not yet satisfy
    GA/T 832; the next sighting or sweep tries again."""
    now = now or timezone.now()
    stay = Stay.objects.select_related("site", "lane__camera").get(pk=stay_id)
    if stay.eligible_at is not None or stay.case_id is None:
        return False
    sightings = list(
        stay.sightings.filter(plate_check__in=[Sighting.Check.AGREED, Sighting.Check.CONFIRMED])
        .select_related("camera")
        .order_by("taken_at", "pk")
    )
    scenes = _scene_pair(sightings)
    if not scenes:
        return False
    with_crop = [s for s in sightings if s.crop and s.crop_sha256]
    best = max(with_crop, key=lambda s: s.confidence or 0.0) if with_crop else None
    crop_file = (best.crop.name, best.crop_sha256) if best else _crop_from_scene(scenes[-1])
    with transaction.atomic():
        stay = (
            Stay.objects.select_for_update().select_related("site", "lane__camera").get(pk=stay_id)
        )
        if stay.eligible_at is not None:
            return False
        files = [
            _file_entry(
                "scene",
                s,
                _attachment(name=s.scene.name, sha256=s.scene_sha256),
                s.camera,
            )
            for s in scenes
        ]
        if crop_file is not None:
            source = best or scenes[-1]
            files.append(
                _file_entry(
                    "plate",
                    source,
                    _attachment(name=crop_file[0], sha256=crop_file[1]),
                    source.camera,
                )
            )
        attachments = list(Attachment.objects.filter(pk__in=[f["attachment"] for f in files]))
        evidence = {
            "plate": stay.plate,
            "color": stay.color,
            "site": stay.site.name,
            "lane": {"name": stay.lane.name, "polygon": stay.lane.polygon},
            "camera": stay.lane.camera.serial,
            "started_at": stay.started_at.isoformat(),
            "last_seen_at": stay.last_seen_at.isoformat(),
            "duration_s": stay.duration_s,
            "interval_s": int((scenes[-1].taken_at - scenes[0].taken_at).total_seconds()),
            "files": files,
        }
        case = Case.objects.get(firelane_stay=stay)
        if case.state == WARNED:
            transition(
                case=case,
                action="evidence",
                actor=None,
                attachments=attachments,
                data={"evidence": evidence},
                via=VIA,
                now=now,
            )
        stay.eligible_at = now
        stay.save(update_fields=["eligible_at"])
    return True


def stay_thresholds_check(*, stay_id: int, now: datetime | None = None) -> bool:
    """Warn at T1 and build the evidence at T2, whichever is due; True if anything was
    done. Exempt and ended stays are left alone."""
    now = now or timezone.now()
    try:
        stay = Stay.objects.select_related("site").get(pk=stay_id)
    except Stay.DoesNotExist:
        return False
    if stay.exempt_reason or stay.ended_at is not None:
        return False
    did = False
    if stay.warned_at is None and stay.duration_s >= stay.site.warn_after_s:
        did = stay_warn(stay_id=stay.pk, now=now)
        stay.refresh_from_db()
    if (
        stay.warned_at is not None
        and stay.eligible_at is None
        and stay.duration_s >= stay.site.notice_after_s
    ):
        did = stay_evidence(stay_id=stay.pk, now=now) or did
    return did


def stay_moved_close(*, stay_id: int, now: datetime | None = None) -> bool:
    """The car left before T2: the warned case closes as 已驶离 (the warning worked)."""
    stay = Stay.objects.select_related("case").get(pk=stay_id)
    case = stay.case
    if case is None:
        return False
    if case.state != WARNED:
        return False
    try:
        transition(
            case=case,
            action="moved",
            actor=None,
            data={"ended_at": stay.ended_at.isoformat() if stay.ended_at else None},
            via=VIA,
            idempotency_key=f"firelane-moved-{stay.pk}",
            now=now,
        )
    except CaseError as exc:
        logger.info("Stay %s: case %s not closed as moved: %s", stay.pk, case.number, exc)
        return False
    return True


# --------------------------------------------------------------------------- cameras


def camera_offline_notify(*, camera: Camera, now: datetime) -> None:
    """Tell the site's managing unit that a camera went silent (called once per outage,
    inside the transaction that marked it offline)."""
    from civicloop.core.outbox.services import outbox_enqueue_many

    seen = (
        timezone.localtime(camera.last_seen_at).strftime("%Y-%m-%d %H:%M")
        if camera.last_seen_at
        else "从未"
    )
    drafts = _dingtalk(
        unit_id=camera.site.unit_id,
        key=f"firelane:camera:{camera.pk}:offline:{int(now.timestamp())}",
        reference=camera.serial,
        title="生命通道摄像机离线",
        text=f"**{camera.site.name}** {camera.name}（{camera.serial}）已离线，最后在线 {seen}，请尽快检修。",
    )
    outbox_enqueue_many(drafts=drafts)
