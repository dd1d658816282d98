"""The case rollups behind the cockpit and the channel tiles: what each case adds to the figures, and the figures summed per
day, town and breakdown, so a page view adds up a few thousand rows instead of scanning
every case.

Derived data only: `civicloop.core.cases.rollups.rollup_rebuild` recreates all of it from the cases, and
`rollups.rollup_refresh` keeps it current from the case timelines (every change to a case
appends an entry there)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class RollupState(models.Model):
    """How far the rollups have read the case timelines (one row)."""

    key = models.CharField(primary_key=True, max_length=16, default="cases")
    last_entry_id = models.BigIntegerField(default=0)
    # Entry ids below last_entry_id not seen yet (a transaction still open, or rolled
    # back): {id: when first missed (epoch seconds)}; see rollups.py.
    gaps = models.JSONField(default=dict, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: entry {self.last_entry_id}"


class CaseFact(models.Model):
    """What one case adds to the figures, as last read. The open ones also answer the
    figures that move with the clock (due within a day, overdue) along their deadline."""

    case_id = models.BigIntegerField(primary_key=True)
    channel = models.CharField(max_length=32)
    day = models.DateField()  # the local day it was received
    town = models.CharField(max_length=64, blank=True, default="")  # rollups.town_of
    area_path = models.CharField(max_length=255, blank=True, default="")
    category = models.CharField(max_length=64, blank=True, default="")
    owner = models.CharField(max_length=64, blank=True, default="")  # unit codes
    assignee = models.CharField(max_length=64, blank=True, default="")
    person = models.CharField(max_length=64, blank=True, default="")
    is_open = models.BooleanField(default=True)
    due_at = models.DateTimeField(null=True, blank=True)
    closed = models.BooleanField(default=False)
    late = models.BooleanField(default=False)
    excluded = models.BooleanField(default=False)
    reworked = models.BooleanField(default=False)
    rated = models.BooleanField(default=False)
    satisfied = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["area_path", "day"], name="case_fact_area_day"),
            # Covers the clock's count (overdue, due within a day) of the open cases:
            # answered from the index alone.
            models.Index(
                fields=["due_at", "channel", "town", "day"],
                condition=Q(is_open=True),
                name="case_fact_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} ({self.channel}, {self.day})"


class CaseRollup(models.Model):
    """The figures of one channel's cases received on one day in one town, in total
    (`dim` "all") or for one value of a breakdown (category, owner, assignee, person)."""

    channel = models.CharField(max_length=32)
    day = models.DateField()
    town = models.CharField(max_length=64, blank=True, default="")  # rollups.town_of
    dim = models.CharField(max_length=12)
    key = models.CharField(max_length=64, blank=True, default="")
    received = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    excluded = models.IntegerField(default=0)
    excluded_closed = models.IntegerField(default=0)
    late = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dim", "day", "town", "channel", "key"], name="case_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.day} {self.town} {self.dim}={self.key}: {self.received}"
