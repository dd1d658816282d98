"""Read a licence plate from an image: a plate crop (the camera's licensePlatePicture)
or a whole scene.

A crop goes to the recogniser alone, in a few preprocessings (padded, upscaled,
contrast-equalised, trimmed; and split into two rows when it is tall enough to be a
two-row plate); a scene first has its plate located (text detector boxes, joined where a
plate's separator dot split them, and plate-coloured regions), then each candidate is
read the same way. Every reading is decoded against the plate templates
(`decode.py`) and the candidate with the best character probabilities wins.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import cv2
import numpy as np

from civicloop.firelane.plates import engine
from civicloop.firelane.plates.color import BLUE, GREEN, YELLOW, plate_color
from civicloop.firelane.plates.decode import (
    BOTTOM_ROW,
    NEW_ENERGY_LARGE,
    NEW_ENERGY_SMALL,
    ORDINARY,
    TOP_ROW,
    Decoded,
    ctc_decode,
    reduce_probs,
)
from civicloop.firelane.plates.locate import (
    Candidate,
    candidates_from_boxes,
    candidates_from_color,
    crop_tighten,
    quad_crop,
)
from civicloop.firelane.plates.normalize import plate_is_valid

# Readings below this go to a human (the lead's plate check); see `_confidence`.
CONFIDENCE_REVIEW_BELOW = 0.8

# A scene candidate whose best reading has a lower mean character probability is not
# a plate (the templates always produce *some* plate-shaped text).
SCENE_MIN_MEAN_PROB = 0.55
# Crops: aspect below this may be a two-row plate (one-row plates are about 3.1:1,
# two-row ones 2:1).
TWO_ROW_MAX_ASPECT = 2.3
TWO_ROW_MIN_MEAN_PROB = 0.8
# The first two views agreeing with every character at least this probable is sure
# enough to skip the other views.
SURE_MIN_CHAR_PROB = 0.85
# A scene reading from colour regions this confident skips the text detector.
SCENE_SURE_CONFIDENCE = 0.9
SCENE_FULL_READS = 2
# Two candidates overlapping this much are one region (a colour blob and its frame).
SAME_REGION_IOU = 0.5
# An unsure colour reading is checked by the text detector in a window around the
# region first: the region widened by this share of its size on each side, detected at
# this long side at most (a plate fills much of the window, so it stays large enough).
WINDOW_MARGIN = 0.5
WINDOW_LONG_SIDE = 480
# A whole-scene detector box overlapping a box already read in the window this much is
# not read again.
TRIED_REGION_IOU = 0.7
# Text-detector candidates read in the second stage (they come after the colour ones,
# so the budget is smaller: scene p95 latency).
SCENE_TEXT_CANDIDATES = 6
COLOR_BONUS = 0.05
PLATE_BACKGROUNDS = (BLUE, YELLOW, GREEN)
# A path needs this many nats more to switch between 7 and 8 characters against the
# plate colour's hint (green plates have 8, the others 7).
LENGTH_PRIOR_NATS = 2.0

# auto: a crop-shaped image whose crop reading is this weak is read as a scene too.
AUTO_CROP_KEEP = 0.5

KIND_CROP, KIND_SCENE, KIND_AUTO = "crop", "scene", "auto"


@dataclass(frozen=True)
class PlateReading:
    plate: str  # normalized, e.g. "浙J12345"; "" when none found
    color: str  # "blue" | "yellow" | "green" | "white" | "black" | "" when none
    confidence: float  # 0..1
    box: tuple[float, float, float, float] | None  # plate box as fractions x1,y1,x2,y2
    kind: str  # "crop" | "scene": how it was read


NOTHING_CROP = PlateReading(plate="", color="", confidence=0.0, box=None, kind=KIND_CROP)


@dataclass(frozen=True)
class _Read:
    decoded: Decoded
    color: str
    votes: int
    share: float  # of the views' weight that agrees with this reading

    @property
    def score(self) -> float:
        return self.decoded.mean_prob


class PlateImageError(ValueError):
    """The bytes are not an image we can decode."""


def image_decode(data: bytes) -> np.ndarray:
    """BGR pixels of an encoded image (JPEG, PNG, BMP, WebP...), or PlateImageError."""
    if not data:
        raise PlateImageError("empty image")
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR)
    if image is None:
        try:
            import io

            from PIL import Image

            with Image.open(io.BytesIO(data)) as pil:
                rgb = np.asarray(pil.convert("RGB"))
            image = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        except Exception as exc:  # Pillow raises many types for garbage input
            raise PlateImageError("not a readable image") from exc
    if image.shape[0] < 8 or image.shape[1] < 16:
        raise PlateImageError("image too small")
    return image


def looks_like_crop(image: np.ndarray) -> bool:
    """A camera plate crop is small and wide (94x24, 140x36, 337x111...); a scene is a
    photo of a car. Two-row plates are about 2:1 and still small."""
    height, width = image.shape[:2]
    aspect = width / float(height)
    if aspect > 2.5 and height <= 200:
        return True
    return height <= 160 and width <= 480 and aspect >= 1.3


# ------------------------------------------------------------------ preprocessing


def _pad(image: np.ndarray, fy: float, fx: float) -> np.ndarray:
    dy, dx = round(image.shape[0] * fy), round(image.shape[1] * fx)
    return cv2.copyMakeBorder(image, dy, dy, dx, dx, cv2.BORDER_REPLICATE)


def _upscale(image: np.ndarray, height: int = 48) -> np.ndarray:
    if image.shape[0] >= height:
        return image
    scale = height / float(image.shape[0])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def _equalize(image: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(2, 8))
    lab[..., 0] = clahe.apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _trim(image: np.ndarray, fy: float, fx: float) -> np.ndarray:
    h, w = image.shape[:2]
    dy, dx = int(h * fy), int(w * fx)
    return image[dy : h - dy or h, dx : w - dx or w]


def _views_first(plate: np.ndarray) -> list[np.ndarray]:
    return [_pad(_upscale(plate), 0.12, 0.04), plate]


def _views_more(plate: np.ndarray) -> list[np.ndarray]:
    """More views for when the first two disagree or are unsure; OCR errors of one view
    are rarely repeated by all."""
    base = _upscale(plate)
    return [_equalize(_pad(base, 0.12, 0.04)), _trim(base, 0.06, 0.02)]


def _row_views(plate: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Top and bottom row of a (possible) two-row plate: province + letter above, the
    five serial characters below."""
    h, w = plate.shape[:2]
    # The top row is narrow text between the rivets: trim the sides.
    top = plate[: int(h * 0.40), int(w * 0.18) : int(w * 0.82)]
    bottom = plate[int(h * 0.30) :]
    return [(top, bottom), (_pad(_upscale(top), 0.1, 0.05), _upscale(bottom))]


