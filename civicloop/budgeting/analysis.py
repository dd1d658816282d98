"""The T1/T2 analysis of a deliberative poll on plain data (scipy), without the database.

Each panel member rates every project 0–10 before (T1) and after (T2) the deliberation.
Per project the answers are paired member by member (only members who rated it in both
waves count): the mean change, the paired t-test and the Wilcoxon signed-rank test.
Knowledge gain is the same pairing on the knowledge score. The funding list goes down the
T2 ranking (mean score, highest first) and funds projects while the budget lasts, stopping
at the first that does not fit, as the 泽国 town government does with the poll's list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class PairedTest:
    n: int
    mean_before: float | None
    mean_after: float | None
    mean_change: float | None
    t_statistic: float | None
    t_pvalue: float | None
    wilcoxon_statistic: float | None
    wilcoxon_pvalue: float | None


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def paired_test(before: Sequence[float], after: Sequence[float]) -> PairedTest:
    """Paired t-test and Wilcoxon signed-rank test of ``after`` against ``before`` (same
    people, same order). With fewer than two pairs, or no change at all, the tests are
    None (undefined), the means are still given."""
    if len(before) != len(after):
        raise ValueError("before and after must pair up")
    n = len(before)
    if n == 0:
        return PairedTest(0, None, None, None, None, None, None, None)
    mean_before = sum(before) / n
    mean_after = sum(after) / n
    diffs = [a - b for b, a in zip(before, after, strict=True)]
    t_stat = t_p = w_stat = w_p = None
    if n >= 2 and any(diffs) and len(set(diffs)) > 1:
        result = stats.ttest_rel(after, before)
        t_stat, t_p = _finite(result.statistic), _finite(result.pvalue)
    elif n >= 2 and any(diffs):
        # Every pair changed by the same amount: no variance, the change is certain.
        t_stat, t_p = math.copysign(math.inf, diffs[0]), 0.0
    if n >= 2 and any(diffs):
        w = stats.wilcoxon(after, before)
        w_stat, w_p = _finite(w.statistic), _finite(w.pvalue)
    return PairedTest(
        n=n,
        mean_before=mean_before,
        mean_after=mean_after,
        mean_change=mean_after - mean_before,
        t_statistic=t_stat,
        t_pvalue=t_p,
        wilcoxon_statistic=w_stat,
        wilcoxon_pvalue=w_p,
    )


def pairs(t1: Mapping[int, float], t2: Mapping[int, float]) -> tuple[list[float], list[float]]:
    """The values of the members present in both waves, in member order."""
    members = sorted(set(t1) & set(t2))
    return [t1[m] for m in members], [t2[m] for m in members]


@dataclass(frozen=True)
class RankedProject:
    id: int
    title: str
    cost: int
    mean_t2: float | None
    rank: int
    funded: bool
    cumulative_cost: int


def funded_down_the_ranking(
    *, projects: Sequence[tuple[int, str, int, float | None]], budget: int
) -> list[RankedProject]:
    """Rank (id, title, cost, mean T2 score) by mean score, highest first (ties: lower
    cost, then id), and fund down the list while the total stays within ``budget``;
    the first project that does not fit ends the funded part."""
    ordered = sorted(projects, key=lambda p: (-(p[3] if p[3] is not None else -1.0), p[2], p[0]))
    out = []
    spent = 0
    open_ = True
    for rank, (pid, title, cost, mean) in enumerate(ordered, start=1):
        funded = open_ and mean is not None and spent + cost <= budget
        if funded:
            spent += cost
        else:
            open_ = False
        out.append(
            RankedProject(
                id=pid,
                title=title,
                cost=cost,
                mean_t2=mean,
                rank=rank,
                funded=funded,
                cumulative_cost=spent,
            )
        )
    return out
