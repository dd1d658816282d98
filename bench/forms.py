"""Benchmark of applications as data: a 200-question XLSForm (prints figures; not a test).

The form: 190 questions outside the repeat (text, integer, decimal, select_one,
select_multiple, date, in turn; 20 of them with a `relevant` rule reading an earlier
answer, every integer with a `constraint`), and a repeat of 10 questions (with a
constraint, a choice filter and a calculation reading its own row) filled with 50 rows,
plus calculations summing over the repeat. Measured:

1. the upload: convert_xlsform (pyxform + our checks) and FormDef.from_json;
2. server-side validation of one submission, `evaluate(strict=True)` as
   submission_create calls it, over --runs runs (the FormDef and its compiled
   expressions cached, as the lead's selector caches them per version): p50/p95/p99 ms
   (aim: p95 < 50 ms), and the peak memory of one evaluation (tracemalloc);
3. the page: the pyxform JSON size, and with --page the submit page itself
   (`/apps/bench/new/`, rendered by the real view for a signed-in administrator on a
   scratch SQLite database): bytes, gzip bytes and render ms.

    .venv/bin/python bench/forms.py [--runs 300] [--rows 50] [--page]

Last line: one summary (p95_ms=... peak_kb=... json_bytes=... page_bytes=...).
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

TOP_QUESTIONS = 190
REPEAT_QUESTIONS = 10
RELEVANCE_RULES = 20
KINDS = ("text", "integer", "decimal", "select_one yn", "select_multiple colours", "date")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_xlsform() -> bytes:
    from tests.core.forms.xlsforms import xlsform_bytes

    head = [
        "type",
        "name",
        "label::Chinese (zh)",
        "label::English (en)",
        "relevant",
        "constraint",
        "constraint_message::Chinese (zh)",
        "required",
        "calculation",
        "choice_filter",
    ]
    survey: list[list[Any]] = [head]
    rule_every = TOP_QUESTIONS // RELEVANCE_RULES
    for i in range(TOP_QUESTIONS):
        kind = KINDS[i % len(KINDS)]
        relevant = ""
        if i and i % rule_every == 0:
            # Reads the nearest earlier integer question.
            j = i - 1
            while KINDS[j % len(KINDS)] != "integer":
                j -= 1
            relevant = f"${{q{j}}} > 10"
        constraint = ". >= 0 and . <= 100000" if kind == "integer" else ""
        message = "须在0到100000之间" if constraint else ""
        survey.append(
            [
                kind,
                f"q{i}",
                f"问题{i}",
                f"Question {i}",
                relevant,
                constraint,
                message,
                "yes" if i < 10 else "",
                "",
                "",
            ]
        )
    survey.append(["begin_repeat", "rows", "明细", "Rows", "", "", "", "", "", ""])
    survey.append(["select_one town", "town", "镇", "Town", "", "", "", "yes", "", ""])
    survey.append(
        ["select_one village", "village", "村", "Village", "", "", "", "", "", "town=${town}"]
    )
    survey.append(
        ["integer", "people", "人数", "People", "", ". > 0 and . < 1000", "人数不对", "yes", "", ""]
    )
    survey.append(["decimal", "amount", "金额", "Amount", "", ". >= 0", "金额不对", "", "", ""])
    survey.append(
        ["text", "matter", "事项", "Matter", "", "string-length(.) <= 200", "太长", "", "", ""]
    )
    survey.append(["date", "when", "日期", "Date", "", ". <= today()", "不能晚于今天", "", "", ""])
    survey.append(["select_one yn", "done", "已办结", "Done", "", "", "", "", "", ""])
    survey.append(["text", "note", "备注", "Note", "${done} = 'no'", "", "", "", "", ""])
    survey.append(
        ["calculate", "line", "", "", "", "", "", "", "concat(${matter}, ' ', ${people})", ""]
    )
    survey.append(
        [
            "calculate",
            "per_head",
            "",
            "",
            "",
            "",
            "",
            "",
            "if(${people} > 0, round(${amount} div ${people}, 2), 0)",
            "",
        ]
    )
    survey.append(["end_repeat", "", "", "", "", "", "", "", "", ""])
    survey.append(["calculate", "total_people", "", "", "", "", "", "", "sum(${people})", ""])
    survey.append(["calculate", "total_rows", "", "", "", "", "", "", "count(${rows})", ""])
    choices: list[list[Any]] = [
        ["list_name", "name", "label::Chinese (zh)", "label::English (en)", "town"],
        ["yn", "yes", "是", "Yes", None],
        ["yn", "no", "否", "No", None],
    ]
    choices += [["colours", f"c{i}", f"颜色{i}", f"Colour {i}", None] for i in range(8)]
    choices += [["town", f"t{i}", f"镇{i}", f"Town {i}", None] for i in range(16)]
    choices += [["village", f"v{i}", f"村{i}", f"Village {i}", f"t{i % 16}"] for i in range(320)]
    settings = [["form_title", "form_id", "version"], ["基准表单", "bench", "1"]]
    return xlsform_bytes(survey, choices, settings)


def build_answers(rows: int) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for i in range(TOP_QUESTIONS):
        kind = KINDS[i % len(KINDS)]
        answers[f"q{i}"] = {
            "text": f"回答{i}",
            "integer": str(i * 7),
            "decimal": f"{i}.5",
            "select_one yn": "yes" if i % 2 else "no",
            "select_multiple colours": ["c1", "c3"],
            "date": "2025-02-01",
        }[kind]
    answers["rows"] = [
        {
            "town": f"t{r % 16}",
            "village": f"v{r % 16 + 16 * (r % 3)}",
            "people": str(r + 1),
            "amount": f"{r * 10}.25",
            "matter": f"第{r}件事",
            "when": "2025-01-15",
            "done": "no" if r % 4 == 0 else "yes",
            "note": "跟进",
        }
        for r in range(rows)
    ]
    return answers


def measure_page(data: bytes, runs: int) -> tuple[int, int, float]:
    """Bytes, gzip bytes and median ms of GET /apps/bench/new/ on a scratch database."""
    folder = tempfile.mkdtemp(prefix="bench-forms-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/db.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from civicloop.core.accounts.models import User
    from civicloop.core.forms.services import application_import_xlsform

    application_import_xlsform(code="bench", data=data, filename="bench.xlsx")
    admin = User.objects.create_superuser(username="bench_admin", password="x")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    times = []
    body = b""
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get("/apps/bench/new/")
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"page answered {response.status_code}")
        body = response.content
    return len(body), len(gzip.compress(body)), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300, help="validations measured (>= 200)")
    parser.add_argument("--rows", type=int, default=50, help="rows of the repeat")
    parser.add_argument(
        "--page", action="store_true", help="also render the submit page (scratch SQLite)"
    )
    parser.add_argument("--page-runs", type=int, default=20)
    args = parser.parse_args()

    data = build_xlsform()
    page: tuple[int, int, float] | None = None
    if args.page:
        page = measure_page(data, args.page_runs)
    else:
        import django

        django.setup()

    from django.utils import translation

    from civicloop.core.forms.convert import convert_xlsform
    from civicloop.core.forms.definition import FormDef
    from civicloop.core.forms.evaluate import evaluate

    translation.activate("zh-hans")
    start = time.perf_counter()
    converted = convert_xlsform(data, "bench.xlsx")
    convert_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    form = FormDef.from_json(converted.definition)
    formdef_ms = (time.perf_counter() - start) * 1000
    questions = sum(1 for q in form.walk() if not q.is_container)
    json_bytes = len(json.dumps(converted.definition, ensure_ascii=False).encode())

    answers = build_answers(args.rows)
    now = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    start = time.perf_counter()
    first = evaluate(form, answers, now=now, strict=True)
    first_ms = (time.perf_counter() - start) * 1000
    if not first.ok:
        raise SystemExit(
            f"the bench answers do not validate: {dict(list(first.errors.items())[:5])}"
        )
    shown = sum(1 for v in first.relevant.values() if v)

    times = []
    gc.collect()
    for _ in range(args.runs):
        start = time.perf_counter()
        evaluate(form, answers, now=now, strict=True)
        times.append((time.perf_counter() - start) * 1000)

    # The same, with the choice-filter results the plan keeps across submissions
    # dropped before each run: a submission whose filter inputs nobody sent before.
    from civicloop.core.forms.evaluate import plan_for

    cold = []
    for _ in range(args.runs):
        plan_for(form).filter_cache.clear()
        start = time.perf_counter()
        evaluate(form, answers, now=now, strict=True)
        cold.append((time.perf_counter() - start) * 1000)

    tracemalloc.start()
    evaluate(form, answers, now=now, strict=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(
        f"form: {questions} questions + calculations ({TOP_QUESTIONS} outside the repeat, "
        f"{REPEAT_QUESTIONS} in it), {RELEVANCE_RULES} relevance rules, repeat of {args.rows} rows; "
        f"{len(first.relevant)} field keys, {shown} shown"
    )
    print(f"upload: convert_xlsform {convert_ms:.0f} ms, FormDef.from_json {formdef_ms:.2f} ms")
    print(f"first evaluation (compiles every expression once): {first_ms:.1f} ms")
    print(
        f"validation per submission over {args.runs} runs: p50 {pct(times, 0.5):.1f} ms, "
        f"p95 {pct(times, 0.95):.1f} ms, p99 {pct(times, 0.99):.1f} ms (aim p95 < 50 ms)"
    )
    print(
        f"  the same with no choice-filter result cached (cold inputs): p50 {pct(cold, 0.5):.1f} ms, "
        f"p95 {pct(cold, 0.95):.1f} ms, p99 {pct(cold, 0.99):.1f} ms"
    )
    print(f"peak memory of one evaluation (tracemalloc): {peak / 1024:.0f} KiB")
    print(f"form definition (pyxform JSON): {json_bytes} bytes")
    if page is not None:
        print(
            f"submit page /apps/bench/new/: {page[0]} bytes, {page[1]} gzipped, "
            f"median render {page[2]:.0f} ms over {args.page_runs} GETs"
        )
    else:
        print(
            "submit page: not measured (run with --page: renders /apps/bench/new/ on a scratch SQLite)"
        )
    print(
        f"p50_ms={pct(times, 0.5):.1f} p95_ms={pct(times, 0.95):.1f} p99_ms={pct(times, 0.99):.1f} "
        f"cold_p95_ms={pct(cold, 0.95):.1f} "
        f"peak_kb={peak / 1024:.0f} json_bytes={json_bytes} page_bytes={page[0] if page else 'n/a'}"
    )


if __name__ == "__main__":
    main()
