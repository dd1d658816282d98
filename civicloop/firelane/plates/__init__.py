"""Server-side licence-plate reading for the fire-lane module (no Django models).

The camera's plate text is never trusted alone: `plate_read` reads the plate from the
image itself, `plate_normalize` turns any plate text into its canonical spelling and
`plates_similar` tells whether two readings can be one car.
"""

from civicloop.firelane.plates.normalize import (
    plate_compact,
    plate_is_valid,
    plate_normalize,
    plate_spelling,
    plates_similar,
)
from civicloop.firelane.plates.reader import CONFIDENCE_REVIEW_BELOW, PlateReading, plate_read

__all__ = [
    "CONFIDENCE_REVIEW_BELOW",
    "PlateReading",
    "plate_compact",
    "plate_is_valid",
    "plate_normalize",
    "plate_read",
    "plate_spelling",
    "plates_similar",
]
