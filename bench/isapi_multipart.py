"""What the ISAPI push's multipart body costs to parse with Django's MultiPartParser (as the
intake view reads it: request.POST and request.FILES, parts read), against what one whole push costs
the server, to judge whether a parser of our own would be worth having.

Measured 2026-12 on the shared 2-core VM (82 KB body, 3 parts), four runs: Django's parser
0.29-0.34 ms, a whole push 4.7-5.9 ms (SQLite or PostgreSQL), so 6-7 %; the hand-written
splitter the intake had then took 0.04 ms, saving ~5 % of a push: removed, not worth a
second multipart parser.

    .venv/bin/python bench/isapi_multipart.py [--rounds 2000] [--database-url URL]

Bodies are a camera's real push: the ANPR XML part and two JPEG parts (a scene from
/work/shared/testdata/plates when there, else synthetic, and a plate crop), as
`tests.firelane.intake_fixtures` builds them. Prints microseconds of CPU per body (the
median of 5 runs of --rounds bodies each), and the whole push (view, parse, checks,
INSERT, two files) measured in-process through Django's test client, for scale (on a
scratch SQLite file, or on the empty database --database-url names; its database
server's CPU is not counted).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCENE = ROOT.parent / "shared" / "testdata" / "plates" / "ccpd_scene_0001.jpg"


def _setup(tmp: Path, database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.MEDIA_ROOT = str(tmp / "media")
    settings.ALLOWED_HOSTS = ["*"]


def _unique_jpeg(base: bytes, n: int) -> bytes:
    """The same picture with a JPEG comment segment, so each push stores its own file."""
    tag = f"bench {n}".encode()
    return base[:2] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag + base[2:]


def _per_body_us(run: object, rounds: int) -> float:
    samples = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(rounds):
            run()  # type: ignore[operator]
        samples.append((time.process_time() - start) / rounds * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument(
        "--database-url", default="", help="for the whole push; default a scratch SQLite file"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        _setup(tmp, args.database_url)
        from django.core.management import call_command
        from django.test import Client, RequestFactory
        from django.utils import timezone

        from tests.firelane.intake_fixtures import isapi_body, isapi_xml, plate_jpeg, scene_jpeg

        scene = SCENE.read_bytes() if SCENE.exists() else scene_jpeg()
        body, content_type = isapi_body(
            xml=isapi_xml(when=timezone.now()), scene=scene, plate=plate_jpeg()
        )
        factory = RequestFactory()

        def django_parse() -> None:
            request = factory.generic("POST", "/intake/isapi/X/", body, content_type)
            for _name, values in request.POST.lists():
                [v.encode() for v in values]
            for _name, uploads in request.FILES.lists():
                [u.read() for u in uploads]

        def request_only() -> None:
            factory.generic("POST", "/intake/isapi/X/", body, content_type)

        django_us = _per_body_us(django_parse, args.rounds)
        base_us = _per_body_us(request_only, args.rounds)
        print(f"body {len(body)} bytes, 3 parts; CPU per body, median of 5 x {args.rounds}:")
        print(f"  Django MultiPartParser      {django_us - base_us:8.1f} us")

        # The whole push, for scale: one camera, one event a call (each a new plate time).
        call_command("migrate", verbosity=0)
        from tests.firelane.intake_fixtures import intake_site_camera

        camera = intake_site_camera(serial="BENCH1", ip_allowlist="127.0.0.1")
        client = Client(REMOTE_ADDR="127.0.0.1")
        pushes = 200
        bodies = []
        for i in range(pushes):
            when = timezone.now() - timezone.timedelta(seconds=(pushes - i) * 7)
            bodies.append(
                isapi_body(
                    xml=isapi_xml(when=when, plate=f"浙J{10000 + i}"),
                    scene=_unique_jpeg(scene, i),
                    plate=plate_jpeg(),
                )
            )
        start = time.process_time()
        for push_body, push_type in bodies:
            response = client.generic(
                "POST", f"/intake/isapi/{camera.serial}/", push_body, push_type
            )
            assert response.status_code in (200, 201, 202), response.content[:200]
        whole_us = (time.process_time() - start) / pushes * 1e6
        print(f"  whole push (test client)    {whole_us:8.1f} us")
        print(f"  parser share of a push      {100 * (django_us - base_us) / whole_us:8.1f} %")


if __name__ == "__main__":
    main()
