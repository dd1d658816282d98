"""Plate text rules without the OCR: a plate begins with one of the 31 province
characters of GA 36-2018, so text that begins with any other Chinese character (港 or 澳
where a province belongs, 使 of an embassy plate, 领 of a consulate) is no plate we can
fine, however plate-like the rest of it is."""

from __future__ import annotations

import pytest

from civicloop.firelane.plates.normalize import (
    PROVINCES,
    plate_compact,
    plate_is_valid,
    plate_normalize,
    plate_spelling,
)

NOT_PROVINCES = ["港", "澳", "使", "领", "台", "中", "军", "警", "学", "挂", "电"]


def test_there_are_31_provinces_each_once() -> None:
    assert len(PROVINCES) == 31 and len(set(PROVINCES)) == 31
    assert not set(PROVINCES) & set(NOT_PROVINCES)


@pytest.mark.parametrize("province", list(PROVINCES))
def test_every_province_begins_a_plate(province: str) -> None:
    for plate in (f"{province}A12345", f"{province}AD12345", f"{province}A12345F"):
        assert plate_is_valid(plate), plate
        assert plate_normalize(plate) == plate


@pytest.mark.parametrize("first", NOT_PROVINCES)
@pytest.mark.parametrize(
    "rest",
    [
        "A12345",  # ordinary
        "A1234挂",  # ordinary with a use mark
        "AD12345",  # small new-energy
        "A12345D",  # large new-energy
    ],
)
def test_a_plate_of_no_province_is_refused(first: str, rest: str) -> None:
    # given plate-like text whose first character is no province
    text = first + rest
    # then it is neither a valid plate nor normalized into one
    assert not plate_is_valid(text)
    assert plate_normalize(text) is None
    # with separators, width, case or a colour word around it, it still is not
    for variant in (f"{first}{rest[0].lower()}·{rest[1:]}", f"蓝{text}", f" {first} {rest} "):
        assert plate_normalize(variant) is None, variant
    # it is kept as text for a person to read, never turned into someone's plate
    assert plate_spelling(text) == plate_compact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "使014578",  # embassy plate: 使 + digits
        "使A1234",
        "粤Z1234港",  # a Hong Kong crossing plate: 港 at the end is no use mark we fine
        "粤Z1234澳",
        "港A1234",
        "WJ浙12345",  # armed police
    ],
)
def test_special_plates_are_not_ordinary_ones(text: str) -> None:
    assert not plate_is_valid(text)
    assert plate_normalize(text) is None


# --------------------------------------------------------------------- the spelling rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123 45 浙J", "浙J12345"),  # the top row read last, the bottom row in two pieces
        ("123 浙J 45", "浙J12345"),  # the top row read in the middle
        ("12 浙J345", None),  # a province piece that is no top row is not moved
        ("浙J1234O", "浙J12340"),  # O in the last serial position is a 0
        ("浙J123O挂", "浙J1230挂"),  # and before a use mark
        ("蓝", None),  # a colour word alone
        ("浙", None),  # a province alone
        ("", None),
    ],
)
def test_normalize_spelling_rules(text: str, expected: str | None) -> None:
    assert plate_normalize(text) == expected


def test_compact_and_spelling() -> None:
    assert plate_compact(" 浙j·12 ") == "浙J12"
    assert plate_compact("") == ""
    # a plate is spelled canonically (colour word dropped), anything else compacted
    assert plate_spelling("蓝浙J·12345") == "浙J12345"
    assert plate_spelling("港A·12345") == "港A12345"


def test_similar_readings_are_compared_in_their_canonical_spelling() -> None:
    from civicloop.firelane.plates.normalize import plates_similar

    assert plates_similar("浙 J12345", "浙J12345")
    assert plates_similar("蓝浙J12345", "浙J12346")
    assert not plates_similar("浙 J12345", "浙J12366")
    assert not plates_similar("", "浙J12345") and not plates_similar("", "")
