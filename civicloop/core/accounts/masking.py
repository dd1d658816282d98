"""How personal data is shown to those who do not need it in full."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """138****5678 for a mainland mobile; keeps only the first 3 and last 4 digits."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str:
    """张** / 欧阳** : keeps the surname (first character) only."""
    if not name:
        return ""
    name = name.strip()
    if len(name) == 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_plate(plate: str | None) -> str:
    """浙J12345 -> 浙J·1***5: the region stays readable, the vehicle does not."""
    if not plate:
        return ""
    if len(plate) < 5:
        return plate[:1] + "*" * (len(plate) - 1)
    return f"{plate[:2]}·{plate[2]}{'*' * (len(plate) - 4)}{plate[-1]}"
