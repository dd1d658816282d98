"""Camera intake throughput on PostgreSQL: ISAPI over HTTP, Frigate over MQTT, raw INSERT.

    .venv/bin/python bench/firelane_ingest.py [--events 6000] [--clients 16] [--workers 2]
        [--threads 8] [--worker-class gthread] [--media-parent var/] [--what-if NAME,...]

Builds (or reuses) the bench database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/civicloop_bench_ingest) with 200 cameras, then measures:

(a) ISAPI multipart pushes over real HTTP to the app served by gunicorn (gthread, like
    `manage.py serve`), from concurrent client threads in several processes;
    latency = request sent -> 200 received. Then where the CPU went, per event: the
    gunicorn processes, PostgreSQL's backends, the load generator (the clients share the
    2 cores), and the rest of the machine (other people's jobs; +-0.05 ms of tick noise);
(b) Frigate events published to Mosquitto (QoS 1) and consumed by `MqttConsumer` in its own
    process; latency = publish -> the batch holding the event committed;
(c) the baseline: the same rows written with a batched bulk INSERT (no parsing, no files).

Every pushed picture is a small real JPEG from /work/shared/testdata/plates made unique per
event (a JPEG comment segment), so each event writes its own two files as in production,
into a scratch folder under --media-parent (var/, where MEDIA_ROOT defaults; /dev/shm
shows the app without the disk: on the bench VM creating a file on ext4 cost 15 us to
1.1 ms of CPU, depending on the folder and the hour).
The tracker does not run: the bench server starts no embedded worker, so the intake's
hints go to an in-memory queue nobody reads (bounded; dropped when full; the sweep would
catch up). This is intake only. --what-if tries a settings change (see WHAT_IFS) before
proposing it; the first line names the what-ifs and the load average.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/civicloop_bench_ingest"
PLATES = ROOT.parent / "shared" / "testdata" / "plates"
CAMERAS = 200
TOPIC = "bench/frigate/events"


# What-if settings (--what-if NAME), to measure a change to the project's settings before
# proposing it; each is named in the result line. None is on by default.
WHAT_IFS = {
    # Django's CONN_HEALTH_CHECKS (on in settings) costs a SELECT 1 round trip per request.
    "no-health-checks": 'DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405',
    # Only the middleware the intake views need (no sessions, auth, messages, locale, axes).
    "intake-middleware": 'MIDDLEWARE = ["django.middleware.security.SecurityMiddleware",'
    ' "django.middleware.common.CommonMiddleware"]',
}


def _prepare_env(tmp: Path, *, media: Path | None = None, what_ifs: Sequence[str] = ()) -> None:
    """Settings for this process and its children: the bench database, a scratch media
    folder (`media`, else one in `tmp`), a URLconf with the intake URLs (whether or not
    the project wires them), and the `what_ifs` asked for."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ["MEDIA_ROOT"] = str(media or tmp / "media")
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["DEBUG"] = "false"
    os.environ["CELERY_BROKER_URL"] = ""
    (tmp / "bench_ingest_settings.py").write_text(
        textwrap.dedent(
            """
            from civicloop.config.settings import *  # noqa: F403
            ROOT_URLCONF = "bench_ingest_urls"
            ALLOWED_HOSTS = ["*"]
            DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405
            """
        )
        + "\n".join(WHAT_IFS[name] for name in what_ifs)
        + "\n"
    )
    (tmp / "bench_ingest_urls.py").write_text(
        textwrap.dedent(
            """
            from django.urls import include, path
            urlpatterns = [path("", include("civicloop.firelane.intake.urls"))]
            """
        )
    )
    (tmp / "bench_ingest_wsgi.py").write_text(
        "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_ingest_settings"
    os.environ["PYTHONPATH"] = os.pathsep.join([str(tmp), str(ROOT)])
    sys.path.insert(0, str(tmp))


def _create_database() -> None:
    import psycopg
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    params = settings.DATABASES["default"]
    with psycopg.connect(
        host=params.get("HOST") or "127.0.0.1",
        port=params.get("PORT") or 5432,
        user=params.get("USER") or "postgres",
        password=params.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _build_rows() -> list[str]:
    from django.core.management import call_command
    from django.db import connection

    from civicloop.core.areas.models import Area
    from civicloop.core.units.models import Unit
    from civicloop.firelane.models import Camera, IntakeRefusal, Sighting, Site

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:  # a clean slate for each run
        cursor.execute(
            f"TRUNCATE {Sighting._meta.db_table}, {IntakeRefusal._meta.db_table} RESTART IDENTITY"
        )
    area, _ = Area.objects.get_or_create(code="331081", defaults={"name": "温岭市", "kind": "city"})
    unit, _ = Unit.objects.get_or_create(
        code="bench-property", defaults={"name": "物业", "kind": "property", "area": area}
    )
    site, _ = Site.objects.get_or_create(
        code="bench-site",
        defaults={
            "name": "压测小区",
            "address": "温岭市",
            "area": area,
            "unit": unit,
            "enforcement_unit": unit,
        },
    )
    serials = [f"BENCH-{i:03d}" for i in range(CAMERAS)]
    for serial in serials:
        Camera.objects.update_or_create(
            serial=serial,
            defaults={
                "site": site,
                "name": serial,
                "vendor": "hikvision",
                "ip_allowlist": "127.0.0.1",
                "status": "offline",
                "last_seen_at": None,
            },
        )
    return serials


def _unique_jpeg(base: bytes, tag: str) -> bytes:
    """The same picture with a COM segment carrying `tag`: a valid, distinct JPEG."""
    comment = tag.encode()
    return base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]


def _isapi_body(serial: str, n: int, scene: bytes, plate: bytes) -> tuple[bytes, str]:
    sys.path.insert(0, str(ROOT))
    from tests.firelane.intake_fixtures import isapi_body, isapi_xml

    xml = isapi_xml(
        when=datetime.now(UTC), uuid_text=str(uuid.uuid4()), plate=f"浙J{n % 100000:05d}"
    )
    return isapi_body(
        xml=xml, scene=_unique_jpeg(scene, f"s{serial}{n}"), plate=_unique_jpeg(plate, f"p{n}")
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- (a) HTTP --------------------------------------------------------------------------


def _http_client(port: int, serials: list[str], count: int, threads: int, queue: Any) -> None:
    import django

    django.setup()
    scene = (PLATES / "lprnet_0021.jpg").read_bytes()
    plate = (PLATES / "lprnet_0134.jpg").read_bytes()
    bodies = [_isapi_body(serials[i % len(serials)], i, scene, plate) for i in range(count)]
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]

    def run(chunk: list[tuple[bytes, str]], offset: int) -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad: list[int] = []
        for i, (body, ctype) in enumerate(chunk):
            serial = serials[(offset + i * threads) % len(serials)]
            start = time.perf_counter()
            conn.request(
                "POST", f"/intake/isapi/{serial}/", body=body, headers={"Content-Type": ctype}
            )
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 200:
                bad.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    workers = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(chunks)]
    queue.put(("ready", None))
    _ = queue  # the parent starts the clock when every client is ready
    time.sleep(0.5)
    cpu = time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(("done", (latencies, errors, time.process_time() - cpu)))


