"""The panel lottery on plain data (sortition-algorithms), without the database.

A frame is a list of ``FramePerson`` (an id and its strata values); quotas are
``Quota(feature, value, min, max)`` rows. ``panel_compute`` gives the same panel for the
same frame, quotas, size and seed, on any machine: the library's "legacy" algorithm draws
from Python's global ``random`` after seeding it, so the draw holds a lock (two draws in
one process would interleave their random numbers) and restores the global state after.

Reserves are drawn after the panel from the people left, in an order fixed by the same
seed, stratum by stratum in proportion to the panel, so that calling reserves in order
keeps the panel's make-up as far as the frame allows.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from sortition_algorithms import (
    Settings,
    SortitionBaseError,
    read_in_features,
    read_in_people,
    run_stratification,
)
from sortition_algorithms.utils import override_logging_handlers

from civicloop.budgeting.errors import BudgetError, BudgetErrorCode

# The library logs every trial to stdout by default; the draw's report is ours to show.
override_logging_handlers([logging.NullHandler()], [logging.NullHandler()])

_LOCK = threading.Lock()
FEATURE_HEAD = ["feature", "value", "min", "max"]


@dataclass(frozen=True)
class FramePerson:
    id: str
    strata: dict[str, str]


@dataclass(frozen=True)
class Quota:
    feature: str
    value: str
    min: int
    max: int

    def as_dict(self) -> dict[str, str | int]:
        return {"feature": self.feature, "value": self.value, "min": self.min, "max": self.max}


@dataclass(frozen=True)
class PanelResult:
    selected: list[str]  # frame ids, sorted
    reserves: list[str]  # frame ids, in the order they are called


def quotas_from(rows: Sequence[dict[str, object]]) -> list[Quota]:
    """Quotas from stored JSON rows; BudgetError(INVALID) naming a malformed row."""
    out = []
    for i, row in enumerate(rows, start=1):
        try:
            out.append(
                Quota(str(row["feature"]), str(row["value"]), int(row["min"]), int(row["max"]))  # type: ignore[call-overload]
            )
        except (KeyError, TypeError, ValueError):
            raise BudgetError(
                BudgetErrorCode.INVALID, _("第 %(n)d 条配额格式有误。") % {"n": i}, field="quotas"
            ) from None
    return out


def quotas_proportional(
    *, frame: Sequence[FramePerson], features: Sequence[str], size: int, slack: int = 2
) -> list[Quota]:
    """Quotas in proportion to the frame: each stratum gets its share of ``size`` rounded
    down and up, widened by ``slack`` seats each way (never below 0)."""
    out = []
    total = len(frame)
    for feature in features:
        counts = Counter(p.strata.get(feature, "") for p in frame)
        for value in sorted(counts):
            share = size * counts[value] / total if total else 0
            out.append(
                Quota(
                    feature,
                    value,
                    max(0, math.floor(share) - slack),
                    min(counts[value], math.ceil(share) + slack),
                )
            )
    return out


def frame_digest(frame: Sequence[FramePerson]) -> str:
    """A digest of the frame's ids and strata, kept with a draw so anyone re-running it
    can tell they have the same frame."""
    h = hashlib.sha256()
    for person in sorted(frame, key=lambda p: p.id):
        h.update(person.id.encode())
        for key in sorted(person.strata):
            h.update(f"\x1f{key}={person.strata[key]}".encode())
        h.update(b"\x1e")
    return h.hexdigest()


def quotas_check(*, frame: Sequence[FramePerson], quotas: Sequence[Quota], size: int) -> None:
    """Refuse (BudgetError QUOTA) quotas no panel of ``size`` from this frame can meet,
    naming the strata: a minimum above the people the frame has, a feature whose minimums
    add up to more than ``size`` or whose maximums to less, min above max."""
    problems: list[str] = []
    by_feature: dict[str, list[Quota]] = {}
    for q in quotas:
        by_feature.setdefault(q.feature, []).append(q)
        if q.min > q.max:
            problems.append(
                _("%(f)s=%(v)s：下限 %(min)d 大于上限 %(max)d")
                % {"f": q.feature, "v": q.value, "min": q.min, "max": q.max}
            )
    for feature, rows in by_feature.items():
        counts = Counter(p.strata.get(feature, "") for p in frame)
        for q in rows:
            if q.min > counts.get(q.value, 0):
                problems.append(
                    _("%(f)s=%(v)s：至少抽 %(min)d 人，抽样框只有 %(n)d 人")
                    % {"f": feature, "v": q.value, "min": q.min, "n": counts.get(q.value, 0)}
                )
        low = sum(q.min for q in rows)
        high = sum(q.max for q in rows)
        if low > size:
            problems.append(
                _("%(f)s：各层下限合计 %(n)d，超过抽选人数 %(size)d")
                % {"f": feature, "n": low, "size": size}
            )
        if high < size:
            problems.append(
                _("%(f)s：各层上限合计 %(n)d，不足抽选人数 %(size)d")
                % {"f": feature, "n": high, "size": size}
            )
        missing = sorted(set(counts) - {q.value for q in rows})
        if missing:
            problems.append(
                _("%(f)s：抽样框中的 %(values)s 没有配额")
                % {"f": feature, "values": "、".join(missing)}
            )
    if len(frame) < size:
        problems.append(
            _("抽样框只有 %(n)d 人，不足抽选人数 %(size)d") % {"n": len(frame), "size": size}
        )
    if problems:
        raise BudgetError(
            BudgetErrorCode.QUOTA,
            _("配额无法满足：%(problems)s") % {"problems": "；".join(problems)},
            field="quotas",
        )


def panel_compute(
    *, frame: Sequence[FramePerson], quotas: Sequence[Quota], size: int, reserve: int, seed: int
) -> PanelResult:
    """Draw ``size`` people meeting ``quotas`` and ``reserve`` reserves, reproducibly from
    ``seed`` (a positive integer: the library treats 0 as "no seed")."""
    if seed <= 0:
        raise BudgetError(BudgetErrorCode.DRAW, _("随机种子必须是正整数。"), field="seed")
    quotas_check(frame=frame, quotas=quotas, size=size)
    features_used = sorted({q.feature for q in quotas})
    head = ["id", *features_used]
    people_rows = [
        {"id": p.id, **{f: p.strata.get(f, "") for f in features_used}}
        for p in sorted(frame, key=lambda p: p.id)
    ]
    feature_rows = [
        {"feature": q.feature, "value": q.value, "min": str(q.min), "max": str(q.max)}
        for q in quotas
    ]
    settings = Settings(
        id_column="id",
        columns_to_keep=[],
        selection_algorithm="legacy",
        random_number_seed=seed,
    )
    with _LOCK:
        state = random.getstate()
        try:
            features, _head, _value = read_in_features(FEATURE_HEAD, feature_rows, size)
            people, _report = read_in_people(head, people_rows, features, settings)
            ok, selections, report = run_stratification(features, people, size, settings)
        except SortitionBaseError as exc:
            raise BudgetError(
                BudgetErrorCode.QUOTA,
                _("配额无法满足：%(reason)s") % {"reason": str(exc)},
                field="quotas",
            ) from None
        finally:
            random.setstate(state)
    if not ok or not selections:
        raise BudgetError(
            BudgetErrorCode.QUOTA,
            _("配额无法满足：%(reason)s") % {"reason": report.as_text().strip()[-500:]},
            field="quotas",
        )
    selected = sorted(selections[0])
    return PanelResult(
        selected=selected,
        reserves=_reserves(
            frame=frame, selected=set(selected), count=reserve, seed=seed, features=features_used
        ),
    )


def _reserves(
    *,
    frame: Sequence[FramePerson],
    selected: set[str],
    count: int,
    seed: int,
    features: Sequence[str],
) -> list[str]:
    """``count`` reserves from the people not selected: strata (all features together)
    take turns in proportion to the panel's make-up, each stratum's people in an order
    fixed by ``seed``."""
    if count <= 0:
        return []
    rng = random.Random(seed)
    left: dict[tuple[str, ...], list[str]] = {}
    panel_share: Counter[tuple[str, ...]] = Counter()
    for person in sorted(frame, key=lambda p: p.id):
        key = tuple(person.strata.get(f, "") for f in features)
        if person.id in selected:
            panel_share[key] += 1
        else:
            left.setdefault(key, []).append(person.id)
    for ids in left.values():
        rng.shuffle(ids)
    # Largest remainder by the panel's make-up: the stratum furthest below its share goes next.
    taken: Counter[tuple[str, ...]] = Counter()
    total = sum(panel_share.values()) or 1
    out: list[str] = []
    keys = sorted(left)
    while len(out) < count and any(left[k] for k in keys):
        n = len(out) + 1
        best = max(
            (k for k in keys if left[k]),
            key=lambda k: (panel_share[k] / total * n - taken[k], panel_share[k], k),
        )
        out.append(left[best].pop(0))
        taken[best] += 1
    return out
