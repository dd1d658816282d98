"""Case rollups: the figures of every channel summed per received day, town and breakdown,
kept current from the case timelines so that no page view scans every case.

Every change to a case appends a `TimelineEntry` (the engine's rule), so the entries
written since the last refresh name exactly the cases whose figures may have moved.
`rollup_refresh` reads them, recomputes those cases' facts (`CaseFact`), and adds the
difference to the `CaseRollup` rows they count in. It runs from the scheduler every few
seconds and before the cockpit answers, so the figures equal a direct count of the
cases. Entry ids are allocated before their transactions commit, so an id below the
highest one read may still be on its way: a refresh remembers the ids it did not see
(`RollupState.gaps`) and looks for them again at each refresh for `GAP_SECONDS` (a
rolled-back transaction leaves a gap that never fills). A refresh with nothing new costs
two indexed lookups. `rollup_rebuild` recreates everything from the cases; the daily
sweep runs it, and so does the first refresh.

What a case counts as (the digital city-management indicators):

- received: every case, on the local day it was received, in the town of its area
  (`town_of`);
- closed: in a terminal state (closed, merged, ...); open: not closed;
- excluded: a case given more time (延期, an action that `counts_as` "extension") or put
  on hold (缓办, "deferred"): left out of the denominators of the on-time rates and of
  the rework rate;
- late: a step of the case passed its deadline (a step marked overdue, or ended after
  its deadline); closed_on_time: closed, not excluded, not late;
- reworked: sent back to be done again ("rework");
- rated / satisfied: the citizen's own rating when there is one, else the case's rating;
  满意 and 基本满意 are satisfied.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from civicloop.core import registry
from civicloop.core.bulk_writes import bulk_insert_rows
from civicloop.core.cases.models import (
    Case,
    CaseFact,
    CaseRollup,
    CaseStep,
    Rating,
    RollupState,
    TimelineEntry,
)

# How long an unseen entry id is looked for again; and at most how many are remembered
# (a larger hole, a bulk rollback, is left to the daily rebuild).
GAP_SECONDS = 600
GAP_MAX = 10_000
CHUNK = 2000
COUNTERS = (
    "received",
    "closed",
    "closed_on_time",
    "excluded",
    "excluded_closed",
    "late",
    "reworked",
    "rated",
    "satisfied",
)
# The breakdowns a rollup row may be of ("all": the channel's total in the town).
DIMS = ("all", "category", "owner", "assignee", "person")
EXCLUDING = frozenset({"extension", "deferred"})
SATISFIED = frozenset({Rating.SATISFIED.value, Rating.BASICALLY.value})
RATINGS = frozenset(Rating.values)
_FACT_FIELDS = (
    "channel",
    "day",
    "town",
    "area_path",
    "category",
    "owner",
    "assignee",
    "person",
    "is_open",
    "due_at",
    "closed",
    "late",
    "excluded",
    "reworked",
    "rated",
    "satisfied",
)

RollupKey = tuple[str, date, str, str, str]
T = TypeVar("T")  # channel, day, town, dim, key


@dataclass(frozen=True)
class Fact:
    """What one case adds to the figures."""

    case_id: int
    channel: str
    day: date
    town: str
    area_path: str
    category: str
    owner: str
    assignee: str
    person: str
    is_open: bool
    due_at: datetime | None
    closed: bool
    late: bool
    excluded: bool
    reworked: bool
    rated: bool
    satisfied: bool

    def counters(self) -> dict[str, int]:
        counted = not self.excluded
        return {
            "received": 1,
            "closed": int(self.closed),
            "closed_on_time": int(self.closed and counted and not self.late),
            "excluded": int(self.excluded),
            "excluded_closed": int(self.excluded and self.closed),
            "late": int(counted and self.late),
            "reworked": int(counted and self.reworked),
            "rated": int(self.rated),
            "satisfied": int(self.satisfied),
        }

    def rollup_keys(self) -> Iterator[RollupKey]:
        base = (self.channel, self.day, self.town)
        yield (*base, "all", "")
        for dim in ("category", "owner", "assignee", "person"):
            value = getattr(self, dim)
            if value:
                yield (*base, dim, value)

    @classmethod
    def of_row(cls, row: CaseFact) -> Fact:
        return cls(case_id=row.case_id, **{f: getattr(row, f) for f in _FACT_FIELDS})

    def as_row(self) -> CaseFact:
        return CaseFact(case_id=self.case_id, **{f: getattr(self, f) for f in _FACT_FIELDS})


def town_of(area_path: str) -> str:
    """The path of the town (镇/街道) an area lies in ("331081/331081100"); the city's own
    path for a case placed on the city as a whole; "" for a case with no area."""
    return "/".join(area_path.split("/")[:2]) if area_path else ""


def facts_compute(case_ids: Sequence[int]) -> dict[int, Fact]:
    """The facts of these cases as they are now (cases that no longer exist are absent).
    Three queries whatever the number of cases; of a case's data only the keys that
    count are read (the citizen's rating, the channels' person keys)."""
    if not case_ids:
        return {}
    person_keys = sorted({ch.person_key for ch in registry.channels() if ch.person_key})
    person_of = {
        ch.code: person_keys.index(ch.person_key) for ch in registry.channels() if ch.person_key
    }
    rows = (
        Case.objects.filter(pk__in=case_ids)
        .annotate(
            citizen_rating=KT("data__citizen_rating__rating"),
            **{f"person_{i}": KT(f"data__{key}") for i, key in enumerate(person_keys)},
        )
        .values_list(
            "pk",
            "channel",
            "created_at",
            "area_path",
            "category",
            "owner_unit__code",
            "assignee_unit__code",
            "closed_at",
            "due_at",
            "rating",
            "citizen_rating",
            *(f"person_{i}" for i in range(len(person_keys))),
        )
    )
    counted: dict[int, set[str]] = defaultdict(set)
    for case_id, counts_as in TimelineEntry.objects.filter(
        case_id__in=case_ids, data__counts_as__in=sorted(EXCLUDING | {"rework"})
    ).values_list("case_id", "data__counts_as"):
        counted[case_id].add(str(counts_as))
    late = set(
        CaseStep.objects.filter(case_id__in=case_ids)
        .filter(Q(overdue=True) | Q(ended_at__gt=F("due_at")))
        .values_list("case_id", flat=True)
    )
    facts: dict[int, Fact] = {}
    for row in rows:
        pk, channel, created, path, category, owner, assignee, closed_at, due, rating = row[:10]
        citizen, persons = row[10], row[11:]
        # The citizen's own rating wins over the one entered for them.
        rated = citizen if citizen in RATINGS else (rating if rating in RATINGS else "")
        index = person_of.get(channel)
        person = str(persons[index] or "")[:64] if index is not None else ""
        closed = closed_at is not None
        facts[pk] = Fact(
            case_id=pk,
            channel=channel,
            day=timezone.localtime(created).date(),
            town=town_of(path),
            area_path=path,
            category=category or "",
            owner=owner or "",
            assignee=assignee or "",
            person=person,
            is_open=not closed,
            due_at=due if not closed else None,
            closed=closed,
            late=pk in late,
            excluded=bool(counted[pk] & EXCLUDING),
            reworked="rework" in counted[pk],
            rated=bool(rated),
            satisfied=rated in SATISFIED,
        )
    return facts


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _add(deltas: dict[RollupKey, Counter[str]], fact: Fact, sign: int) -> None:
    counters = fact.counters()
    for key in fact.rollup_keys():
        bucket = deltas[key]
        for name, value in counters.items():
            if value:
                bucket[name] += sign * value


def _apply(deltas: dict[RollupKey, Counter[str]]) -> int:
    """Add the deltas to their rollup rows (creating the missing ones); rows left with
    nothing received are deleted. Returns the number of rows touched."""
    deltas = {k: v for k, v in deltas.items() if any(v.values())}
    if not deltas:
        return 0
    days = {k[1] for k in deltas}
    channels = {k[0] for k in deltas}
    existing: dict[RollupKey, CaseRollup] = {}
    for day_chunk in _chunks(sorted(days), 500):
        for row in CaseRollup.objects.filter(day__in=day_chunk, channel__in=channels):
            existing[(row.channel, row.day, row.town, row.dim, row.key)] = row
    changed: list[CaseRollup] = []
    created: list[CaseRollup] = []
    empty: list[int] = []
    for key, delta in deltas.items():
        found = existing.get(key)
        if found is None:
            channel, day, town, dim, value = key
            new = CaseRollup(channel=channel, day=day, town=town, dim=dim, key=value)
            for name, n in delta.items():
                setattr(new, name, n)
            created.append(new)
            continue
        row = found
        for name, n in delta.items():
            setattr(row, name, getattr(row, name) + n)
        if row.received <= 0:
            empty.append(row.pk)
        else:
            changed.append(row)
    if changed:
        CaseRollup.objects.bulk_update(changed, list(COUNTERS), batch_size=1000)
    if created:
        CaseRollup.objects.bulk_create(created, batch_size=1000)
    if empty:
        CaseRollup.objects.filter(pk__in=empty).delete()
    return len(changed) + len(created) + len(empty)


def _facts_save(facts: Iterable[Fact], gone: Iterable[int]) -> None:
    rows = [f.as_row() for f in facts]
    if rows:
        CaseFact.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["case_id"],
            update_fields=list(_FACT_FIELDS),
        )
    gone = list(gone)
    if gone:
        CaseFact.objects.filter(case_id__in=gone).delete()


def _facts_insert(facts: list[Fact]) -> None:
    """INSERT new facts: on PostgreSQL one typed array per column (`unnest`), the cheap
    way for a rebuild's million rows; elsewhere Django's bulk_create."""
    if not facts:
        return
    if connection.vendor != "postgresql":
        CaseFact.objects.bulk_create([f.as_row() for f in facts], batch_size=1000)
        return
    by_name = {f.name: f for f in CaseFact._meta.concrete_fields}
    fields = [by_name[name] for name in ("case_id", *_FACT_FIELDS)]
    casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO cases_casefact ({columns}) SELECT * FROM unnest({casts})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(facts), 5000):
            chunk = facts[start : start + 5000]
            cursor.execute(sql, [[getattr(f, field.name) for f in chunk] for field in fields])


def cases_refresh(case_ids: Sequence[int]) -> int:
    """Recompute these cases' facts and move the rollups by the difference."""
    touched = 0
    for chunk in _chunks(sorted(set(case_ids))):
        new = facts_compute(chunk)
        old = {row.case_id: Fact.of_row(row) for row in CaseFact.objects.filter(case_id__in=chunk)}
        deltas: dict[RollupKey, Counter[str]] = defaultdict(Counter)
        for case_id in chunk:
            before, after = old.get(case_id), new.get(case_id)
            if before == after:
                continue
            if before is not None:
                _add(deltas, before, -1)
            if after is not None:
                _add(deltas, after, +1)
        touched += _apply(deltas)
        _facts_save(
            (f for cid, f in new.items() if old.get(cid) != f),
            (cid for cid in old if cid not in new),
        )
    return touched


