"""Plate colour from the hue of the plate region.

The background covers most of a plate, the characters the rest, so each pixel of the
central part of the plate is classed by HSV and the background class wins. Green
new-energy plates are a white-to-green gradient with black characters: a smaller green
share than a blue or yellow plate has, so green needs less share to win.
"""

from __future__ import annotations

import cv2
import numpy as np

BLUE, YELLOW, GREEN, WHITE, BLACK = "blue", "yellow", "green", "white", "black"
COLORS = (BLUE, YELLOW, GREEN, WHITE, BLACK)

# OpenCV hue runs 0..180. Yellow starts low (orange) because cameras at night and pink
# colour casts pull yellow plates towards orange.
_HUE = {BLUE: (86, 130), YELLOW: (8, 34), GREEN: (35, 85)}
_MIN_SAT = {BLUE: 70, YELLOW: 70, GREEN: 40}
_MIN_VAL = {BLUE: 35, YELLOW: 70, GREEN: 60}


def color_masks(hsv: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks of the pixels whose colour could be a plate background."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    masks = {}
    for name, (lo, hi) in _HUE.items():
        masks[name] = (h >= lo) & (h <= hi) & (s >= _MIN_SAT[name]) & (v >= _MIN_VAL[name])
    masks[WHITE] = (s < 45) & (v >= 150)
    masks[BLACK] = v < 60
    return masks


def color_shares(bgr: np.ndarray) -> dict[str, float]:
    """Share of each colour class in the central part of a plate image."""
    height, width = bgr.shape[:2]
    # Borders, rivets and a tight frame around the plate are not the background.
    y0, y1 = int(height * 0.15), max(int(height * 0.85), int(height * 0.15) + 1)
    x0, x1 = int(width * 0.08), max(int(width * 0.92), int(width * 0.08) + 1)
    core = bgr[y0:y1, x0:x1]
    if core.size == 0:
        core = bgr
    hsv = cv2.cvtColor(core, cv2.COLOR_BGR2HSV)
    total = float(hsv.shape[0] * hsv.shape[1]) or 1.0
    return {name: float(mask.sum()) / total for name, mask in color_masks(hsv).items()}


def plate_color(bgr: np.ndarray) -> str:
    """The plate colour of a BGR plate image: blue, yellow, green, white, black, or ""
    when the region is empty."""
    if bgr is None or bgr.size == 0:
        return ""
    shares = color_shares(bgr)
    weighted = {
        BLUE: shares[BLUE],
        YELLOW: shares[YELLOW],
        # The gradient leaves the top of a green plate nearly white.
        GREEN: shares[GREEN] * 1.6,
    }
    best = max(weighted, key=lambda name: weighted[name])
    if weighted[best] >= 0.18:
        return best
    # White or black: the characters are the other one, so look where there are none,
    # the bands above and below the characters.
    height = bgr.shape[0]
    bands = np.concatenate(
        [bgr[int(height * 0.03) : int(height * 0.14)], bgr[int(height * 0.86) : int(height * 0.97)]]
    )
    if bands.size:
        masks = color_masks(cv2.cvtColor(bands, cv2.COLOR_BGR2HSV))
        white, black = float(masks[WHITE].mean()), float(masks[BLACK].mean())
        if abs(white - black) > 0.2:
            return WHITE if white > black else BLACK
    return WHITE if shares[WHITE] >= shares[BLACK] else BLACK