# ------------------------------------------------------------------ reading


def _templates(color: str, emitted: int) -> list[tuple[tuple[str, ...], float]]:
    """Templates worth trying, with their prior (nats) given the plate colour and the
    number of characters the unconstrained path emits."""
    if color != GREEN and emitted < 8:
        return [(ORDINARY, 0.0)]
    prior_8 = 0.0 if color == GREEN else -LENGTH_PRIOR_NATS
    prior_7 = -LENGTH_PRIOR_NATS if color == GREEN else 0.0
    return [(ORDINARY, prior_7), (NEW_ENERGY_SMALL, prior_8), (NEW_ENERGY_LARGE, prior_8)]


def _emitted(logp: np.ndarray, blank: np.ndarray) -> int:
    """Characters on the best unconstrained path over the plate alphabet."""
    is_char = logp.max(axis=1) > blank
    ids = np.where(is_char, logp.argmax(axis=1), -1)
    changes = np.concatenate(([True], ids[1:] != ids[:-1]))
    return int(np.sum(changes & (ids >= 0)))


def _decode_one(probs: np.ndarray, color: str) -> Decoded | None:
    logp, blank = reduce_probs(probs, engine.alphabet_columns())
    best: tuple[float, Decoded] | None = None
    for template, prior in _templates(color, _emitted(logp, blank)):
        decoded = ctc_decode(logp, blank, template)
        if decoded is None:
            continue
        key = decoded.path_logp + prior
        if best is None or key > best[0]:
            best = (key, decoded)
    return None if best is None else best[1]


