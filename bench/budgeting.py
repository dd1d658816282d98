"""Benchmarks of the 参与式预算 module (prints figures; not a test).

- ``bench_draw()``: the panel draw from a frame of 1,000,000 people with 3 strata.
- ``bench_mes()``: the method of equal shares (with its completion, as the module computes it)
  on 50 projects and 10,000 ballots, approval and 0–10 scoring.

    .venv/bin/python bench/budgeting.py [--only mes|draw] [--frame N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def _peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_draw(
    *, frame_size: int = 1_000_000, size: int = 275, reserve: int = 30, seed: int = 2026
) -> None:
    """The panel draw (with reserves) from a ``frame_size`` frame with 3 strata, timed:
    the proportional quotas, the lottery itself, and a second run to show it repeats."""
    import django

    django.setup()
    from civicloop.budgeting.draw import (
        FramePerson,
        frame_digest,
        panel_compute,
        quotas_proportional,
    )

    rng = random.Random(seed)
    sexes, bands = ("男", "女"), ("18-34", "35-49", "50-64", "65+")
    districts = tuple(f"片区{i}" for i in range(8))
    t0 = time.perf_counter()
    frame = [
        FramePerson(
            id=f"F{i:07d}",
            strata={
                "sex": rng.choice(sexes),
                "band": rng.choices(bands, weights=(30, 28, 24, 18))[0],
                "district": rng.choice(districts),
            },
        )
        for i in range(frame_size)
    ]
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    quotas = quotas_proportional(frame=frame, features=["sex", "band", "district"], size=size)
    digest = frame_digest(frame)
    t_quotas = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = panel_compute(frame=frame, quotas=quotas, size=size, reserve=reserve, seed=seed)
    t_draw = time.perf_counter() - t0
    second = panel_compute(frame=frame, quotas=quotas, size=size, reserve=reserve, seed=seed)
    print(
        f"draw: frame={frame_size:,} strata=3 ({len(quotas)} quotas) size={size} reserve={reserve} "
        f"build={t_build:.2f}s quotas+digest={t_quotas:.2f}s draw={t_draw:.2f}s "
        f"repeatable={first == second} digest={digest[:12]} "
        f"peak_rss={_peak_rss_mb():.0f}MB"
    )


def bench_mes(*, projects: int = 50, ballots: int = 10_000, seed: int = 2026) -> None:
    """MES (plain and completed) on ``projects`` projects and ``ballots`` ballots, timed."""
    import django

    django.setup()
    from civicloop.budgeting.rules import (
        BallotData,
        BallotKind,
        BallotRules,
        ProjectData,
        Rule,
        election_build,
        outcome_compute,
    )

    rng = random.Random(seed)
    items = [
        ProjectData(id=f"P{i:02d}", cost=rng.randrange(50_000, 1_000_000, 10_000))
        for i in range(projects)
    ]
    budget = sum(p.cost for p in items) // 4
    # Popularity follows a skewed curve so the rules have something to disagree about.
    weights = [1 / (i + 1) ** 0.7 for i in range(projects)]
    for kind in (BallotKind.APPROVAL, BallotKind.SCORING):
        votes = []
        for v in range(ballots):
            picked = set(rng.choices([p.id for p in items], weights=weights, k=rng.randint(1, 8)))
            if kind == BallotKind.APPROVAL:
                choices = dict.fromkeys(picked, 1)
            else:
                choices = {pid: rng.randint(1, 10) for pid in picked}
            votes.append(BallotData(voter_id=f"v{v}", choices=choices))
        t0 = time.perf_counter()
        election = election_build(
            projects=items, ballots=votes, budget=budget, rules=BallotRules(kind)
        )
        t_build = time.perf_counter() - t0
        from pabutools.election import Additive_Cardinal_Sat, Cost_Sat
        from pabutools.rules import method_of_equal_shares

        sat = Cost_Sat if kind == BallotKind.APPROVAL else Additive_Cardinal_Sat
        t0 = time.perf_counter()
        plain = method_of_equal_shares(election.instance, election.profile, sat_class=sat)
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        completed = outcome_compute(election=election, rule=Rule.MES)
        t_full = time.perf_counter() - t0
        cost = {p.id: p.cost for p in items}
        print(
            f"mes {kind.value}: projects={projects} ballots={ballots} budget={budget:,} "
            f"build={t_build:.2f}s plain_mes={t_plain:.2f}s ({len(plain)} funded, "
            f"{sum(cost[p.name] for p in plain) / budget:.0%} spent) "
            f"mes_completed={t_full:.2f}s ({len(completed)} funded, "
            f"{sum(cost[i] for i in completed) / budget:.0%} spent)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["draw", "mes"])
    parser.add_argument("--frame", type=int, default=1_000_000, help="frame size of the draw bench")
    args = parser.parse_args()
    if args.only in (None, "draw"):
        bench_draw(frame_size=args.frame)
    if args.only in (None, "mes"):
        bench_mes()


if __name__ == "__main__":
    main()
