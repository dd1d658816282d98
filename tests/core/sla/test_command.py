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
        (("2026-12-30", "+3"), "日历 → 年份"),
    ],
)
def test_bad_input_and_unknown_years_are_command_errors(args, message):
    with pytest.raises(CommandError, match=message):
        run_workdays(*args)


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
@pytest.mark.parametrize("args", [("2026-12-30", "+3"), ("not-a-date", "+3")])
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
