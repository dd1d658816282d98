"""Hikvision ISAPI pushes: what a camera posts to its alarm server.

An ANPR push is multipart/form-data: first an XML part (`EventNotificationAlert`, in the
`http://www.hikvision.com/ver20/XMLSchema` or `http://www.isapi.org/ver20/XMLSchema`
namespace, part name varying by firmware: "anpr.xml", "MoveDetection.xml", "xml_file"),
then one part per picture, named after the `fileName` the XML's `pictureInfoList` gives.
Hikvision's ISAPI document lists the picture kinds (`pictureInfo/type`):
`detectionPicture` (检测图, the scene), `vehiclePicture` (机动车图, the vehicle),
`licensePlatePicture` (车牌小图, the plate crop) and others we do not use. Several camera
models send only the plate crop and the vehicle picture; the scene is then the vehicle
picture.

Within `ANPR`: `licensePlate`, `plateColor`, `confidenceLevel` (0-100) and, on a picture's
`pictureInfo`, `plateRect` (X, Y, width, height "归一化,数值为当前画面的千分比大小*1000":
per mille of *that* picture; values beyond 1000 are taken as pixels of it). A rectangle is
read only from the picture used as the scene.

Every other alert (the `videoloss`/`inactive` alert cameras repeat as a heartbeat, motion,
tampering ...), multipart or a plain application/xml body, is a `Heartbeat`: the camera is
alive. So is an ANPR alert sent as XML alone with `hasMoreData` true: ISAPI's "plate
first, pictures later" mode, whose complete upload follows under the same UUID.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _xml_fromstring
from django.utils import timezone

from civicloop.firelane.errors import IntakeError, IntakeReason
from civicloop.firelane.intake.events import CameraEvent, color_from_camera


def _xml_parse(data: bytes) -> Element:
    # defusedxml (a pinned dependency) refuses DTDs, entities and external references.
    return _xml_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)


DETECTION_PICTURE = "detectionPicture.jpg"
VEHICLE_PICTURE = "vehiclePicture.jpg"
PLATE_PICTURE = "licensePlatePicture.jpg"
# The pictures that may serve as the scene, best first (ISAPI `pictureInfo/type`).
SCENE_TYPES = ("detectionPicture", "vehiclePicture")
# What Chinese Hikvision firmware writes as the plate when it read none.
NO_PLATE_TEXTS = frozenset({"无车牌", "车牌", "unknown", "none", "noplate"})


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """An alert that is no plate read to store: the camera is alive, nothing more."""

    event_type: str
    event_state: str = ""


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the multipart body, as received."""

    name: str
    filename: str
    content_type: str
    data: bytes


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strip_namespaces(root: Element) -> Element:
    # Both Hikvision namespaces (and none, on old firmware) occur; we match local names.
    for element in root.iter():
        element.tag = _local(element.tag)
    return root


