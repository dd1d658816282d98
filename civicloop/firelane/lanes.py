"""Drawing a camera's fire lanes: who may, what a lane's polygon must look like, and
saving or deleting a lane with a record in the admin's history.

A polygon is a list of [x, y] points, each a fraction (0–1) of the picture's width and
height (what `tracking.lane_for` tests a plate's centre against). The browser editor
clamps what it sends; this module checks again, because a lane decides which cars are
warned and fined."""

from __future__ import annotations

import json
import math
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import transaction

from civicloop.firelane.errors import LaneError, LaneErrorCode
from civicloop.firelane.models import Camera, Lane, Sighting, Stay

LANE_POINTS_MIN = 3
# Enough for any real lane outline; more only slows the per-sighting point-in-polygon test.
LANE_POINTS_MAX = 20
LANE_NAME_MAX = 100  # Lane.name max_length
# Points are kept to 1/10 000 of the picture: 0.2 px on a 1920 px image.
LANE_DECIMALS = 4
# A polygon smaller than this share of the picture is a slip of the finger, not a lane.
LANE_AREA_MIN = 0.0005
LANE_PERMISSION = "firelane.change_lane"


# --------------------------------------------------------------------------- permission


def lane_editor_allowed(*, user: Any) -> bool:
    """Superusers, and staff who hold the admin permission to change lanes."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool(getattr(user, "is_staff", False) and user.has_perm(LANE_PERMISSION))


# --------------------------------------------------------------------------- polygons


def _area(points: list[list[float]]) -> float:
    """Shoelace: the polygon's area as a share of the picture."""
    total = 0.0
    for i, (x1, y1) in enumerate(points):
        x2, y2 = points[(i + 1) % len(points)]
        total += x1 * y2 - x2 * y1
    return abs(total) / 2


def _orientation(a: list[float], b: list[float], c: list[float]) -> int:
    cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return 0 if abs(cross) < 1e-12 else (1 if cross > 0 else -1)


def _on_segment(a: list[float], b: list[float], p: list[float]) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_meet(a: list[float], b: list[float], c: list[float], d: list[float]) -> bool:
    o1, o2 = _orientation(a, b, c), _orientation(a, b, d)
    o3, o4 = _orientation(c, d, a), _orientation(c, d, b)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )


