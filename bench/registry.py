"""Benchmark of the vehicle registry mirror on PostgreSQL (prints figures; not a test).

1. generates a registry export of --rows rows (default 20,000,000; ~0.85 GB) with numpy,
   fixed-width rows built as one byte matrix per chunk (kept and reused across runs);
2. times `registry_import` on it: parse, check, seal (AES-GCM), COPY into the staging
   table, build the indexes, swap (rows/s over the whole command);
3. 10,000 lookups of random plates of the file through `owner_lookup` (p50/p99 ms);
4. a baseline in the same run: plain COPY (CSV format, server-side parsing) of the same
   file into an unindexed table with no encryption, and the ratio of the two.

    .venv/bin/python bench/registry.py [--rows N] [--workers N]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/civicloop_bench_registry; the
database is created when missing and migrated; the mirror in it is replaced.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civicloop_bench_registry")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DEBUG"] = "false"  # no query log kept in memory
os.environ["VEHICLE_REGISTRY_URL"] = ""  # the mirror alone is measured

import numpy as np  # noqa: E402

ALPHABET = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # plates never use I or O
OFFICES = b"ABCDEFGHJKL"  # 浙A 杭州 ... 浙J 台州, 浙L 舟山
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅林国建文辉鹏飞宇浩然晨阳欣怡佳琪子涵梓轩俊豪思雨嘉诚海燕春燕志强"
BRANDS = ["大众", "丰田", "本田", "吉利", "长安", "哈弗", "奔驰", "宝马", "比亚", "五菱"]
NEV_EVERY = 8  # one row in eight is a small new-energy car (kind 52, 浙JD12345)
SPACE = len(OFFICES) * len(ALPHABET) ** 5
NEV_SPACE = len(OFFICES) * 2 * len(ALPHABET) ** 5
PRIME = 2_147_483_647  # coprime with both spaces: i -> i * PRIME mod space is a bijection


def _cjk(chars: str) -> np.ndarray:
    """(n, 3) uint8: the UTF-8 bytes of n BMP CJK characters."""
    return np.frombuffer("".join(chars).encode("utf-8"), dtype=np.uint8).reshape(-1, 3)


def _base34(values: np.ndarray, width: int) -> np.ndarray:
    alphabet = np.frombuffer(ALPHABET, dtype=np.uint8)
    out = np.empty((len(values), width), dtype=np.uint8)
    v = values.copy()
    for col in range(width - 1, -1, -1):
        out[:, col] = alphabet[v % len(ALPHABET)]
        v //= len(ALPHABET)
    return out


def _plate_rows(index: np.ndarray) -> list[str]:
    nev = index % NEV_EVERY == 0
    result = []
    for i, is_nev in zip(index.tolist(), nev.tolist(), strict=True):
        if is_nev:
            n = (i // NEV_EVERY * PRIME) % NEV_SPACE
            office, rest = divmod(n, 2 * len(ALPHABET) ** 5)
            df, tail = divmod(rest, len(ALPHABET) ** 5)
            digits = _base34(np.array([tail]), 5).tobytes().decode()
            result.append("浙" + chr(OFFICES[office]) + "DF"[df] + digits)
        else:
            n = (i * PRIME) % SPACE
            office, tail = divmod(n, len(ALPHABET) ** 5)
            result.append(
                "浙" + chr(OFFICES[office]) + _base34(np.array([tail]), 5).tobytes().decode()
            )
    return result


def _rows_block(start: int, stop: int, rng: np.random.Generator) -> bytes:
    """CSV lines for rows [start, stop): normal plates first, then new-energy ones."""
    index = np.arange(start, stop, dtype=np.int64)
    blocks = []
    for nev in (False, True):
        idx = index[(index % NEV_EVERY == 0) == nev]
        n = len(idx)
        if n == 0:
            continue
        plate_len = 3 + 1 + (6 if nev else 5)
        width = plate_len + 1 + 2 + 1 + 9 + 1 + 11 + 1 + 6 + 1
        m = np.empty((n, width), dtype=np.uint8)
        m[:, 0:3] = np.frombuffer("浙".encode(), dtype=np.uint8)
        if nev:
            k = (idx // NEV_EVERY * PRIME) % NEV_SPACE
            office, rest = np.divmod(k, 2 * len(ALPHABET) ** 5)
            df, tail = np.divmod(rest, len(ALPHABET) ** 5)
            m[:, 3] = np.frombuffer(OFFICES, dtype=np.uint8)[office]
            m[:, 4] = np.frombuffer(b"DF", dtype=np.uint8)[df]
            m[:, 5:10] = _base34(tail, 5)
            kind = np.full((n, 2), np.frombuffer(b"52", dtype=np.uint8))
        else:
            k = (idx * PRIME) % SPACE
            office, tail = np.divmod(k, len(ALPHABET) ** 5)
            m[:, 3] = np.frombuffer(OFFICES, dtype=np.uint8)[office]
            m[:, 4:9] = _base34(tail, 5)
            kind = np.where(
                (rng.random(n) < 0.06)[:, None],
                np.frombuffer(b"01", dtype=np.uint8),
                np.frombuffer(b"02", dtype=np.uint8),
            )
        c = plate_len
        m[:, c] = ord(",")
        m[:, c + 1 : c + 3] = kind
        m[:, c + 3] = ord(",")
        m[:, c + 4 : c + 7] = _cjk(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
        m[:, c + 7 : c + 10] = _cjk(GIVEN)[rng.integers(0, len(GIVEN), n)]
        m[:, c + 10 : c + 13] = _cjk(GIVEN)[rng.integers(0, len(GIVEN), n)]
        m[:, c + 13] = ord(",")
        m[:, c + 14] = ord("1")
        m[:, c + 15] = ord("3") + rng.integers(0, 7, n)
        m[:, c + 16 : c + 25] = ord("0") + rng.integers(0, 10, (n, 9))
        m[:, c + 25] = ord(",")
        brands = _cjk("".join(BRANDS)).reshape(-1, 6)
        m[:, c + 26 : c + 32] = brands[rng.integers(0, len(BRANDS), n)]
        m[:, c + 32] = ord("\n")
        blocks.append(m.tobytes())
    return b"".join(blocks)


def generate(path: Path, rows: int) -> float:
    rng = np.random.default_rng(20261201)
    t0 = time.perf_counter()
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as fh:
        fh.write(b"hphm,hpzl,syr,sjhm,clpp\n")
        chunk = 1_000_000
        for start in range(0, rows, chunk):
            fh.write(_rows_block(start, min(rows, start + chunk), rng))
    tmp.rename(path)
    return time.perf_counter() - t0


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--workers", type=int, default=2, help="import worker processes")
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("bench/registry.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from civicloop.firelane.vehicles.mirror import mirror_size, registry_import
    from civicloop.firelane.vehicles.services import owner_lookup

    call_command("migrate", verbosity=0)
    print(f"# vehicle registry mirror benchmark on PostgreSQL {connection.pg_version // 10000}")
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"registry-{args.rows}.csv"
    if path.exists():
        print(f"export: reusing {path} ({path.stat().st_size / 1e9:.2f} GB)")
    else:
        free = os.statvfs(args.dir).f_bavail * os.statvfs(args.dir).f_frsize
        need = args.rows * 45 * 6  # the file, staging + live tables, indexes, WAL
        if free < need:
            sys.exit(f"not enough disk: {free / 1e9:.1f} GB free, ~{need / 1e9:.1f} GB needed")
        seconds = generate(path, args.rows)
        print(
            f"export: generated {args.rows:,} rows, {path.stat().st_size / 1e9:.2f} GB "
            f"in {seconds:.1f} s"
        )

    t0 = time.perf_counter()
    report = registry_import(path=path, force=True, workers=args.workers, progress=sys.stderr)
    import_s = time.perf_counter() - t0
    rows_per_s = args.rows / import_s
    print(
        f"import ({args.workers} worker process(es)): {report.rows_loaded:,} vehicles, "
        f"{report.rows_bad:,} bad, {report.rows_duplicate:,} duplicates in {import_s:.1f} s "
        f"= {rows_per_s:,.0f} rows/s (aim >= 200,000)"
    )
    print("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items()))
    print(f"  mirror size (planner estimate): {mirror_size():,}")

    rng = np.random.default_rng(7)
    sample = rng.integers(0, args.rows, args.lookups)
    plates = _plate_rows(sample)
    colors = ["green" if len(p) == 8 else "" for p in plates]
    random.seed(7)
    for p, c in zip(plates[:200], colors[:200], strict=True):  # warm the connection and caches
        owner_lookup(plate=p, color=c)
    timings = []
    found = 0
    for p, c in zip(plates, colors, strict=True):
        t = time.perf_counter()
        answer = owner_lookup(plate=p, color=c)
        timings.append((time.perf_counter() - t) * 1000)
        found += answer.found
    p50, p99 = statistics.median(timings), pct(timings, 0.99)
    print(
        f"lookups: {args.lookups:,} random plates, {found:,} found; "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms (aim p99 < 2 ms)"
    )

    if not args.no_baseline:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_registry_raw")
            conn.execute(
                "CREATE TABLE bench_registry_raw (hphm text, hpzl text, syr text, sjhm text, clpp text)"
            )
            t0 = time.perf_counter()
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(
                    "COPY bench_registry_raw FROM STDIN WITH (FORMAT csv, HEADER true)"
                ) as copy,
                path.open("rb") as fh,
            ):
                while block := fh.read(1 << 20):
                    copy.write(block)
            raw_s = time.perf_counter() - t0
            conn.execute("DROP TABLE bench_registry_raw")
        raw_rate = args.rows / raw_s
        print(
            f"baseline: plain COPY of the same file, no checks, no encryption, no index: "
            f"{raw_rate:,.0f} rows/s ({raw_s:.1f} s); ratio import/baseline {rows_per_s / raw_rate:.2f}"
        )
    print(f"rows={args.rows} import_rows_per_s={rows_per_s:.0f} lookup_p99_ms={p99:.3f}")


if __name__ == "__main__":
    main()
