"""Benchmark of e线知政 search (prints figures; not a test).

N items of Chinese text (default 50,000, each a few hundred characters drawn from the
demo's sentences) are indexed as the module indexes them, then queries are timed
through `search.items_search` (PostgreSQL: GIN full text; SQLite: SearchGram rows)
beside the `icontains` scan it replaces: p50/p95 over repeated calls.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicloop_bench_bulletins \\
        .venv/bin/python bench/bulletins_search.py
    DATABASE_URL=sqlite:////tmp/bulletins_bench.sqlite3 .venv/bin/python bench/bulletins_search.py

The database named in DATABASE_URL is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civicloop_bench_bulletins"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("CIVICLOOP_MODULES", "bulletins")
os.environ.setdefault("LOG_LEVEL", "WARNING")

COMMON = ("政府工作", "预算执行", "老旧小区", "代表建议", "民生实事", "医保", "乡村振兴")
# Planted in one item in 5,000: what a deputy looking for one document types.
RARE = ("曙光首照", "石塘渔港")


def recreate_database(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        Path(parsed.path).unlink(missing_ok=True)
        return
    import psycopg

    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    recreate_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from civicloop.bulletins import search
    from civicloop.bulletins.demo_content import EZHI, LEARNING
    from civicloop.bulletins.models import Item, SearchGram

    call_command("migrate", verbosity=0)
    sentences = [
        s for spec in (*EZHI, *LEARNING) for s in spec.body.replace("\n", "。").split("。") if s
    ]
    rng = random.Random(12)
    started = time.perf_counter()
    batch = 2000
    for offset in range(0, args.items, batch):
        items = []
        grams = []
        for i in range(offset, min(offset + batch, args.items)):
            title = rng.choice(sentences)[:40]
            body = "。".join(rng.choices(sentences, k=6))
            if i % 5000 == 17:
                body += "。千年曙光首照之地，石塘渔港风貌整治"
            title_tokens = search.text_tokens(title)
            body_tokens = search.text_tokens(body)
            items.append(
                Item(
                    section="ezhi",
                    category="news",
                    title=title,
                    body=body,
                    search_title=" ".join(title_tokens.elements()),
                    search_body=" ".join(body_tokens.elements()),
                )
            )
            grams.append((title_tokens, body_tokens))
        with transaction.atomic():
            created = Item.objects.bulk_create(items)
            if not search.uses_fulltext():
                rows = []
                for item, (title_tokens, body_tokens) in zip(created, grams, strict=True):
                    weights = {t: c * search.TITLE_WEIGHT for t, c in title_tokens.items()}
                    for token, count in body_tokens.items():
                        weights[token] = weights.get(token, 0) + count
                    rows.extend(SearchGram(item=item, gram=t, weight=w) for t, w in weights.items())
                SearchGram.objects.bulk_create(rows, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE bulletins_item")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"{connection.vendor}: {args.items} items indexed in {time.perf_counter() - started:.1f} s"
    )

    def timed(run: object, queries: tuple[str, ...]) -> tuple[list[float], int]:
        times = []
        found = 0
        for _ in range(args.repeat):
            for q in queries:
                t0 = time.perf_counter()
                found = run(q)  # type: ignore[operator]
                times.append((time.perf_counter() - t0) * 1000)
        return times, found

    def indexed(q: str) -> int:
        return len(list(search.items_search(Item.objects.all(), query=q)[:20]))

    def scan(q: str) -> int:
        return len(list(Item.objects.filter(body__icontains=q).order_by("-id")[:20]))

    for kind, queries in (("common words", COMMON), ("rare words", RARE)):
        for label, run in (("n-gram index, first page", indexed), ("icontains scan", scan)):
            times, _found = timed(run, queries)
            print(
                f"{kind:13s} {label:26s} p50 {pct(times, 0.5):7.1f} ms"
                f"   p95 {pct(times, 0.95):7.1f} ms"
            )
    queries = (*COMMON[:3], *RARE)
    counts = {q: search.items_search(Item.objects.all(), query=q).count() for q in queries}
    print("matches:", ", ".join(f"{q} {n}" for q, n in counts.items()))


if __name__ == "__main__":
    main()
