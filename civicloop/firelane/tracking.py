"""Sightings → stays → warnings and evidence (being written)."""

from __future__ import annotations


def sightings_process(*, limit: int = 200) -> int:
    raise NotImplementedError


def firelane_sweep() -> int:
    raise NotImplementedError