def _decode_rows(top: np.ndarray, bottom: np.ndarray) -> Decoded | None:
    cols = engine.alphabet_columns()
    first = ctc_decode(*reduce_probs(top, cols), TOP_ROW)
    second = ctc_decode(*reduce_probs(bottom, cols), BOTTOM_ROW)
    if first is None or second is None:
        return None
    return Decoded(
        text=first.text + second.text,
        char_probs=first.char_probs + second.char_probs,
        path_logp=first.path_logp + second.path_logp,
    )


def _vote(readings: list[Decoded]) -> tuple[Decoded, int, float] | None:
    """The text the views agree on, each view weighted by its path probability; returns
    its most confident reading, how many views gave it and its share of the weight."""
    by_text: dict[str, list[Decoded]] = defaultdict(list)
    for decoded in readings:
        by_text[decoded.text].append(decoded)
    if not by_text:
        return None
    weight = {t: sum(float(np.exp(d.path_logp)) for d in ds) for t, ds in by_text.items()}
    text = max(by_text, key=lambda t: (weight[t], max(d.mean_prob for d in by_text[t])))
    best = max(by_text[text], key=lambda d: d.mean_prob)
    total = sum(weight.values())
    share = weight[text] / total if total > 0 else len(by_text[text]) / len(readings)
    return best, len(by_text[text]), share


def _read_views(
    views: list[np.ndarray],
    rows: list[tuple[np.ndarray, np.ndarray]],
    color: str,
    known: dict[int, np.ndarray] | None = None,
) -> list[Decoded]:
    """Decoded readings of the views and rows; `known` holds probabilities already
    computed for some images (by index), which are not recognised again."""
    images = views + [img for pair in rows for img in pair]
    known = known or {}
    todo = [i for i in range(len(images)) if i not in known]
    fresh = dict(zip(todo, engine.recognize([images[i] for i in todo]), strict=True))
    probs = [known[i] if i in known else fresh[i] for i in range(len(images))]
    readings = [d for d in (_decode_one(p, color) for p in probs[: len(views)]) if d]
    for i in range(len(rows)):
        decoded = _decode_rows(probs[len(views) + 2 * i], probs[len(views) + 2 * i + 1])
        # A one-row plate cut in two reads as garbage with low probabilities; only a
        # confident two-row reading takes part in the vote.
        if decoded is not None and decoded.mean_prob > TWO_ROW_MIN_MEAN_PROB:
            readings.append(decoded)
    return readings


def _read_plate_image(
    plate: np.ndarray, *, color: str | None = None, plain_probs: np.ndarray | None = None
) -> _Read | None:
    """Read one plate image (a crop, or a region cut out of a scene): two views first,
    two more when those disagree or are unsure, then the views vote. `plain_probs` are
    the recogniser's probabilities of `plate` itself when the caller already has them
    (the second first view is the plate as is: no need to recognise it twice)."""
    color = plate_color(plate) if color is None else color
    two_row = plate.shape[1] / float(plate.shape[0]) < TWO_ROW_MAX_ASPECT
    rows = _row_views(plate) if two_row else []
    known = {} if plain_probs is None else {1: plain_probs}
    readings = _read_views(_views_first(plate), rows, color, known)
    voted = _vote(readings)
    # Every view agrees and no character is doubtful: more views would not change it.
    unanimous = voted is not None and voted[1] == len(readings) >= 2
    if voted is not None and unanimous and voted[0].min_prob >= SURE_MIN_CHAR_PROB:
        return _Read(decoded=voted[0], color=color, votes=voted[1], share=voted[2])
    readings += _read_views(_views_more(plate), [], color)
    voted = _vote(readings)
    if voted is None:
        return None
    return _Read(decoded=voted[0], color=color, votes=voted[1], share=voted[2])


def _confidence(read: _Read) -> float:
    """Mean character probability, pulled down by the weakest character and scaled by
    the share of views that agree; zero for text that is not a valid plate."""
    if not plate_is_valid(read.decoded.text):
        return 0.0
    value = (0.6 * read.decoded.mean_prob + 0.4 * read.decoded.min_prob) * read.share**0.5
    return round(max(0.0, min(1.0, value)), 3)


