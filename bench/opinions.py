"""Benchmark of the 民意 submission path through the real HTTP stack (prints figures).

50 concurrent citizens (threads) for --seconds (default 60) against `manage.py serve`
on PostgreSQL, with the embedded worker. Each citizen, as a new person each time (own
phone, own loopback source address so per-IP limits hold as in life):
GET the code page form → ask for an SMS code → read the code from the outbox table
(bench only: it stands for the phone) → POST the form with a 1 MB JPEG.

Printed: submissions/s, p50/p95 latency of the POST, and the count of stored versus
acknowledged submissions, which must be equal. With --kill-worker the server is
SIGKILLed in the middle and started again; citizens whose POST was cut off retry with
the same submission key (a second tap), so every submission ends acknowledged exactly
once, and stored == acknowledged must still hold.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicloop_bench_opinions \\
        .venv/bin/python bench/opinions.py [--seconds 60] [--citizens 50] [--kill-worker]

The database named in DATABASE_URL is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civicloop_bench_opinions")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

STATION_UNIT = "station-331081100"
KEY_RE = re.compile(r'name="submission_key" value="([0-9a-f]+)"')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


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
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def one_megabyte_jpeg() -> bytes:
    """A photo of about 1 MB (noise does not compress), as a phone would send."""
    from PIL import Image

    rng = random.Random(7)
    side = 560
    for _ in range(12):
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        if len(out.getvalue()) >= 1_000_000:
            return out.getvalue()
        side += 60
    return out.getvalue()


class SourceAdapter(HTTPAdapter):
    """Connect from a given loopback address (127.x.y.z all reach 127.0.0.1)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


# --------------------------------------------------------------------------- the server


class Server:
    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        # Photo re-encoding is CPU work: one process per core.
        self.workers = max(2, os.cpu_count() or 2)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    str(ROOT / ".venv/bin/python"),
                    "manage.py",
                    "serve",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    "8",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: we kill only it
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/track/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited early, see {self.log}")
            time.sleep(0.3)
        raise SystemExit(f"server did not answer in 60 s, see {self.log}")

    def kill(self) -> None:
        """SIGKILL the server and its workers (no graceful shutdown: a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# --------------------------------------------------------------------------- citizens


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    abandoned: int = 0

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


_reader_lock = threading.Lock()
_reader: list[object] = []


def read_code(phone: str, *, timeout: float = 10.0) -> str:
    """The newest code sent to the phone, from the outbox table (stands for the phone).
    One shared connection: the citizens must not eat the server's connection slots."""
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _reader_lock:
            if not _reader:
                _reader.append(psycopg.connect(os.environ["DATABASE_URL"], autocommit=True))
            conn = _reader[0]
            row = conn.execute(  # type: ignore[attr-defined]
                "SELECT payload->'params'->>'code' FROM outbox_outboxmessage "
                "WHERE payload->>'template' = 'verify_code' AND payload->>'phone' = %s "
                "ORDER BY id DESC LIMIT 1",
                (phone,),
            ).fetchone()
        if row:
            return str(row[0])
        time.sleep(0.05)
    raise RuntimeError("no code in the outbox")


def citizen(
    n: int, *, base: str, slug: str, photo: bytes, stop_at: float, tally: Tally, hard_stop: float
) -> None:
    i = 0
    while time.monotonic() < stop_at:
        i += 1
        serial = n * 100_000 + i
        source = f"127.{1 + serial // 65536 % 250}.{serial // 256 % 256}.{serial % 256 or 1}"
        phone = f"13{serial:09d}"[:11]
        submit_once(
            base=base,
            slug=slug,
            photo=photo,
            phone=phone,
            source=source,
            tally=tally,
            hard_stop=hard_stop,
        )