def _state_locked(*, wait: bool) -> RollupState | None:
    """The state row, locked for this transaction; None when another refresh holds it
    and `wait` is false (the caller reads the figures as they are)."""
    RollupState.objects.get_or_create(key="cases")
    qs = RollupState.objects.filter(key="cases")
    if connection.features.has_select_for_update:
        qs = qs.select_for_update(skip_locked=not wait)
    return qs.first()


@dataclass(frozen=True)
class RefreshReport:
    cases: int
    rows: int
    rebuilt: bool
    skipped: bool = False


def rollup_refresh(*, wait: bool = True, now: datetime | None = None) -> RefreshReport:
    """Bring the rollups up to date with every timeline entry written so far. Idempotent
    and safe to run in two places: one refresh at a time holds the state row; with
    `wait=False` a second one returns at once (skipped)."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _state_locked(wait=wait)
        if state is None:
            return RefreshReport(0, 0, rebuilt=False, skipped=True)
        if state.rebuilt_at is None:
            report = _rebuild(state, now=now)
            return report
        seen = list(
            TimelineEntry.objects.filter(pk__gt=state.last_entry_id).values_list("pk", "case_id")
        )
        gaps = {int(k): float(v) for k, v in (state.gaps or {}).items()}
        if gaps:
            seen += list(
                TimelineEntry.objects.filter(pk__in=list(gaps)).values_list("pk", "case_id")
            )
        ids = sorted({case_id for _pk, case_id in seen})
        rows = cases_refresh(ids)
        seen_ids = {pk for pk, _case in seen}
        top = max([state.last_entry_id, *seen_ids])
        clock = time.time()
        for pk in range(state.last_entry_id + 1, top):
            if pk not in seen_ids and len(gaps) < GAP_MAX:
                gaps[pk] = clock
        kept = {
            str(pk): first
            for pk, first in gaps.items()
            if pk not in seen_ids and clock - first < GAP_SECONDS
        }
        # Nothing new: no write (a reader's refresh costs two indexed reads).
        if seen or kept != (state.gaps or {}):
            state.gaps = kept
            state.last_entry_id = top
            state.refreshed_at = now
            state.save(update_fields=["last_entry_id", "gaps", "refreshed_at"])
    return RefreshReport(len(ids), rows, rebuilt=False)


def rollup_rebuild(*, now: datetime | None = None) -> RefreshReport:
    """Recreate every fact and rollup row from the cases (the daily reconciliation, and
    the first refresh). Holds the state row while it runs."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _state_locked(wait=True)
        assert state is not None
        return _rebuild(state, now=now)


def _rebuild(state: RollupState, *, now: datetime) -> RefreshReport:
    top = TimelineEntry.objects.aggregate(top=Max("pk"))["top"] or 0
    CaseRollup.objects.all().delete()
    CaseFact.objects.all().delete()
    totals: dict[RollupKey, Counter[str]] = defaultdict(Counter)
    count = 0
    last = 0
    while True:
        ids = list(
            Case.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            break
        last = ids[-1]
        facts = facts_compute(ids)
        for fact in facts.values():
            _add(totals, fact, +1)
        _facts_insert(list(facts.values()))
        count += len(facts)
    rows = [
        CaseRollup(channel=k[0], day=k[1], town=k[2], dim=k[3], key=k[4], **dict(v))
        for k, v in totals.items()
        if v.get("received")
    ]
    bulk_insert_rows(rows)
    state.last_entry_id = top
    state.gaps = {}
    state.refreshed_at = now
    state.rebuilt_at = now
    state.save()
    return RefreshReport(count, len(rows), rebuilt=True)
