"""`manage.py workdays DATE ±N` prints one date, or fails with exit status 1."""

from __future__ import annotations

import os
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[3]
PYTHON = ROOT / ".venv" / "bin" / "python"


def run_workdays(*args: str) -> str:
    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("2026-09-30", "+3"), "2026-10-10\n"),
        (("2026-09-30", "3"), "2026-10-10\n"),
        (("2026-10-10", "-3"), "2026-09-30\n"),
        (("2026-10-03", "0"), "2026-10-03\n"),
    ],
)
def test_call_command_prints_exactly_one_date(args, expected):
    assert run_workdays(*args) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2026-13-01", "+3"), "日期格式错误"),
        (("30/09/2026", "+3"), "日期格式错误"),
        (("2026-09-30", "three"), "工作日数格式错误"),
        (("2003-12-30", "+3"), "日历 → 年份"),
    ],
)
def test_bad_input_and_unknown_years_are_command_errors(args, message):
    with pytest.raises(CommandError, match=message):
        run_workdays(*args)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # 15 working days from Sun 2026-12-20: 元旦 (Fri 2027-01-01) off, provisionally
        (("2026-12-20", "+15"), "2027-01-11 (provisional: 2027 not confirmed)\n"),
        (("2027-01-11", "-15"), "2026-12-18 (provisional: 2027 not confirmed)\n"),
        (("2026-12-30", "+3"), "2027-01-05 (provisional: 2027 not confirmed)\n"),
    ],
)
def test_a_date_in_an_unconfirmed_year_is_printed_and_marked_provisional(args, expected):
    assert run_workdays(*args) == expected


@pytest.mark.django_db
def test_once_the_year_is_confirmed_the_mark_is_gone():
    # Given 2027 published by an administrator with 01-04 as a (hypothetical) holiday
    from datetime import date

    from civicloop.core.sla.services import calendar_year_publish

    calendar_year_publish(
        year=2027, holidays=[(date(2027, 1, 1), "元旦"), (date(2027, 1, 4), "元旦")], workdays=[]
    )
    # Then the date follows it, printed as for any confirmed year
    assert run_workdays("2026-12-30", "+3") == "2027-01-06\n"


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose database is a fresh SQLite file with the calendar seeded."""
    db = tmp_path_factory.mktemp("workdays") / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "sla", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


@pytest.mark.skipif(not PYTHON.exists(), reason="needs the project virtualenv")
def test_manage_py_workdays_in_a_subprocess(migrated_sqlite):
    result = subprocess.run(
        [str(PYTHON), "manage.py", "workdays", "2026-09-30", "+3"],
        cwd=ROOT,
        env=migrated_sqlite,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "2026-10-10\n", "")


@pytest.mark.skipif(not PYTHON.exists(), reason="needs the project virtualenv")
def test_manage_py_workdays_into_an_unconfirmed_year_exits_0(migrated_sqlite):
    # The city's acceptance check: a date, marked provisional while 2027 is unconfirmed
    result = subprocess.run(
        [str(PYTHON), "manage.py", "workdays", "2026-12-20", "+15"],
        cwd=ROOT,
        env=migrated_sqlite,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "2027-01-11 (provisional: 2027 not confirmed)\n",
        "",
    )


@pytest.mark.skipif(not PYTHON.exists(), reason="needs the project virtualenv")
@pytest.mark.parametrize("args", [("2003-12-30", "+3"), ("not-a-date", "+3")])
def test_manage_py_workdays_errors_exit_1_on_stderr(migrated_sqlite, args):
    result = subprocess.run(
        [str(PYTHON), "manage.py", "workdays", *args],
        cwd=ROOT,
        env=migrated_sqlite,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("CommandError:")
