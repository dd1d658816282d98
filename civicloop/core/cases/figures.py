"""Reads of the case rollups (`rollups.py`): the figures of every channel over an area
and a range of received days, in total, per breakdown and per day.

A city or a town is answered from `CaseRollup` (a few rows per day and channel); an area
below a town (a village, a grid) from its cases' `CaseFact` rows, along their area path.
What moves with the clock (due within a day, overdue) is counted on the open cases'
facts along their deadline. Definitions: see `rollups.py`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import Count, Q, QuerySet, Sum

from civicloop.core.cases.models import CaseFact, CaseRollup
from civicloop.core.cases.rollups import COUNTERS

# The breakdowns a figure can be split by: the town, and the rollups' own dims.
BREAKDOWNS = ("town", "category", "owner", "assignee", "person")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


@dataclass
class Figures:
    received: int = 0
    closed: int = 0
    closed_on_time: int = 0
    excluded: int = 0
    excluded_closed: int = 0
    late: int = 0
    reworked: int = 0
    rated: int = 0
    satisfied: int = 0
    overdue: int = 0
    due_soon: int = 0

    @property
    def open(self) -> int:
        return self.received - self.closed

    @property
    def on_time_close_rate(self) -> float | None:
        """按期结案率: closed on time / closed, 延期 and 缓办 cases left out."""
        return _rate(self.closed_on_time, self.closed - self.excluded_closed)

    @property
    def on_time_handle_rate(self) -> float | None:
        """按期处置率: cases no step of which passed its deadline / received, 延期 and
        缓办 cases left out."""
        counted = self.received - self.excluded
        return _rate(counted - self.late, counted)

    @property
    def rework_rate(self) -> float | None:
        """返工率: reworked / received, 延期 and 缓办 cases left out."""
        return _rate(self.reworked, self.received - self.excluded)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: 满意 and 基本满意 / rated."""
        return _rate(self.satisfied, self.rated)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["open"] = self.open
        out["on_time_close_rate"] = self.on_time_close_rate
        out["on_time_handle_rate"] = self.on_time_handle_rate
        out["rework_rate"] = self.rework_rate
        out["satisfaction_rate"] = self.satisfaction_rate
        return out


@dataclass(frozen=True)
class Scope:
    """Where and when: an area path (empty: everywhere) and received days, inclusive."""

    area_path: str
    day_from: date
    day_to: date

    @property
    def depth(self) -> int:
        return len(self.area_path.split("/")) if self.area_path else 0

    def _towns(self) -> Q:
        """The rollups' towns within the scope: the city's own and its towns' (depth 1),
        one town (depth 2)."""
        if self.depth == 1:
            return Q(town=self.area_path) | Q(town__startswith=self.area_path + "/")
        return Q(town=self.area_path)

    def facts(self) -> QuerySet[CaseFact]:
        qs = CaseFact.objects.filter(day__gte=self.day_from, day__lte=self.day_to)
        if self.depth in (1, 2):
            qs = qs.filter(self._towns())
        elif self.depth > 2:
            qs = qs.filter(
                Q(area_path=self.area_path) | Q(area_path__startswith=self.area_path + "/")
            )
        return qs

    def rollups(self, dim: str) -> QuerySet[CaseRollup]:
        qs = CaseRollup.objects.filter(dim=dim, day__gte=self.day_from, day__lte=self.day_to)
        if self.depth:
            qs = qs.filter(self._towns())
        return qs

    @property
    def from_rollups(self) -> bool:
        return self.depth <= 2


# Aliased "n_<counter>": an annotation may not take the name of a field it filters on.
_FACT_SUMS = {
    "n_received": Count("pk"),
    "n_closed": Count("pk", filter=Q(closed=True)),
    "n_closed_on_time": Count("pk", filter=Q(closed=True, excluded=False, late=False)),
    "n_excluded": Count("pk", filter=Q(excluded=True)),
    "n_excluded_closed": Count("pk", filter=Q(excluded=True, closed=True)),
    "n_late": Count("pk", filter=Q(excluded=False, late=True)),
    "n_reworked": Count("pk", filter=Q(excluded=False, reworked=True)),
    "n_rated": Count("pk", filter=Q(rated=True)),
    "n_satisfied": Count("pk", filter=Q(satisfied=True)),
}


def _grouped(scope: Scope, group: str) -> dict[tuple[str, str], Figures]:
    """Figures per (channel, value of `group`), `group` one of BREAKDOWNS or "" (none)."""
    out: dict[tuple[str, str], Figures] = {}
    if scope.from_rollups:
        dim = "all" if group in ("", "town") else group
        qs = scope.rollups(dim)
        keys = ["channel", "town" if group == "town" else "key"]
        rows = qs.values(*keys).annotate(**{f"n_{c}": Sum(c) for c in COUNTERS})
        for row in rows:
            k = (row["channel"], row[keys[1]] if group else "")
            fig = out.setdefault(k, Figures())
            fig.add(Figures(**{c: int(row[f"n_{c}"] or 0) for c in COUNTERS}))
    else:
        keys = ["channel", *([group] if group else [])]
        for row in scope.facts().values(*keys).annotate(**_FACT_SUMS):
            k = (row["channel"], row[group] if group else "")
            out[k] = Figures(**{c: int(row[f"n_{c}"] or 0) for c in COUNTERS})
    return out


