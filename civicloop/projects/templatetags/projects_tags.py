"""Template helpers of the 民生实事 pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """`mapping|get:key`, with the key as given or as a string (form data keys)."""
    if not isinstance(mapping, dict):
        return None
    return mapping.get(key, mapping.get(str(key)))