def _crosses_itself(points: list[list[float]]) -> bool:
    """Whether two edges that do not share a corner touch. A crossed outline (a bow tie)
    makes the ray-casting test in tracking.py count part of the lane as outside."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbours share a corner
            if _segments_meet(*edges[i], *edges[j]):
                return True
    return False


def check_lane_polygon(*, polygon: object) -> list[list[float]]:
    """The polygon as stored: 3–20 [x, y] points inside 0..1, rounded to 1/10 000,
    enclosing some area, its edges not crossing. Raises LaneError naming the first
    problem (points are counted from 1, as the editor shows them)."""
    if isinstance(polygon, str):
        try:
            polygon = json.loads(polygon)
        except ValueError:
            raise LaneError(LaneErrorCode.NOT_A_LIST) from None
    if not isinstance(polygon, list | tuple):
        raise LaneError(LaneErrorCode.NOT_A_LIST)
    if len(polygon) < LANE_POINTS_MIN:
        raise LaneError(LaneErrorCode.TOO_FEW, min=LANE_POINTS_MIN)
    if len(polygon) > LANE_POINTS_MAX:
        raise LaneError(LaneErrorCode.TOO_MANY, max=LANE_POINTS_MAX)
    points: list[list[float]] = []
    for n, point in enumerate(polygon, start=1):
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise LaneError(LaneErrorCode.NOT_A_POINT, n=n)
        clean = []
        for value in point:
            # bool is an int to Python, and JSON allows NaN: neither is a coordinate.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise LaneError(LaneErrorCode.NOT_A_NUMBER, n=n)
            if not math.isfinite(value):
                raise LaneError(LaneErrorCode.NOT_A_NUMBER, n=n)
            if not 0.0 <= value <= 1.0:
                raise LaneError(LaneErrorCode.OUT_OF_RANGE, n=n)
            clean.append(round(float(value), LANE_DECIMALS))
        points.append(clean)
    # Crossing first: a bow tie's two halves cancel out to no area at all.
    if _crosses_itself(points):
        raise LaneError(LaneErrorCode.CROSSING)
    if _area(points) < LANE_AREA_MIN:
        raise LaneError(LaneErrorCode.TOO_SMALL)
    return points


def _check_name(*, camera: Camera, name: str, lane_id: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise LaneError(LaneErrorCode.NAME_MISSING)
    if len(name) > LANE_NAME_MAX:
        raise LaneError(LaneErrorCode.NAME_TOO_LONG, max=LANE_NAME_MAX)
    # Notices and evidence name the lane: two lanes of one camera must not look alike.
    same = Lane.objects.filter(camera=camera, name=name)
    if lane_id is not None:
        same = same.exclude(pk=lane_id)
    if same.exists():
        raise LaneError(LaneErrorCode.NAME_TAKEN)
    return name


def _log(*, actor: Any, lane: Lane, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=Lane.objects.filter(pk=lane.pk),
        action_flag=flag,
        change_message=message,
        single_object=True,
    )


# --------------------------------------------------------------------------- services


def lane_save(
    *, camera: Camera, lane_id: int | None, name: str, polygon: object, actor: Any
) -> Lane:
    """Create (lane_id None) or change one of `camera`'s lanes.

    Guarantees: the actor may configure lanes; the name is present, short and unique on
    the camera; the polygon passed `check_lane_polygon`; a lane_id of another camera is
    refused as not found. The change and its admin-history entry commit together, with
    the lane row locked, as stay tracking locks it (tracking.stay_merge)."""
    if not lane_editor_allowed(user=actor):
        raise LaneError(LaneErrorCode.FORBIDDEN)
    points = check_lane_polygon(polygon=polygon)
    with transaction.atomic():
        if lane_id is None:
            clean_name = _check_name(camera=camera, name=name, lane_id=None)
            lane = Lane.objects.create(camera=camera, name=clean_name, polygon=points)
            _log(actor=actor, lane=lane, flag=ADDITION, message=_lane_summary(lane))
            return lane
        found = Lane.objects.select_for_update().filter(pk=lane_id, camera=camera).first()
        if found is None:
            raise LaneError(LaneErrorCode.NOT_FOUND)
        found.name = _check_name(camera=camera, name=name, lane_id=found.pk)
        found.polygon = points
        found.save(update_fields=["name", "polygon"])
        _log(actor=actor, lane=found, flag=CHANGE, message=_lane_summary(found))
        return found


def lane_delete(*, camera: Camera, lane_id: int, actor: Any) -> None:
    """Delete one of `camera`'s lanes. A lane that stays were tracked on is kept: those
    stays (and the cases built on them) point to it."""
    if not lane_editor_allowed(user=actor) or not actor.has_perm("firelane.delete_lane"):
        raise LaneError(LaneErrorCode.FORBIDDEN)
    with transaction.atomic():
        lane = Lane.objects.select_for_update().filter(pk=lane_id, camera=camera).first()
        if lane is None:
            raise LaneError(LaneErrorCode.NOT_FOUND)
        stays = Stay.objects.filter(lane=lane).count()
        if stays:
            raise LaneError(LaneErrorCode.IN_USE, count=stays)
        _log(actor=actor, lane=lane, flag=DELETION, message=_lane_summary(lane))
        lane.delete()


def _lane_summary(lane: Lane) -> str:
    # Kept in the admin history so an earlier outline can be restored by hand.
    return json.dumps(
        {"editor": "lanes", "name": lane.name, "polygon": lane.polygon}, ensure_ascii=False
    )


# --------------------------------------------------------------------------- selectors


def camera_scene_latest(*, camera: Camera) -> Sighting | None:
    """The camera's newest sighting that kept a scene picture, to draw lanes on."""
    return (
        Sighting.objects.filter(camera=camera)
        .exclude(scene="")
        .order_by("-taken_at", "-pk")
        .only("pk", "scene", "taken_at", "camera_id")
        .first()
    )