def _text(element: Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _is_xml(part: Part) -> bool:
    names = (part.name.lower(), part.filename.lower())
    if any(n.endswith(".xml") for n in names) or "xml" in part.content_type.lower():
        return True
    return part.data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _picture(parts: Sequence[Part], file_name: str) -> bytes | None:
    for part in parts:
        if file_name in (part.name, part.filename.rsplit("/", 1)[-1]):
            return part.data
    return None


def _camera_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise IntakeError(
            IntakeReason.MALFORMED, f"dateTime {value[:40]!r} is not ISO 8601"
        ) from exc
    if timezone.is_naive(moment):
        # Firmware without a time zone setting sends local time: the city's.
        moment = timezone.make_aware(moment)
    return moment


def _plate_box(
    info: Element | None,
) -> tuple[tuple[float, float, float, float] | None, tuple[float, float, float, float] | None]:
    rect = info.find("plateRect") if info is not None else None
    if rect is None:
        return None, None
    try:
        x, y, w, h = (float(_text(rect, k) or "nan") for k in ("X", "Y", "width", "height"))
    except ValueError:
        return None, None
    if not all(v >= 0 for v in (x, y, w, h)) or w <= 0 or h <= 0:
        return None, None
    if max(x + w, y + h) <= 1000:
        return (x / 1000, y / 1000, min((x + w) / 1000, 1.0), min((y + h) / 1000, 1.0)), None
    return None, (x, y, x + w, y + h)


def _picture_kind(info: Element) -> tuple[str, str]:
    """(file name, type) of one `pictureInfo`; either may be derived from the other."""
    kind = _text(info, "type")
    name = _text(info, "fileName") or (f"{kind}.jpg" if kind else "")
    if not kind and name:
        # "detectionPicture_2.jpg" (ISAPI numbers several pictures of one kind) → its kind
        kind = name.rsplit(".", 1)[0].split("_", 1)[0]
    return name, kind


def _scene(parts: Sequence[Part], infos: Sequence[Element]) -> tuple[bytes, Element | None] | None:
    """The scene picture and the `pictureInfo` it was listed with: the first sent picture
    of the best kind in SCENE_TYPES; by its usual file name when the XML lists none."""
    listed = [(*_picture_kind(i), i) for i in infos]
    for kind in SCENE_TYPES:
        for name, listed_kind, info in listed:
            if listed_kind == kind and (data := _picture(parts, name)) is not None:
                return data, info
        if not any(listed_kind == kind for _, listed_kind, _ in listed):
            data = _picture(parts, f"{kind}.jpg")
            if data is not None:
                return data, None
    return None


def _has_pictures(parts: Sequence[Part], xml_part: Part) -> bool:
    return any(p is not xml_part and not _is_xml(p) and p.data for p in parts)


def isapi_parts_parse(*, serial: str, parts: Sequence[Part]) -> CameraEvent | Heartbeat:
    """The `CameraEvent` of one ANPR push, a `Heartbeat` for any other well-formed alert,
    or IntakeError (malformed, missing_image).

    The scene is the detection picture, else the vehicle picture; the plate box is read
    from that picture's own `plateRect`. The event key is the alert's UUID when the camera
    sends one (a resend keeps it); else a digest of dateTime, licensePlate, channelID and
    the scene picture's bytes."""
    xml_part = next((p for p in parts if _is_xml(p)), None)
    if xml_part is None:
        raise IntakeError(IntakeReason.MALFORMED, "no XML part")
    try:
        root = _strip_namespaces(_xml_parse(xml_part.data))
    except DefusedXmlException as exc:
        raise IntakeError(IntakeReason.MALFORMED, f"XML refused: {exc}") from exc
    except (ParseError, ValueError) as exc:
        raise IntakeError(IntakeReason.MALFORMED, f"XML not well-formed: {exc}") from exc
    if root.tag != "EventNotificationAlert":
        raise IntakeError(IntakeReason.MALFORMED, f"root element {root.tag[:40]} is not an alert")
    event_type = _text(root, "eventType")
    if event_type.upper() != "ANPR":
        return Heartbeat(event_type[:40], _text(root, "eventState")[:16])
    anpr = root.find("ANPR")
    if anpr is None:
        raise IntakeError(IntakeReason.MALFORMED, "an ANPR alert without its ANPR element")
    more = _text(anpr, "hasMoreData") or _text(root, "hasMoreData")
    if more.lower() == "true" and not _has_pictures(parts, xml_part):
        return Heartbeat("ANPR", "hasMoreData")
    date_time = _text(root, "dateTime")
    if not date_time:
        raise IntakeError(IntakeReason.MALFORMED, "no dateTime")
    camera_time = _camera_time(date_time)

    infos = anpr.findall("pictureInfoList/pictureInfo")
    found = _scene(parts, infos)
    if found is None:
        raise IntakeError(
            IntakeReason.MISSING_IMAGE, f"no {DETECTION_PICTURE} or {VEHICLE_PICTURE} part"
        )
    scene, scene_info = found
    plate_jpeg = _picture(parts, PLATE_PICTURE)
    for info in infos:
        name, _kind = _picture_kind(info)
        if _text(info, "dataType") == "1":
            continue  # ISAPI dataType 1: the picture is a URL, not a part of this body
        if name.endswith(".jpg") and _picture(parts, name) is None:
            raise IntakeError(IntakeReason.MISSING_IMAGE, f"listed picture {name[:60]} not sent")

    plate = _text(anpr, "licensePlate")
    if plate.lower() in NO_PLATE_TEXTS:
        plate = ""
    if len(plate) > 16:
        raise IntakeError(IntakeReason.MALFORMED, "licensePlate longer than 16 characters")
    confidence: float | None = None
    level = _text(anpr, "confidenceLevel")
    if level:
        try:
            confidence = min(max(float(level) / 100.0, 0.0), 1.0)
        except ValueError as exc:
            raise IntakeError(IntakeReason.MALFORMED, "confidenceLevel is not a number") from exc
    box, box_px = _plate_box(scene_info)

    uuid = _text(root, "UUID")[:100]
    if uuid:
        key = f"isapi:{uuid}"
    else:
        digest = hashlib.sha256()
        for piece in (date_time, plate, _text(root, "channelID")):
            digest.update(piece.encode() + b"\x00")
        digest.update(hashlib.sha256(scene).digest())
        key = f"isapi-d:{digest.hexdigest()}"
    return CameraEvent(
        source="isapi",
        serial=serial,
        event_key=key,
        camera_time=camera_time,
        plate=plate,
        color=color_from_camera(_text(anpr, "plateColor")),
        confidence=confidence,
        scene_jpeg=scene,
        plate_jpeg=plate_jpeg,
        box=box,
        box_px=box_px,
    )
