"""Benchmark of the studios module (prints figures; not a test).

1. Opinion groups of a 民生议事堂 round: 2,000 participants × 300 statements with two
   planted groups, and the same size of random votes: time and peak memory (tracemalloc,
   which sees numpy's buffers). The baseline in the same run is one k-means pass without
   the shuffled null copies, so the ratio is what telling groups from noise costs.
2. The pages at 100,000 threads on PostgreSQL: a member's thread page and inbox, the
   CPPCC office's inbox (all threads), its "late" filter and its figures page: p50 / p95.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicloop_bench_studios .venv/bin/python bench/studios.py

The database named in DATABASE_URL is dropped and created afresh (unless --reuse).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civicloop_bench_studios")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEMO_OPINION_HISTORY", "0")

from bench.cases import line, recreate_database, timed  # noqa: E402


def grouping_bench(n: int, m: int) -> None:
    import django

    django.setup()
    import numpy as np

    from civicloop.studios import grouping

    rng = np.random.default_rng(7)
    camp = rng.integers(0, 2, n)
    pref = np.where(rng.random(m) < 0.5, 1, -1)
    planted = np.where(camp[:, None] == 0, pref, -pref)
    planted = np.where(rng.random((n, m)) < 0.3, 0, planted).astype(np.int8)
    noise = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(n, m), p=[0.35, 0.3, 0.35])
    print(f"grouping {n:,} participants x {m} statements:")
    for label, votes in (("two planted groups", planted), ("random votes", noise)):
        t = time.perf_counter()
        result = grouping.groups_find(votes)
        seconds = time.perf_counter() - t
        # Memory in a second run: tracing slows numpy and scikit-learn down ~10x.
        tracemalloc.start()
        grouping.groups_find(votes)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        t = time.perf_counter()
        grouping._best_split(np.asarray(votes, dtype=np.float32), grouping.MAX_K)
        base = time.perf_counter() - t
        found = f"groups k={result.k}" if result.distinct else "no groups claimed"
        print(
            f"  {label}: {seconds:.2f} s, peak {peak / 2**20:.1f} MiB -> {found} "
            f"(silhouette {result.silhouette:.2f}, shuffled {result.null_silhouette:.2f}); "
            f"baseline one pass {base:.2f} s, ratio {seconds / base:.1f}x"
        )


def generate(n: int) -> None:
    """N consultation cases spread over the studios, with their threads and a first
    message each; a third answered, a third rated, a tenth late."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO cases_case (number, channel, workflow, title, body, category, area_path,
                address, contact_name, contact_phone, contact_phone_digest, anonymous, state,
                owner_unit_id, holder_unit_id, assignee_unit_id, due_at, due_provisional, grade,
                rating, rating_comment, round, result, source, data, created_at, updated_at,
                closed_at, timeline_seq, timeline_hash, step_seq)
            SELECT 'XG-' || g, 'consultation', 'consultation', '协商事项' || g, '群众的问题',
                '', a.path, '', '', '', '', false,
                (ARRAY['waiting','answered','closed'])[1 + g %% 3],
                s.unit_id, CASE WHEN g %% 3 = 2 THEN NULL ELSE s.unit_id END, NULL,
                now() + ((g %% 200) - 20) * interval '1 hour', false, '',
                CASE WHEN g %% 3 = 2 THEN (ARRAY['satisfied','basically','unsatisfied'])[1 + (g / 3) %% 3] ELSE '' END,
                '', 0, CASE WHEN g %% 3 = 0 THEN '' ELSE '委员的答复' END, 'gen',
                jsonb_build_object('studio_id', s.id),
                now() - (g %% 4000) * interval '1 hour', now(),
                CASE WHEN g %% 3 = 2 THEN now() - (g %% 4000) * interval '1 hour' + interval '2 days' END,
                0, '', 0
            FROM generate_series(1, %s) AS g
            JOIN (SELECT id, unit_id, town_id, row_number() OVER (ORDER BY id) - 1 AS k,
                         count(*) OVER () AS total FROM studios_studio) s
              ON s.k = g %% s.total
            JOIN areas_area a ON a.id = s.town_id
            """,
            [n],
        )
        cur.execute(
            """
            INSERT INTO studios_thread (case_id, studio_id, member_id, token, created_at,
                first_reply_at)
            SELECT c.id, (c.data->>'studio_id')::int,
                (SELECT m.id FROM studios_member m WHERE m.studio_id = (c.data->>'studio_id')::int
                 ORDER BY m.id OFFSET (c.id % 2) LIMIT 1),
                substr(md5(c.number) || md5(c.id::text), 1, 40), c.created_at,
                CASE WHEN c.state <> 'waiting' THEN c.created_at + interval '20 hours' END
            FROM cases_case c WHERE c.source = 'gen'
            """
        )
        cur.execute(
            """
            INSERT INTO studios_message (thread_id, side, text, created_at)
            SELECT t.id, 'citizen', '群众的问题', t.created_at FROM studios_thread t
            """
        )
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=300)
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="keep an earlier run's threads")
    parser.add_argument("--grouping-only", action="store_true")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("bench/studios.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    if not args.reuse and not args.grouping_only:
        recreate_database(url)
    grouping_bench(args.participants, args.statements)
    if args.grouping_only:
        return

    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from civicloop.core.accounts.models import User
    from civicloop.studios.models import Thread

    if not args.reuse:
        import random

        from civicloop.core.demo import demo_city_build, demo_logins_ensure
        from civicloop.studios import demo

        os.environ["DEMO_SKIP_MODULES"] = "studios"
        demo_city_build()
        studios = demo._studios_build(random.Random(demo.SEED), lambda _m: None)
        demo_logins_ensure(demo.DEMO_LOGINS)
        demo._demo_member_link(studios)
        t = time.perf_counter()
        generate(args.threads)
        print(f"generated {Thread.objects.count():,} threads in {time.perf_counter() - t:.1f} s")

    print(f"pages at {Thread.objects.count():,} threads:")
    member = User.objects.get(username="member_chen")
    client = Client()
    client.force_login(member)
    mine = Thread.objects.filter(member__user=member).order_by("-pk").first() or (
        Thread.objects.filter(studio__members__user=member, member=None).order_by("-pk").first()
    )
    assert mine is not None
    line(
        "member's thread page",
        timed(lambda: client.get(f"/studios/threads/{mine.pk}/"), args.repeat),
    )
    line("member's inbox", timed(lambda: client.get("/studios/inbox/"), args.repeat))
    line(
        "member's inbox, page 20", timed(lambda: client.get("/studios/inbox/?page=20"), args.repeat)
    )
    office = Client()
    office.force_login(User.objects.get(username="cppcc_office"))
    line("office's inbox (all threads)", timed(lambda: office.get("/studios/inbox/"), args.repeat))
    line(
        "office's inbox, late", timed(lambda: office.get("/studios/inbox/?state=late"), args.repeat)
    )
    line(
        "office's figures", timed(lambda: office.get("/studios/figures/"), max(5, args.repeat // 5))
    )


if __name__ == "__main__":
    main()
