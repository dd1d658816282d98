"""Plate text rules: what a Chinese civil plate number may look like, and how camera or
OCR text becomes the one canonical spelling we store and compare.

Formats (GA 36-2018 《中华人民共和国机动车号牌》):
- ordinary plates (blue, yellow, black, white): province + issuing-authority letter +
  5 serial characters, letters and digits;
- new-energy plates (green, 8 characters): province + letter + 6 serial characters.
  Small new-energy cars: the first serial character is D (pure electric) or F (hybrid),
  the second a letter or digit, the last four digits. Large ones: five digits, then D/F.
The letters I and O are never used, so in serial positions they can only be misread
1 and 0.
"""

from __future__ import annotations

import re
import unicodedata

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # GA 36-2018: no I, no O
DIGITS = "0123456789"
SERIAL = LETTERS + DIGITS
NEW_ENERGY_MARKS = "DF"  # D: pure electric, F: hybrid (GA 36-2018)
# Ordinary plates whose last character is a Chinese use mark (trailer, coach car, police).
USE_MARKS = "挂学警"

ORDINARY_RE = re.compile(rf"^[{PROVINCES}][{LETTERS}][{SERIAL}]{{5}}$")
ORDINARY_MARKED_RE = re.compile(rf"^[{PROVINCES}][{LETTERS}][{SERIAL}]{{4}}[{USE_MARKS}]$")
NEW_ENERGY_SMALL_RE = re.compile(
    rf"^[{PROVINCES}][{LETTERS}][{NEW_ENERGY_MARKS}][{SERIAL}]\d{{4}}$"
)
NEW_ENERGY_LARGE_RE = re.compile(rf"^[{PROVINCES}][{LETTERS}]\d{{5}}[{NEW_ENERGY_MARKS}]$")

# Characters cameras and OCR put between the two parts of a plate, or around it.
_SEPARATORS = re.compile(r"[\s·•∙・．.\-_—–:：,，|/\\()（）\[\]【】\"'“”‘’]+")
# Hikvision/Dahua ANPR report the plate colour in front of the number ("蓝浙A12345").
_COLOR_PREFIXES = ("黄绿", "渐变绿", "蓝", "黄", "绿", "白", "黑")

# A digit read where a letter must be (the issuing-authority position), and the reverse.
# Only pairs whose shapes are confused in practice; 1 is left alone (it could be T, J, L).
DIGIT_AS_LETTER = {"0": "D", "8": "B", "2": "Z", "5": "S", "6": "G", "4": "A"}
LETTER_AS_DIGIT = {"D": "0", "Q": "0", "U": "0", "B": "8", "Z": "2", "S": "5", "G": "6", "T": "7"}


def plate_is_valid(plate: str) -> bool:
    """Whether `plate` is a canonical plate number (see the module docstring)."""
    return bool(
        ORDINARY_RE.match(plate)
        or ORDINARY_MARKED_RE.match(plate)
        or NEW_ENERGY_SMALL_RE.match(plate)
        or NEW_ENERGY_LARGE_RE.match(plate)
    )


def _reorder_rows(tokens: list[str]) -> str:
    """Two-row plates read as 'bottom, top' or split into pieces: the row that starts
    with a province character and holds only province + letter goes first."""
    for i, token in enumerate(tokens):
        if i > 0 and len(token) == 2 and token[0] in PROVINCES:
            return token + "".join(tokens[:i] + tokens[i + 1 :])
    return "".join(tokens)


def _fix_serial(serial: str) -> str:
    return serial.replace("O", "0").replace("I", "1")


def _fix_new_energy(head: str, serial: str) -> str | None:
    """6 serial characters: apply the D/F position rule of GA 36-2018."""
    first, last = serial[0], serial[-1]
    if first in NEW_ENERGY_MARKS or (first == "0" and last not in NEW_ENERGY_MARKS):
        # Small car: D/F first (a 0 there can only be a misread D), four digits last.
        mark = "D" if first == "0" else first
        tail = "".join(LETTER_AS_DIGIT.get(c, c) for c in serial[2:])
        return head + mark + serial[1] + tail
    if last in NEW_ENERGY_MARKS or last == "0":
        # Large car: five digits, then D/F.
        digits = "".join(LETTER_AS_DIGIT.get(c, c) for c in serial[:5])
        return head + digits + ("D" if last == "0" else last)
    return None


def plate_compact(text: str) -> str:
    """`text` as plates are compared when it is not a valid plate: width folded (NFKC),
    upper case, spaces and separators removed (" 浙j·12345 " → "浙J12345"). What
    `plate_spelling` falls back to; "" for no text."""
    return "".join(_SEPARATORS.split(unicodedata.normalize("NFKC", text or "").upper()))


def plate_spelling(text: str) -> str:
    """The one spelling under which plate text is stored, looked up and compared across the
    module (camera intake, officer input, the vehicle registry): `plate_normalize`'s
    canonical plate when the text is one, otherwise `plate_compact`'s, so text that is no
    plate is kept for a person to read rather than dropped."""
    return plate_normalize(text) or plate_compact(text)


def plate_normalize(text: str) -> str | None:
    """Camera or OCR text → canonical plate (e.g. "浙J12345", "湘DD08808"), or None when
    the text is not a plate. Guarantees: the result passes `plate_is_valid`; separators,
    spaces, width and case are dropped; a colour word in front is ignored; O/I in serial
    positions become 0/1; a digit in the letter position becomes the letter it is
    confused with; the two rows of a two-row plate come top row first."""
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text).upper().strip()
    for prefix in _COLOR_PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix) and text[len(prefix)] in PROVINCES:
            text = text[len(prefix) :]
            break
    tokens = [t for t in _SEPARATORS.split(text) if t]
    compact = _reorder_rows(tokens)
    if len(compact) not in (7, 8) or compact[0] not in PROVINCES:
        return None
    province, letter, serial = compact[0], compact[1], compact[2:]
    letter = DIGIT_AS_LETTER.get(letter, letter)
    if letter not in LETTERS:
        return None
    head = province + letter
    if len(serial) == 6:
        plate = _fix_new_energy(head, _fix_serial(serial))
    elif serial[-1] in USE_MARKS:
        plate = head + _fix_serial(serial[:-1]) + serial[-1]
    else:
        plate = head + _fix_serial(serial)
    if plate is None or not plate_is_valid(plate):
        return None
    return plate


def plates_similar(a: str, b: str) -> bool:
    """Whether two plate readings may be the same car: equal, or of equal length and
    differing in exactly one character (one OCR substitution). A differing province
    character counts as that one substitution, so it must be the only difference."""
    if not a or not b:
        return False
    a = plate_normalize(a) or a
    b = plate_normalize(b) or b
    if len(a) != len(b):
        return False
    return sum(1 for x, y in zip(a, b, strict=True) if x != y) <= 1