def _clock_query(scope: Scope, now: datetime) -> QuerySet[CaseFact]:
    return scope.facts().filter(is_open=True, due_at__lte=now + timedelta(days=1))


def _clock(scope: Scope, group: str, now: datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """(overdue, due within a day) of the open cases, per (channel, value of `group`)."""
    keys = ["channel", *([group] if group else [])]
    rows = (
        _clock_query(scope, now)
        .values(*keys)
        .annotate(
            n_overdue=Count("pk", filter=Q(due_at__lte=now)),
            n_soon=Count("pk", filter=Q(due_at__gt=now)),
        )
    )
    return {(r["channel"], r[group] if group else ""): (r["n_overdue"], r["n_soon"]) for r in rows}


def _clocks(
    scope: Scope, groups: Sequence[str], now: datetime
) -> dict[str, dict[tuple[str, str], tuple[int, int]]]:
    """`_clock` for several groups. On PostgreSQL one scan of the open facts answers them
    all (GROUPING SETS); elsewhere, one query per group."""
    qs = _clock_query(scope, now)
    connection = connections[qs.db]
    if connection.vendor != "postgresql" or len(groups) < 2:
        return {g: _clock(scope, g, now) for g in groups}
    compiler = qs.query.get_compiler(using=qs.db)
    where, params = compiler.compile(qs.query.where)
    table = CaseFact._meta.db_table
    cols = [g for g in groups if g]
    # `cols` are BREAKDOWNS (checked by the caller): column names, never user input.
    sets = [*(["(channel)"] if "" in groups else []), *(f"(channel, {c})" for c in cols)]
    grouping_sets = ", ".join(sets)
    # Names from BREAKDOWNS and the model; every value is a parameter.
    sql = (
        f"SELECT channel, {', '.join(cols)}, "  # noqa: S608
        f"{', '.join(f'GROUPING({c})' for c in cols)}, "
        "COUNT(*) FILTER (WHERE due_at <= %s), COUNT(*) FILTER (WHERE due_at > %s) "
        f'FROM "{table}" WHERE {where} GROUP BY GROUPING SETS ({grouping_sets})'
    )
    out: dict[str, dict[tuple[str, str], tuple[int, int]]] = {g: {} for g in groups}
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, *params])
        for row in cursor.fetchall():
            values, grouping = row[1 : 1 + len(cols)], row[1 + len(cols) : 1 + 2 * len(cols)]
            group = next((c for c, bit in zip(cols, grouping, strict=True) if bit == 0), "")
            key = values[cols.index(group)] if group else ""
            out[group][(row[0], key)] = (row[-2], row[-1])
    return out


def figures_grouped_many(
    *, scope: Scope, groups: Sequence[str], now: datetime
) -> dict[str, dict[tuple[str, str], Figures]]:
    """`figures_grouped` for several groups ("" among them: per channel only), their
    clocks read together."""
    for group in groups:
        if group and group not in BREAKDOWNS:
            raise ValueError(f"unknown breakdown {group!r}")
    out = {group: _grouped(scope, group) for group in groups}
    for group, clock in _clocks(scope, groups, now).items():
        for key, (overdue, soon) in clock.items():
            fig = out[group].setdefault(key, Figures())
            fig.overdue, fig.due_soon = overdue, soon
    return out


def figures_grouped(*, scope: Scope, group: str, now: datetime) -> dict[tuple[str, str], Figures]:
    """Every figure per (channel, value of `group`); `group` "" gives one per channel."""
    return figures_grouped_many(scope=scope, groups=[group], now=now)[group]


def figures_received(*, scope: Scope, group: str = "") -> dict[tuple[str, str], Figures]:
    """The figures that do not move with the clock (received, closed, rates...) per
    (channel, value of `group`): no overdue or due-soon counts, so no read of open cases."""
    if group and group not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {group!r}")
    return _grouped(scope, group)


def figures_by_channel(*, scope: Scope, now: datetime) -> dict[str, Figures]:
    return {
        channel: fig
        for (channel, _k), fig in figures_grouped(scope=scope, group="", now=now).items()
    }


def figures_daily(*, scope: Scope) -> dict[tuple[date, str], Figures]:
    """Received and closed per (received day, channel): the trends."""
    out: dict[tuple[date, str], Figures] = {}
    rows: Iterable[dict[str, Any]]
    if scope.from_rollups:
        rows = (
            scope.rollups("all")
            .values("day", "channel")
            .annotate(n_received=Sum("received"), n_closed=Sum("closed"))
        )
    else:
        rows = (
            scope.facts()
            .values("day", "channel")
            .annotate(n_received=Count("pk"), n_closed=Count("pk", filter=Q(closed=True)))
        )
    for row in rows:
        out[(row["day"], row["channel"])] = Figures(
            received=int(row["n_received"] or 0), closed=int(row["n_closed"] or 0)
        )
    return out