def bench_http(
    serials: list[str],
    *,
    events: int,
    clients: int,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
) -> dict[str, Any]:
    port = 18765
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench_ingest_wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        _wait_port(port)
        processes = max(1, min(clients // 8, 4))
        per_process_threads = max(1, clients // processes)
        queue: Any = mp.get_context("spawn").Queue()
        procs = [
            mp.get_context("spawn").Process(
                target=_http_client,
                args=(port, serials, events // processes, per_process_threads, queue),
            )
            for _ in range(processes)
        ]
        for p in procs:
            p.start()
        for _ in procs:
            assert queue.get()[0] == "ready"
        server_pids = [server.pid, *_children(server.pid)]
        before = _CpuSnapshot.take(server_pids)
        start = time.perf_counter()
        time.sleep(0.5)
        latencies: list[float] = []
        errors: list[int] = []
        client_cpu = 0.0
        for _ in procs:
            _kind, (lat, err, cpu) = queue.get()
            latencies.extend(lat)
            errors.extend(err)
            client_cpu += cpu
        elapsed = time.perf_counter() - start - 0.5
        after = _CpuSnapshot.take(server_pids)
        for p in procs:
            p.join()
    finally:
        server.terminate()
        server.wait(10)
    from civicloop.firelane.models import Sighting

    events = len(latencies)
    return {
        "events": events,
        "rate": events / elapsed,
        "p50_ms": _percentile(latencies, 0.5) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "errors": len(errors),
        "rows": Sighting.objects.filter(source="isapi").count(),
        "setup": f"gunicorn {worker_class} {workers} workers x {threads} threads, {processes} client processes x {per_process_threads} connections",
        "cpu": after.per_event_ms(before, events=events, clients=client_cpu),
    }


# -- where the CPU went (Linux /proc) ------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) process `pid` used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _postgres_pids() -> list[int]:
    """The server processes of every connection to the bench database (same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class _CpuSnapshot:
    """CPU seconds used so far: the machine (all cores), the app server, PostgreSQL."""

    at: float
    machine: float
    server: float
    postgres: dict[int, float]

    @classmethod
    def take(cls, server_pids: list[int]) -> _CpuSnapshot:
        ticks = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        idle = int(ticks[3]) + int(ticks[4])  # idle + iowait
        machine = (sum(int(t) for t in ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        return cls(
            time.perf_counter(),
            machine,
            sum(_proc_cpu(p) for p in server_pids),
            {p: _proc_cpu(p) for p in _postgres_pids()},
        )

    def per_event_ms(
        self, before: _CpuSnapshot, *, events: int, clients: float
    ) -> dict[str, float]:
        """CPU ms per event by who spent it; `others` is the rest of the machine (other
        people's jobs, the kernel's softirqs, the bench parent). Backends that connected
        during the run count from zero."""
        postgres = sum(v - before.postgres.get(p, 0.0) for p, v in self.postgres.items())
        server = self.server - before.server
        machine = self.machine - before.machine
        spent = {
            "server": server,
            "postgres": postgres,
            "clients": clients,
            "others": machine - server - postgres - clients,
        }
        result = {k: v / max(events, 1) * 1000 for k, v in spent.items()}
        result["cores_busy"] = machine / (self.at - before.at)
        return result


def _wait_port(port: int, timeout: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


# -- (b) MQTT --------------------------------------------------------------------------


def _consumer_process(expected: int, committed: Any, result: Any) -> None:
    import django

    django.setup()
    import json

    from civicloop.firelane.intake.mqtt import MqttConsumer

    latencies: list[float] = []
    done = threading.Event()

    def on_committed(messages: Any, outcomes: Any) -> None:
        now = time.time()
        for m in messages:
            latencies.append(now - json.loads(m.payload)["after"]["bench_sent"])
        with committed.get_lock():
            committed.value += len(messages)
        if committed.value >= expected:
            done.set()

    consumer = MqttConsumer(
        url="mqtt://127.0.0.1:1883",
        topic=TOPIC,
        client_id="civicloop-bench-ingest",
        on_committed=on_committed,
    ).start()
    consumer.connected.wait(10)
    result.put("ready")
    done.wait(300)
    consumer.stop()
    result.put((latencies, consumer.stats.stored, consumer.stats.duplicates))


def bench_mqtt(serials: list[str], *, events: int, window: int) -> dict[str, Any]:
    import json

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    ctx = mp.get_context("spawn")
    committed = ctx.Value("i", 0)
    result: Any = ctx.Queue()
    proc = ctx.Process(target=_consumer_process, args=(events, committed, result))
    proc.start()
    assert result.get(timeout=60) == "ready"
    time.sleep(0.5)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="civicloop-bench-publisher")
    publisher.max_inflight_messages_set(1000)
    publisher.max_queued_messages_set(0)
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    start = time.perf_counter()
    # Mosquitto queues at most 1000 messages per client beyond those in flight (default
    # max_queued_messages) and drops the rest: keep the publisher ahead by less than that.
    for i in range(events):
        while i - committed.value > window:
            time.sleep(0.001)
        now = time.time()
        after = {
            "id": f"{now:.6f}-{i:06d}",
            "camera": serials[i % len(serials)],
            "frame_time": now,
            "label": "car",
            "box": [960, 540, 1440, 810],
            "current_zones": ["fire_lane"],
            "entered_zones": ["fire_lane"],
            "has_snapshot": False,
            "recognized_license_plate": f"浙J{i % 100000:05d}",
            "recognized_license_plate_score": 0.9,
            "bench_sent": now,
        }
        publisher.publish(
            TOPIC,
            json.dumps(
                {"type": "update", "before": dict(after, frame_time=now - 1), "after": after}
            ),
            qos=1,
        )
    latencies, stored, duplicates = result.get(timeout=600)
    elapsed = time.perf_counter() - start
    proc.join(10)
    publisher.loop_stop()
    publisher.disconnect()
    return {
        "events": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50_ms": _percentile(latencies, 0.5) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "stored": stored,
        "duplicates": duplicates,
    }


# -- (c) raw ---------------------------------------------------------------------------


def bench_raw(serials: list[str], *, events: int, batch: int = 500) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from civicloop.firelane.models import Camera, Sighting

    cameras = list(Camera.objects.filter(serial__in=serials))
    start = time.perf_counter()
    now = timezone.now()
    for offset in range(0, events, batch):
        rows = [
            Sighting(
                camera=cameras[i % len(cameras)],
                source="simulator",
                event_key=f"raw:{i}",
                camera_time=now,
                taken_at=now,
                received_at=now,
                camera_plate=f"浙J{i % 100000:05d}",
                camera_confidence=0.9,
                box=[0.5, 0.5, 0.75, 0.75],
                scene=f"firelane/raw/{i}-scene.jpg",
                scene_sha256="0" * 64,
                crop=f"firelane/raw/{i}-plate.jpg",
                crop_sha256="0" * 64,
            )
            for i in range(offset, min(events, offset + batch))
        ]
        with transaction.atomic():
            Sighting.objects.bulk_create(rows)
    elapsed = time.perf_counter() - start
    return {"events": events, "rate": events / elapsed, "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument(
        "--what-if",
        default="",
        help=f"comma list of settings changes to try: {', '.join(WHAT_IFS)}",
    )
    parser.add_argument(
        "--mqtt-window", type=int, default=500, help="events published ahead of commits"
    )
    parser.add_argument("--skip", default="", help="comma list of http,mqtt,raw to skip")
    parser.add_argument(
        "--media-parent",
        default=str(ROOT / "var"),
        help="where the scratch media folder goes (default: var/, beside MEDIA_ROOT's default)."
        " Not /tmp: on the bench VM creating a file there costs ~0.9 ms of CPU, var/ ~15 us",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    what_ifs = list(filter(None, args.what_if.split(",")))
    media_parent = Path(args.media_parent)
    media_parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="firelane-bench-") as tmp,
        tempfile.TemporaryDirectory(prefix="bench-media-", dir=media_parent) as media,
    ):
        _prepare_env(Path(tmp), media=Path(media), what_ifs=what_ifs)
        import django

        django.setup()
        _create_database()
        serials = _build_rows()
        print(
            f"bench database ready: {CAMERAS} cameras; {os.cpu_count()} CPUs;"
            f" load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])};"
            f" media in {media_parent}; what-ifs: {', '.join(what_ifs) or 'none'}"
        )
        results: dict[str, dict[str, Any]] = {}
        if "raw" not in skip:
            results["raw"] = bench_raw(serials, events=args.events)
            print(
                f"(c) raw bulk INSERT      {results['raw']['rate']:8.0f} events/s  (batches of 500)"
            )
        if "http" not in skip:
            r = results["http"] = bench_http(
                serials,
                events=args.events,
                clients=args.clients,
                workers=args.workers,
                threads=args.threads,
                worker_class=args.worker_class,
            )
            print(
                f"(a) ISAPI over HTTP      {r['rate']:8.0f} events/s  p50 {r['p50_ms']:.1f} ms"
                f"  p99 {r['p99_ms']:.1f} ms  non-200: {r['errors']}  rows: {r['rows']}  [{r['setup']}]"
            )
            cpu = r["cpu"]
            print(
                f"    CPU ms per event: server {cpu['server']:.2f}, PostgreSQL {cpu['postgres']:.2f},"
                f" load generator {cpu['clients']:.2f}, rest of the machine {cpu['others']:.2f}"
                f"  ({cpu['cores_busy']:.2f} of {os.cpu_count()} cores busy)"
            )
        if "mqtt" not in skip:
            r = results["mqtt"] = bench_mqtt(serials, events=args.events, window=args.mqtt_window)
            print(
                f"(b) Frigate over MQTT    {r['rate']:8.0f} events/s  p50 {r['p50_ms']:.1f} ms"
                f"  p99 {r['p99_ms']:.1f} ms  stored {r['stored']} dup {r['duplicates']}"
            )
        if "raw" in results:
            raw = results["raw"]["rate"]
            for name in ("http", "mqtt"):
                if name in results:
                    print(f"    {name}: {results[name]['rate'] / raw:.2f} of raw")


if __name__ == "__main__":
    main()