def submit_once(
    *, base: str, slug: str, photo: bytes, phone: str, source: str, tally: Tally, hard_stop: float
) -> None:
    session = requests.Session()
    session.mount("http://", SourceAdapter(source))
    form_url = f"{base}/q/{slug}/submit/"
    key = csrf = ""
    state = "form"
    while time.monotonic() < hard_stop:
        try:
            if state == "form":
                page = session.get(form_url, timeout=30)
                page.raise_for_status()
                key = KEY_RE.search(page.text).group(1)  # type: ignore[union-attr]
                csrf = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
                state = "code"
            if state == "code":
                sent = session.post(
                    f"{form_url}code/",
                    data={"phone": phone},
                    headers={"X-CSRFToken": csrf},
                    timeout=30,
                )
                if sent.status_code == 429:
                    time.sleep(min(61, int(sent.json().get("retry_after", 5))))
                    continue
                sent.raise_for_status()
                code = read_code(phone)
                state = "post"
            t0 = time.perf_counter()
            response = session.post(
                form_url,
                data={
                    "csrfmiddlewaretoken": csrf,
                    "submission_key": key,
                    "category": "road",
                    "body": "泽国镇牧屿村村口路口缺少红绿灯，早晚高峰拥堵，请尽快处理。",
                    "phone": phone,
                    "code": code,
                    "address": "泽国镇牧屿村村口",
                },
                files={"photos": ("photo.jpg", photo, "image/jpeg")},
                allow_redirects=False,
                timeout=60,
            )
            elapsed = time.perf_counter() - t0
            if response.status_code == 302 and "/opinions/submitted/" in response.headers.get(
                "Location", ""
            ):
                number = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
                with tally.lock:
                    tally.latencies.append(elapsed)
                    tally.acknowledged.add(number)
                return
            if response.status_code == 400 and "验证码" in response.text:
                # The code was used by a request the crash cut off: ask for a new one.
                tally.error("code_again")
                state = "code"
                continue
            tally.error(f"http_{response.status_code}")
            time.sleep(0.5)
        except (requests.ConnectionError, requests.Timeout):
            # The server went away (killed): tap "submit" again, same form, same key.
            with tally.lock:
                tally.retries += 1
            time.sleep(0.5)
        except Exception as exc:  # keep the bench running; report what happened
            tally.error(type(exc).__name__)
            time.sleep(0.5)
    with tally.lock:
        tally.abandoned += 1


# --------------------------------------------------------------------------- main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--kill-worker", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("bench/opinions.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from civicloop.core.cases.models import Case
    from civicloop.core.demo import demo_city_build
    from civicloop.opinions.codes import code_issue
    from civicloop.opinions.models import Station

    demo_city_build()
    slug = code_issue(station=Station.objects.get(unit__code=STATION_UNIT)).slug
    before = Case.objects.filter(source="code").count()

    workdir = Path(tempfile.mkdtemp(prefix="civicloop-bench-"))
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "MEDIA_ROOT": str(workdir / "media"),
        "CIVICLOOP_VAR_DIR": str(workdir),
        # Shared by the server's processes and surviving its restart, as in production.
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
        "LOG_LEVEL": "WARNING",
    }
    try:
        import redis

        redis.Redis.from_url(env["CACHE_URL"]).flushdb()
    except Exception:
        env["CACHE_URL"] = "locmemcache://bench"
    server = Server(args.port or free_port(), env, workdir / "server.log")
    photo = one_megabyte_jpeg()
    print(f"# civicloop 民意 submission benchmark (PostgreSQL, {args.citizens} citizens)")
    print(f"photo: {len(photo) / 1e6:.2f} MB; server log: {server.log}; cache: {env['CACHE_URL']}")
    server.start()
    tally = Tally()
    start = time.monotonic()
    stop_at = start + args.seconds
    hard_stop = stop_at + 120  # stragglers retrying after a crash get this long
    threads = [
        threading.Thread(
            target=citizen,
            args=(n,),
            kwargs={
                "base": server.base,
                "slug": slug,
                "photo": photo,
                "stop_at": stop_at,
                "tally": tally,
                "hard_stop": hard_stop,
            },
            daemon=True,
        )
        for n in range(args.citizens)
    ]
    for t in threads:
        t.start()
    killed_at = None
    try:
        if args.kill_worker:
            time.sleep(args.seconds / 2)
            killed_at = time.monotonic() - start
            server.kill()
            print(f"killed the server (SIGKILL) at {killed_at:.1f} s; restarting", flush=True)
            time.sleep(1)
            server.start()
            print(f"server back at {time.monotonic() - start:.1f} s", flush=True)
        for t in threads:
            t.join(timeout=max(1, hard_stop - time.monotonic() + 5))
        elapsed = time.monotonic() - start
    finally:
        server.stop()

    stored_numbers = set(Case.objects.filter(source="code").values_list("number", flat=True))
    stored = len(stored_numbers) - before
    acked = len(tally.acknowledged)
    lat = tally.latencies
    print(f"duration: {elapsed:.1f} s (submitting for {args.seconds} s)")
    print(f"submissions acknowledged: {acked}  ({acked / args.seconds:.1f} submissions/s)")
    if lat:
        print(
            f"POST latency: p50 {pct(lat, 0.5) * 1000:.0f} ms, p95 {pct(lat, 0.95) * 1000:.0f} ms, "
            f"mean {statistics.mean(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms"
        )
    print(f"retries after cut-off requests: {tally.retries}; abandoned: {tally.abandoned}")
    if tally.errors:
        print(f"other answers: {tally.errors}")
    print(f"stored: {stored}  acknowledged: {acked}  equal: {stored == acked}")
    missing = stored_numbers - tally.acknowledged
    if missing:
        print(f"stored but never acknowledged: {sorted(missing)[:10]}")
    if stored != acked:
        sys.exit(1)


if __name__ == "__main__":
    main()
