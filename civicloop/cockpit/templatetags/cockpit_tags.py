"""Filters of the cockpit's page."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """A rate in [0, 1] as a percentage with one decimal, or a dash when there is none."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
