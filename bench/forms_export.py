"""Benchmark of an application's export (prints figures; not a test).

N submissions (default 2000, and N/4 for comparison) of a form with a repeat group,
each with a long text (2000 Chinese characters), are exported to CSV (streamed row by
row) and XLSX (openpyxl write-only, through a spooled file). Printed for each size: the
time, the output size and the peak of Python allocations while writing (tracemalloc).
Streaming holds when the peak stays about the same from N/4 to N and well below the
output's size.

    .venv/bin/python bench/forms_export.py [--n 2000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicloop_bench_export \\
        .venv/bin/python bench/forms_export.py

Without DATABASE_URL a fresh SQLite file under the temporary directory is used; a
PostgreSQL database named in DATABASE_URL is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SQLITE = Path(tempfile.gettempdir()) / "civicloop_bench_export.sqlite3"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SQLITE}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

SURVEY = [
    ["type", "name", "label::Chinese (zh)", "label::English (en)"],
    ["text", "topic", "议题", "Topic"],
    ["integer", "people", "到会人数", "People"],
    ["select_one yn", "agreed", "是否达成一致", "Agreed"],
    ["geopoint", "where", "地点", "Place"],
    ["begin_repeat", "decisions", "决定事项", "Decisions"],
    ["text", "decision", "决定", "Decision"],
    ["date", "due", "完成期限", "Due"],
    ["end_repeat", None, None, None],
]
CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["yn", "yes", "是", "Yes"],
    ["yn", "no", "否", "No"],
]


def fresh_database(url: str) -> None:
    if url.startswith("sqlite"):
        SQLITE.unlink(missing_ok=True)
        return
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def xlsform() -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in SURVEY:
        sheet.append(row)
    for title, rows in (
        ("choices", CHOICES),
        ("settings", [["form_title", "form_id"], ["议事协商会（压测）", "bench"]]),
    ):
        extra = book.create_sheet(title)
        for row in rows:
            extra.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def submissions_make(app, n: int, start: int) -> None:  # type: ignore[no-untyped-def]
    from civicloop.core.cases.services import CaseDraft, case_submit_many
    from civicloop.core.forms.models import Submission
    from civicloop.core.units.models import Unit

    unit = Unit.objects.select_related("area").get(code="town-331081100")
    version = app.current_form
    text = "议事内容" * 500
    for offset in range(0, n, 500):
        batch = range(start + offset, start + min(n, offset + 500))
        answers = [
            {
                "topic": f"{i} {text}",
                "people": i % 40,
                "agreed": "yes" if i % 2 else "no",
                "where": "28.38 121.35 0 5",
                "decisions": [{"decision": f"决定 {i}-{j}", "due": "2027-01-15"} for j in range(3)],
            }
            for i in batch
        ]
        cases = case_submit_many(
            drafts=[
                CaseDraft(
                    channel=app.code, title=f"会议 {i}", body="b", area=unit.area, owner_unit=unit
                )
                for i in batch
            ]
        )
        Submission.objects.bulk_create(
            Submission(case=c, application=app, form_version=version, answers=a)
            for c, a in zip(cases, answers, strict=True)
        )


def measure(app, admin) -> tuple[float, int, int, float, int, int]:  # type: ignore[no-untyped-def]
    import io

    from civicloop.core.forms.export import csv_chunks, export_rows, xlsx_write

    tracemalloc.start()
    started = time.perf_counter()
    csv_size = sum(len(c) for c in csv_chunks(export_rows(app, user=admin, log=False)[0]))
    csv_time = time.perf_counter() - started
    csv_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    tracemalloc.start()
    started = time.perf_counter()
    handle = xlsx_write(export_rows(app, user=admin, log=False))
    xlsx_time = time.perf_counter() - started
    xlsx_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    xlsx_size = handle.seek(0, io.SEEK_END)
    handle.close()
    return csv_time, csv_size, csv_peak, xlsx_time, xlsx_size, xlsx_peak


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    fresh_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from civicloop.core.accounts.models import User
    from civicloop.core.demo import demo_city_build
    from civicloop.core.forms.services import application_import_xlsform

    demo_city_build()
    app, _v, _c = application_import_xlsform(
        code="bench_meeting", data=xlsform(), filename="bench.xlsx"
    )
    admin = User.objects.get(username="admin")
    mb = 1024 * 1024
    print(f"database: {os.environ['DATABASE_URL'].split('://')[0]}")
    print(f"{'submissions':>11} {'format':>6} {'seconds':>8} {'output MB':>10} {'peak MB':>8}")
    done = 0
    for n in (args.n // 4, args.n):
        submissions_make(app, n - done, done)
        done = n
        csv_t, csv_s, csv_p, x_t, x_s, x_p = measure(app, admin)
        print(f"{n:>11} {'csv':>6} {csv_t:>8.2f} {csv_s / mb:>10.1f} {csv_p / mb:>8.1f}")
        print(f"{n:>11} {'xlsx':>6} {x_t:>8.2f} {x_s / mb:>10.1f} {x_p / mb:>8.1f}")


if __name__ == "__main__":
    main()
