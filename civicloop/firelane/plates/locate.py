"""Where a plate may be in a scene photo.

Two independent sources, because each misses plates the other finds: the text
detector's boxes (joined when the separator dot of "浙A·12345" split a plate in two),
and regions of plate background colour (blue, yellow, green) with a plate's shape.
Every candidate is a quadrilateral, so a tilted plate is cut out straight.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from civicloop.firelane.plates.color import BLUE, GREEN, YELLOW, color_masks

MAX_CANDIDATES = 8
# Plates are 440x140 mm (3.1:1); detector boxes of a plate's text are a bit wider.
MIN_ASPECT, MAX_ASPECT = 1.6, 8.0
MIN_HEIGHT_PX = 9
COLOR_WORK_SIDE = 800  # colour search runs on a downscaled copy


@dataclass(frozen=True)
class Candidate:
    quad: np.ndarray  # (4, 2) float32, tl tr br bl, image coordinates
    colored: bool  # found (or confirmed) by plate background colour


def _order(points: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl of four points."""
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
        dtype=np.float32,
    )


def _rect_quad(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Minimum-area rectangle of points as an ordered quad (tl tr br bl), with its
    horizontal-ish width and vertical-ish height: a tall object has height > width, so
    the aspect filters reject it."""
    rect = cv2.minAreaRect(np.asarray(points, dtype=np.float32).reshape(-1, 2))
    quad = _order(cv2.boxPoints(rect))
    tl, tr, _br, bl = quad
    return quad, float(np.linalg.norm(tr - tl)), float(np.linalg.norm(bl - tl))


def _expand(quad: np.ndarray, fx: float, fy: float) -> np.ndarray:
    tl, tr, br, bl = quad
    right = (tr - tl + br - bl) / 2.0
    down = (bl - tl + br - tr) / 2.0
    return np.array(
        [
            tl - right * fx - down * fy,
            tr + right * fx - down * fy,
            br + right * fx + down * fy,
            bl - right * fx + down * fy,
        ],
        dtype=np.float32,
    )


def quad_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quadrilateral cut out and straightened (perspective warp)."""
    tl, tr, br, bl = quad
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    width, height = max(width, 8), max(height, 4)
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )


def _boxes_join(boxes: list[tuple[np.ndarray, float, float]]) -> list[np.ndarray]:
    """Neighbouring detector boxes on one line whose heights agree (a plate split at its
    separator dot, or into characters) joined into one quad each."""
    items = sorted(boxes, key=lambda b: float(b[0][:, 0].min()))
    joined: list[np.ndarray] = []
    used = [False] * len(items)
    for i, (quad, _w, h) in enumerate(items):
        if used[i]:
            continue
        chain = [quad]
        last, last_h = quad, h
        for j in range(i + 1, len(items)):
            if used[j]:
                continue
            other, _ow, oh = items[j]
            if not 0.6 <= oh / max(last_h, 1.0) <= 1.6:
                continue
            dy = abs(float(other[:, 1].mean()) - float(last[:, 1].mean()))
            gap = float(other[:, 0].min()) - float(last[:, 0].max())
            if dy < 0.5 * max(oh, last_h) and -0.5 * last_h < gap < 1.2 * max(oh, last_h):
                chain.append(other)
                used[j] = True
                last, last_h = other, oh
        if len(chain) > 1:
            joined.append(np.concatenate(chain))
    return joined


def _color_regions(image: np.ndarray) -> list[np.ndarray]:
    """Plate-shaped regions of plate background colour, as point sets in image coords."""
    height, width = image.shape[:2]
    scale = min(1.0, COLOR_WORK_SIDE / float(max(height, width)))
    small = (
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else image
    )
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    masks = color_masks(hsv)
    area_min = max(120.0, small.shape[0] * small.shape[1] * 0.0004)
    regions: list[np.ndarray] = []
    kw = max(3, round(small.shape[1] / 120))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (kw, max(3, kw // 2)))
    for name in (BLUE, YELLOW, GREEN):
        mask: np.ndarray = masks[name].astype(np.uint8) * 255
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            area = cv2.contourArea(contour)
            if area < area_min:
                continue
            quad, w, h = _rect_quad(contour)
            if h < 6 or not 1.8 <= w / h <= 6.0:
                continue
            if area / max(w * h, 1.0) < 0.45:
                continue
            regions.append(quad / scale)
    return regions


def _ranked(items: list[tuple[np.ndarray, bool, float, float]]) -> list[Candidate]:
    found: list[tuple[float, Candidate]] = []
    for points, colored, fx, fy in items:
        quad, w, h = _rect_quad(points)
        if h < MIN_HEIGHT_PX or not MIN_ASPECT <= w / h <= MAX_ASPECT:
            continue
        # Plate-like aspect (about 3-5 for the text line, 3.1 for the plate) ranks first.
        shape = -abs(float(np.log((w / h) / 3.6)))
        found.append((shape + (0.5 if colored else 0.0), Candidate(_expand(quad, fx, fy), colored)))
    found.sort(key=lambda item: item[0], reverse=True)
    return [cand for _, cand in found[:MAX_CANDIDATES]]


def candidates_from_color(image: np.ndarray) -> list[Candidate]:
    """Plate-coloured, plate-shaped regions of a scene, most plate-like first."""
    return _ranked([(points, True, 0.03, 0.08) for points in _color_regions(image)])


def candidates_from_boxes(det_boxes: np.ndarray) -> list[Candidate]:
    """Text-detector boxes of a scene, and runs of them joined, most plate-like first."""
    boxes = []
    for box in det_boxes:
        quad, w, h = _rect_quad(box)
        if h >= MIN_HEIGHT_PX * 0.6:
            boxes.append((quad, w, h))
    items = [(quad, False, 0.04, 0.12) for quad, _, _ in boxes]
    items += [(points, False, 0.04, 0.12) for points in _boxes_join(boxes)]
    return _ranked(items)


def crop_tighten(crop: np.ndarray, color: str) -> np.ndarray:
    """The plate inside a loose crop (a text box with margin, a painted frame around a
    plate): the bounding box of the largest region of the plate's background colour,
    when that region is plate-shaped; otherwise the crop unchanged."""
    if color not in (BLUE, YELLOW, GREEN):
        return crop
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    mask: np.ndarray = color_masks(hsv)[color].astype(np.uint8) * 255
    h, w = mask.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, w // 25), max(3, h // 8)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return crop
    x, y, bw, bh = cv2.boundingRect(max(contours, key=cv2.contourArea))
    if bw * bh < 0.25 * w * h or bh < MIN_HEIGHT_PX or not 1.8 <= bw / max(bh, 1) <= 6.0:
        return crop
    if bw * bh > 0.85 * w * h:
        return crop  # already tight
    mx, my = int(bw * 0.03), int(bh * 0.08)
    return crop[max(0, y - my) : min(h, y + bh + my), max(0, x - mx) : min(w, x + bw + mx)]
