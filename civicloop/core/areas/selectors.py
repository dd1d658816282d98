"""Reads of the area tree."""

from __future__ import annotations

from civicloop.core.areas.models import Area


def area_by_code(code: str) -> Area | None:
    """The area with this code, or None (an empty or unknown code)."""
    if not code:
        return None
    return Area.objects.filter(code=code.strip()).first()