def _crop_reading(image: np.ndarray) -> PlateReading:
    read = _read_plate_image(image)
    if read is None:
        return NOTHING_CROP
    return PlateReading(
        plate=read.decoded.text,
        color=read.color,
        confidence=_confidence(read),
        box=None,
        kind=KIND_CROP,
    )


def _bounds(quad: np.ndarray) -> tuple[float, float, float, float]:
    xs, ys = quad[:, 0], quad[:, 1]
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two x1,y1,x2,y2 boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _overlaps(
    box: tuple[float, float, float, float], others: list[tuple[float, float, float, float]]
) -> bool:
    return any(_iou(box, other) >= SAME_REGION_IOU for other in others)


def _best_candidate(
    image: np.ndarray, candidates: list[Candidate]
) -> tuple[float, _Read, Candidate] | None:
    """Read the candidates once each, most plate-like first, then the most promising
    few fully. A candidate whose first reading is already a sure plate is read fully at
    once, and when that is sure too the rest are never read (scene latency)."""
    crops: list[np.ndarray] = []
    colors: list[str] = []
    probs: list[np.ndarray] = []
    full: dict[int, _Read | None] = {}

    def bonus(i: int) -> float:
        return COLOR_BONUS if colors[i] in PLATE_BACKGROUNDS else 0.0

    def full_read(i: int) -> _Read | None:
        if i not in full:
            plate = crop_tighten(crops[i], colors[i])
            # The untightened crop's first reading is one of the views: reuse it.
            plain = probs[i] if plate is crops[i] else None
            full[i] = _read_plate_image(plate, color=colors[i], plain_probs=plain)
        return full[i]

    ranked: list[tuple[float, int]] = []
    first_prob: dict[int, float] = {}
    read_boxes: list[tuple[float, float, float, float]] = []  # of the full reads
    for i, candidate in enumerate(candidates):
        crops.append(quad_crop(image, candidate.quad))
        colors.append(plate_color(crops[i]))
        probs.append(engine.recognize([crops[i]])[0])
        decoded = _decode_one(probs[i], colors[i])
        if decoded is None:
            continue
        first_prob[i] = decoded.mean_prob
        ranked.append((decoded.mean_prob + bonus(i), i))
        if (
            plate_is_valid(decoded.text)
            and decoded.min_prob >= SURE_MIN_CHAR_PROB
            and not _overlaps(_bounds(candidate.quad), read_boxes)
        ):
            read_boxes.append(_bounds(candidate.quad))
            read = full_read(i)
            if read is not None and _confidence(read) >= SCENE_SURE_CONFIDENCE:
                return _confidence(read) + bonus(i), read, candidate
    ranked.sort(reverse=True)
    best: tuple[float, _Read, Candidate] | None = None
    for rank, (_, i) in enumerate(ranked[:SCENE_FULL_READS]):
        box = _bounds(candidates[i].quad)
        if i not in full and (
            rank > 0 and (first_prob[i] < SCENE_MIN_MEAN_PROB or _overlaps(box, read_boxes))
        ):
            # A runner-up that does not read as a plate even roughly, or that is a
            # region already read cut a little differently, is not worth a full read.
            continue
        if i not in full:
            read_boxes.append(box)
        read = full_read(i)
        if read is None:
            continue
        confidence = _confidence(read)
        key = confidence + bonus(i)
        if best is None or key > best[0]:
            best = (key, read, candidates[i])
        if confidence >= SCENE_SURE_CONFIDENCE:
            break  # the runner-up cannot matter enough to pay for reading it
    return best


def _better(
    best: tuple[float, _Read, Candidate] | None, other: tuple[float, _Read, Candidate] | None
) -> tuple[float, _Read, Candidate] | None:
    if other is not None and (best is None or other[0] > best[0]):
        return other
    return best


def _detect_around(image: np.ndarray, quad: np.ndarray) -> list[Candidate]:
    """Text-detector candidates in a window around a plate-coloured region (the region
    widened by WINDOW_MARGIN of its size on every side), in image coordinates."""
    x1, y1, x2, y2 = _bounds(quad)
    mx, my = (x2 - x1) * WINDOW_MARGIN, (y2 - y1) * WINDOW_MARGIN
    height, width = image.shape[:2]
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(width, int(x2 + mx) + 1), min(height, int(y2 + my) + 1)
    if right - left < 16 or bottom - top < 8:
        return []
    window = image[top:bottom, left:right]
    boxes = engine.detect(window, long_side=WINDOW_LONG_SIDE)
    return candidates_from_boxes(boxes + np.array([left, top], dtype=np.float32))


