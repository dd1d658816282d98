"""Benchmark of the cockpit on PostgreSQL at 1,000,000 cases over three channels (prints
figures; not a test).

1. generate N cases (default 1,000,000) over three channels, every town and village,
   a year of received days, 85% closed, ratings, and the timeline entries and steps that
   make some of them 延期, 缓办, 返工 or late; then the full rebuild of the rollups;
2. the cockpit's figures (GET /api/v1/cockpit, as the 人大常委会) for the city and for a
   town, over this year: p50 / p95 / p99 of repeated calls (aim p95 < 200 ms), and, in
   the same run, the same figures counted directly from the cases (the baseline the
   rollups replace);
3. how long a new case takes to show: submitted through the case service, then the
   API asked until the figure moved (it refreshes before answering), and the scheduler's
   refresh alone.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicloop_bench_cockpit .venv/bin/python bench/cockpit.py

The database named in DATABASE_URL is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civicloop_bench_cockpit")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEMO_OPINION_HISTORY", "0")

from bench.cases import line, recreate_database, timed  # noqa: E402

CHANNELS = ("opinion", "firelane", "visit_register")


def generate(n: int) -> None:
    """N cases in one INSERT ... SELECT, then entries and steps for a share of them."""
    from django.db import connection

    from civicloop.core.units.models import Unit

    with connection.cursor() as cur:
        cur.execute("SELECT path FROM areas_area WHERE level >= 2 ORDER BY path")
        paths = [r[0] for r in cur.fetchall()]
        # As in life: the town's office receives, a handful of departments or the town
        # office itself handle.
        offices = {
            u.area.path: u.pk
            for u in Unit.objects.filter(kind="town_office").select_related("area")
        }
        owners = [offices.get("/".join(p.split("/")[:2]), 0) for p in paths]
        depts = list(Unit.objects.filter(kind="department").values_list("pk", flat=True)[:12])
        cur.execute(
            """
            INSERT INTO cases_case (number, channel, workflow, title, body, category, area_path,
                address, contact_name, contact_phone, contact_phone_digest, anonymous, state,
                owner_unit_id, holder_unit_id, assignee_unit_id, due_at, due_provisional, grade,
                rating, rating_comment, round, result, source, data, created_at, updated_at,
                closed_at, timeline_seq, timeline_hash, step_seq)
            SELECT 'GEN-' || g, (%s::text[])[1 + g %% 3], 'generic_loop', '生成事项', '内容',
                (ARRAY['road','environment','housing','safety','other'])[1 + g %% 5],
                p.paths[1 + (g * 7) %% array_length(p.paths, 1)],
                '', '', '', '', false,
                CASE WHEN g %% 20 < 17 THEN 'closed' ELSE 'handling' END,
                p.owners[1 + (g * 7) %% array_length(p.paths, 1)],
                CASE WHEN g %% 20 < 17 THEN NULL ELSE p.owners[1 + (g * 7) %% array_length(p.paths, 1)] END,
                CASE WHEN g %% 3 = 0 THEN p.owners[1 + (g * 7) %% array_length(p.paths, 1)]
                     ELSE u.ids[1 + g %% array_length(u.ids, 1)] END,
                CASE WHEN g %% 20 < 17 THEN NULL
                     ELSE now() + ((g %% 240) - 120) * interval '1 hour' END,
                false, '',
                CASE WHEN g %% 20 < 17 THEN (ARRAY['satisfied','satisfied','basically','unsatisfied',''])[1 + g %% 5]
                     ELSE '' END,
                '', 0, '', 'gen', '{}'::jsonb,
                now() - (g %% 8760) * interval '1 hour', now(),
                CASE WHEN g %% 20 < 17 THEN now() - (g %% 8760) * interval '1 hour' + interval '2 days'
                     ELSE NULL END,
                0, '', 0
            FROM generate_series(1, %s) AS g,
                 (SELECT %s::text[] AS paths, %s::bigint[] AS owners) AS p,
                 (SELECT %s::bigint[] AS ids) AS u
            """,
            [list(CHANNELS), n, paths, owners, depts],
        )
        # 返工 / 延期 / 缓办 on one case in 20 each (by number), as the engine writes them.
        cur.execute(
            """
            INSERT INTO cases_timelineentry (case_id, seq, action, from_state, to_state,
                actor_label, note, data, attachment_digests, created_at, prev_hash, hash)
            SELECT c.id, 1, k.action, 'handling', 'handling', '', '',
                jsonb_build_object('counts_as', k.counts_as), '[]'::jsonb, c.created_at,
                '', md5(c.id::text || k.action) || md5(k.action || c.id::text)
            FROM cases_case c
            JOIN (VALUES (0, 'rework', 'rework'), (1, 'approve_extension', 'extension'),
                         (2, 'defer', 'deferred')) AS k(r, action, counts_as)
              ON c.id % 20 = k.r
            WHERE c.source = 'gen'
            """
        )
        # A late step on one case in 12.
        cur.execute(
            """
            INSERT INTO cases_casestep (case_id, seq, state, started_by, unit_id, started_at,
                due_at, sla, ended_at, ended_by, overdue, escalation_level, due_provisional)
            SELECT c.id, 1, 'handling', 'dispatch', c.owner_unit_id, c.created_at,
                c.created_at + interval '1 day', '', c.created_at + interval '3 days', 'submit_result',
                true, 0, false
            FROM cases_case c WHERE c.source = 'gen' AND c.id % 12 = 5
            """
        )
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--baseline-repeat", type=int, default=5)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the cases and rollups of an earlier run"
    )
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("bench/cockpit.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from civicloop.core.accounts.models import User
    from civicloop.core.areas.models import Area
    from civicloop.core.cases.models import Case, CaseRollup
    from civicloop.core.cases.rollups import rollup_rebuild, rollup_refresh
    from civicloop.core.cases.services import CaseDraft, case_submit
    from civicloop.core.demo import demo_city_build
    from civicloop.core.units.models import Unit
    from tests.core.cases.direct_counts import direct_counts

    if not args.reuse:
        demo_city_build()
        t = time.perf_counter()
        generate(args.cases)
        print(f"generated {Case.objects.count():,} cases in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        report = rollup_rebuild()
        print(
            f"rebuild: {report.cases:,} cases -> {report.rows:,} rollup rows "
            f"in {time.perf_counter() - t:.1f} s"
        )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE cases_casefact")
            cur.execute("VACUUM ANALYZE cases_caserollup")

    client = Client()
    client.force_login(User.objects.get(username="npc_office"))
    today = timezone.localdate()
    span = {"from": f"{today.year}-01-01", "to": today.isoformat()}
    city = Area.objects.get(code="331081")
    town = Area.objects.get(code="331081100")
    print(f"cockpit at {Case.objects.count():,} cases, received {span['from']} .. {span['to']}:")
    for area in (city, town):
        query = {"area": area.code, **span}
        assert client.get("/api/v1/cockpit", query).status_code == 200
        values = timed(lambda q=query: client.get("/api/v1/cockpit", q), args.repeat)
        line(f"GET /api/v1/cockpit {area.name}", values, " (aim p95 < 200 ms)")
        body = client.get("/api/v1/cockpit", query).json()
        day_from = today.replace(month=1, day=1)
        base_values: list[float] = []
        for _ in range(args.baseline_repeat):
            t = time.perf_counter()
            direct = direct_counts(
                area_path=area.path, day_from=day_from, day_to=today, now=timezone.now()
            )
            base_values.append((time.perf_counter() - t) * 1000)
        same = all(
            body["channels"][c]["received"] == f["received"]
            and body["channels"][c]["closed"] == f["closed"]
            for c, f in direct.items()
        )
        print(
            f"    baseline (direct count over the cases): p50 {statistics.median(base_values):.0f} ms; "
            f"ratio {statistics.median(base_values) / statistics.median(values):.0f}x; "
            f"figures equal: {same}"
        )
    page = timed(lambda: client.get("/cockpit/"), max(10, args.repeat // 5))
    line("GET /cockpit/ (the whole page, city)", page)

    # A new case: submitted, then the API asked until it shows.
    zeguo = Area.objects.get(code="331081100001")
    station = Unit.objects.filter(code__startswith="town-331081100").first()
    lags, refreshes = [], []
    for i in range(20):
        before = client.get("/api/v1/cockpit", {"area": "331081100"}).json()["total"]["received"]
        t = time.perf_counter()
        case_submit(
            draft=CaseDraft(
                channel="opinion",
                title="新事项",
                body="基准测试",
                category="road",
                area=zeguo,
                contact_phone=f"1390000{i:04d}",
                owner_unit=station,
            )
        )
        submitted = time.perf_counter()
        while (
            client.get("/api/v1/cockpit", {"area": "331081100"}).json()["total"]["received"]
            == before
        ):
            pass
        lags.append((time.perf_counter() - submitted) * 1000)
        t = time.perf_counter()
        rollup_refresh()
        refreshes.append((time.perf_counter() - t) * 1000)
    line("a new case shows in the API's figures after", lags)
    line("the scheduler's refresh with nothing new", refreshes)
    print(f"  rollup rows: {CaseRollup.objects.count():,}")


if __name__ == "__main__":
    main()
