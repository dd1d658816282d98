"""Benchmark of the case engine on PostgreSQL (prints figures; not a test).

1. create + dispatch + close of N cases (default 100,000) through the service layer, in
   batches (case_submit_many / transition_many: the same rules as the single calls),
   and, for comparison, a smaller number through the single-case calls the web uses;
2. a raw batched INSERT of exactly the rows the service path wrote (cases, steps,
   timeline entries, outbox messages), measured in the same run, and the ratio;
3. the workbench queries at 1,000,000 cases: p50/p95 over repeated calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicloop_bench .venv/bin/python bench/cases.py

The database named in DATABASE_URL is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civicloop_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn, repeat: int) -> list[float]:
    """`repeat` calls of `fn`, in milliseconds; a call that returns a response must
    answer 200 (a bench of error pages measures nothing)."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = fn()
        status = getattr(response, "status_code", 200)
        assert status == 200, status
        out.append((time.perf_counter() - t) * 1000)
    return out


def line(label: str, values: list[float], aim: str = "") -> None:
    """One printed figure: p50, p95, p99 and max of `values` (ms)."""
    print(
        f"  {label}: p50 {statistics.median(values):.1f} ms, p95 {pct(values, 0.95):.1f} ms, "
        f"p99 {pct(values, 0.99):.1f} ms, max {max(values):.1f} ms{aim}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--single", type=int, default=1_000, help="cases through the single-case calls"
    )
    parser.add_argument("--workbench-cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200, help="workbench calls measured")
    parser.add_argument(
        "--workbench-only",
        action="store_true",
        help="keep the database of an earlier run and measure only the workbench",
    )
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("bench/cases.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    if not args.workbench_only:
        recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from civicloop.core.accounts.models import User
    from civicloop.core.cases.models import Case
    from civicloop.core.cases.services import (
        CaseDraft,
        TransitionInput,
        case_submit,
        case_submit_many,
        transition,
        transition_many,
    )
    from civicloop.core.demo import demo_city_build
    from civicloop.core.units.models import Unit

    if args.workbench_only:
        measure_workbench(args)
        return
    demo_city_build()
    station = Unit.objects.get(code="station-331081100")
    town = Unit.objects.get(code="town-331081100")
    staff = User.objects.get(username="station_zeguo")
    deputy = User.objects.get(username="deputy_wang")
    handler = User.objects.get(username="handler_zeguo")
    tables = ["cases_case", "cases_casestep", "cases_timelineentry", "outbox_outboxmessage"]

    def count_rows() -> dict[str, int]:
        with connection.cursor() as cur:
            out = {}
            for t in tables:
                cur.execute(f"SELECT count(*) FROM {t}")
                out[t] = cur.fetchone()[0]
            return out

    before = count_rows()
    print(f"# civicloop case engine benchmark on PostgreSQL ({connection.pg_version // 10000})")
    print(
        f"service path, batched: {args.cases} cases x (submit, accept, dispatch, claim, result, rate), batch {args.batch}"
    )
    t0 = time.perf_counter()
    done = 0
    while done < args.cases:
        n = min(args.batch, args.cases - done)
        cases = case_submit_many(
            drafts=[
                CaseDraft(
                    channel="opinion",
                    title=f"基准测试事项 {done + i}",
                    body="泽国社区路灯不亮，夜间通行不便，请尽快维修。",
                    category="housing",
                    contact_name="陈群众",
                    contact_phone=f"139{(done + i) % 100_000_000:08d}",
                    owner_unit=station,
                    source="bench",
                )
                for i in range(n)
            ]
        )
        cases = transition_many(cases=cases, action="accept", actor=staff)
        cases = transition_many(
            cases=cases,
            action="dispatch",
            actor=deputy,
            given=TransitionInput(unit=town, grade="town"),
        )
        cases = transition_many(cases=cases, action="claim", actor=handler)
        cases = transition_many(
            cases=cases,
            action="submit_result",
            actor=handler,
            given=TransitionInput(note="已维修。"),
        )
        cases = transition_many(
            cases=cases, action="rate", actor=deputy, given=TransitionInput(rating="satisfied")
        )
        done += n
        if done % (args.batch * 20) == 0 or done == args.cases:
            el = time.perf_counter() - t0
            print(f"  {done:>7} cases  {done / el:8.0f} cases/s", flush=True)
    service_s = time.perf_counter() - t0
    after = count_rows()
    rows = {t: after[t] - before[t] for t in tables}
    assert Case.objects.filter(source="bench", state="closed").count() == args.cases
    service_rate = args.cases / service_s
    print(
        f"service (batched): {service_rate:,.0f} cases/s  ({service_s:.1f} s; rows written: {rows})"
    )

    print(f"service path, one call per action: {args.single} cases")
    t0 = time.perf_counter()
    for i in range(args.single):
        case = case_submit(
            draft=CaseDraft(
                channel="opinion",
                title=f"单件 {i}",
                body="路灯不亮。",
                contact_phone="13900000000",
                owner_unit=station,
                source="bench-single",
            )
        )
        case = transition(case=case, action="accept", actor=staff)
        case = transition(case=case, action="dispatch", actor=deputy, unit=town, grade="town")
        case = transition(case=case, action="claim", actor=handler)
        case = transition(case=case, action="submit_result", actor=handler, note="已维修。")
        transition(case=case, action="rate", actor=deputy, rating="satisfied")
    single_s = time.perf_counter() - t0
    print(f"service (single calls): {args.single / single_s:,.0f} cases/s ({single_s:.1f} s)")

    # Raw: the same rows, copied into empty twins of the tables with batched INSERTs.
    print("raw batched INSERT of the same rows")
    with connection.cursor() as cur:
        data: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {}
        for t in tables:
            cur.execute(f"SELECT * FROM {t} WHERE id > 0 ORDER BY id")
            cols = [c.name for c in cur.description]
            fetched = cur.fetchall()
            data[t] = (cols, fetched[-rows[t] :] if rows[t] else [])
            cur.execute(
                f"DROP TABLE IF EXISTS raw_{t}; CREATE TABLE raw_{t} (LIKE {t} INCLUDING ALL)"
            )
    import psycopg
    from psycopg.types.json import Jsonb

    conn_raw = psycopg.connect(url)
    t0 = time.perf_counter()
    with conn_raw.cursor() as cur:
        for t in tables:
            cols, values = data[t]
            json_cols = {
                i for i, c in enumerate(cols) if c in ("data", "payload", "attachment_digests")
            }
            values = [
                tuple(Jsonb(v) if i in json_cols else v for i, v in enumerate(row))
                for row in values
            ]
            sql = (
                f"INSERT INTO raw_{t} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
            )
            for i in range(0, len(values), args.batch * 10):
                cur.executemany(sql, values[i : i + args.batch * 10])
    conn_raw.commit()
    raw_s = time.perf_counter() - t0
    conn_raw.close()
    raw_rate = args.cases / raw_s
    print(f"raw: {raw_rate:,.0f} cases/s ({raw_s:.1f} s)")
    print(f"ratio service/raw: {service_rate / raw_rate:.2f}  (aim >= 0.20)")

    measure_workbench(args)


def measure_workbench(args: argparse.Namespace) -> None:
    """Fill the case table to --workbench-cases with generated rows spread over every
    unit, then time workbench_for for a town handler, a station clerk and a city leader."""
    from django.db import connection

    from civicloop.core.accounts.models import User
    from civicloop.core.cases.models import Case
    from civicloop.core.cases.selectors import workbench_for

    total = Case.objects.count()
    missing = max(0, args.workbench_cases - total)
    print(f"workbench: filling to {args.workbench_cases:,} cases (+{missing:,} generated rows)")
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM units_unit ORDER BY id")
        unit_ids = [r[0] for r in cur.fetchall()]
        cur.execute(
            """
            INSERT INTO cases_case (number, channel, workflow, title, body, category, area_path,
                address, contact_name, contact_phone, contact_phone_digest, anonymous, state,
                owner_unit_id, holder_unit_id, due_at, grade, rating, rating_comment, round, result,
                source, data, created_at, updated_at, closed_at, timeline_seq, timeline_hash, step_seq)
            SELECT 'GEN-' || g, 'opinion', 'generic_loop', '生成事项 ' || g, '内容', 'other', '',
                '', '', '', '', false,
                (ARRAY['submitted','accepted','dispatched','handling','result_submitted','closed','closed','closed'])[1 + g %% 8],
                u.ids[1 + g %% array_length(u.ids, 1)],
                CASE WHEN g %% 8 >= 5 THEN NULL ELSE u.ids[1 + g %% array_length(u.ids, 1)] END,
                CASE WHEN g %% 8 >= 5 THEN NULL ELSE now() + ((g %% 480) - 240) * interval '1 hour' END,
                '', '', '', 0, '', 'gen', '{}'::jsonb,
                now() - (g %% 720) * interval '1 hour', now(),
                CASE WHEN g %% 8 >= 5 THEN now() - (g %% 720) * interval '1 hour' ELSE NULL END,
                0, '', 0
            FROM generate_series(1, %s) AS g, (SELECT %s::bigint[] AS ids) AS u
            """,
            [missing, unit_ids],
        )
        cur.execute("ANALYZE")
    print(f"  cases now: {Case.objects.count():,}")
    for who in ("handler_zeguo", "station_zeguo", "leader"):
        user = User.objects.get(username=who)
        timings = []
        for _ in range(args.repeat):
            user.__dict__.pop("_civicloop_standing", None)
            t = time.perf_counter()
            wb = workbench_for(user=user)
            timings.append((time.perf_counter() - t) * 1000)
        print(
            f"  workbench_for({who}): p50 {statistics.median(timings):.1f} ms, "
            f"p95 {pct(timings, 0.95):.1f} ms (counts {wb.counts}; aim p95 < 50 ms)"
        )


if __name__ == "__main__":
    main()