def _scene_reading(image: np.ndarray) -> PlateReading:
    """Plate-coloured regions first (cheap); when they give no sure reading, the text
    detector in a window around the best region, and over the whole scene only when
    that neither is sure nor agrees with the colour reading."""
    best = _best_candidate(image, candidates_from_color(image))
    tried: list[tuple[float, float, float, float]] = []
    if (
        best is not None
        and best[1].score >= SCENE_MIN_MEAN_PROB
        and _confidence(best[1]) < SCENE_SURE_CONFIDENCE
    ):
        # The colour region reads as a plate, but not surely: the detector's tighter
        # text box usually reads it better, and a window around the region is far
        # cheaper to detect in than the whole scene.
        boxes = _detect_around(image, best[2].quad)[:SCENE_TEXT_CANDIDATES]
        tried = [_bounds(c.quad) for c in boxes]
        by_text = _best_candidate(image, boxes)
        if by_text is not None and _agree(best[1], by_text[1]):
            # Two independent localisations read the same valid plate: sure enough to
            # skip the whole-scene detector.
            return _scene_result(image, _better(best, by_text))
        best = _better(best, by_text)
    if best is None or _confidence(best[1]) < SCENE_SURE_CONFIDENCE:
        boxes = candidates_from_boxes(engine.detect(image))[:SCENE_TEXT_CANDIDATES]
        # Regions already read in the window would read the same again.
        boxes = [
            c
            for c in boxes
            if not any(_iou(_bounds(c.quad), box) >= TRIED_REGION_IOU for box in tried)
        ]
        best = _better(best, _best_candidate(image, boxes))
    return _scene_result(image, best)


def _agree(one: _Read, other: _Read) -> bool:
    return (
        one.decoded.text == other.decoded.text
        and _confidence(one) > 0
        and min(one.score, other.score) >= SCENE_MIN_MEAN_PROB
    )


def _scene_result(image: np.ndarray, best: tuple[float, _Read, Candidate] | None) -> PlateReading:
    if best is None or best[1].score < SCENE_MIN_MEAN_PROB:
        return PlateReading(plate="", color="", confidence=0.0, box=None, kind=KIND_SCENE)
    _, read, cand = best
    height, width = image.shape[:2]
    xs, ys = cand.quad[:, 0], cand.quad[:, 1]
    box = (
        round(max(0.0, float(xs.min()) / width), 4),
        round(max(0.0, float(ys.min()) / height), 4),
        round(min(1.0, float(xs.max()) / width), 4),
        round(min(1.0, float(ys.max()) / height), 4),
    )
    return PlateReading(
        plate=read.decoded.text,
        color=read.color,
        confidence=_confidence(read),
        box=box,
        kind=KIND_SCENE,
    )


def plate_read(*, image: bytes, kind: str = KIND_AUTO) -> PlateReading:
    """Read the plate in an encoded image. `kind` says whether it is a plate crop, a
    whole scene, or `auto` (decided from the image's size and shape). Guarantees: the
    plate is "" or valid canonical text (`plate_is_valid`); color is "" exactly when no
    plate was found; confidence is in 0..1; box is set only for scenes. Raises
    PlateImageError (a ValueError) when the bytes are not an image. Thread-safe."""
    if kind not in (KIND_CROP, KIND_SCENE, KIND_AUTO):
        raise ValueError(f"unknown kind {kind!r}")
    pixels = image_decode(image)
    if kind == KIND_CROP:
        return _crop_reading(pixels)
    if kind == KIND_SCENE:
        return _scene_reading(pixels)
    if looks_like_crop(pixels):
        reading = _crop_reading(pixels)
        if reading.plate and reading.confidence >= AUTO_CROP_KEEP:
            return reading
        # A small scene photo, or a crop with a lot around the plate.
        scene = _scene_reading(pixels)
        return scene if scene.confidence > reading.confidence else reading
    return _scene_reading(pixels)
