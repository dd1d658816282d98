"""Mutation score of the modules where a silent bug costs most (`make mutation`).

Each module is mutated by mutmut on its own, in its own working directory
(mutants/<module>/, which links the real `civicloop` and `tests` and carries a copy of
pyproject.toml with a `[tool.mutmut]` section for that module), and each mutant is
checked with only the fast SQLite tests that cover the module. Mutants listed in
bench/mutation_equivalent.txt (one name a line, then `#` and why it changes nothing a
caller can observe) are counted apart. Prints the score per module and its run time; the
last line is `mutation_score=… killed=… survived=… equivalent=…` over all modules.

    python bench/mutation.py                       # every module
    python bench/mutation.py plates sla            # some (by key)
    python bench/mutation.py --max-children 2      # mutants checked in parallel
    python bench/mutation.py --keep                # reuse earlier results (after adding tests)
    python bench/mutation.py --list-survivors      # print each surviving mutant's diff
    python bench/mutation.py --score-only          # the scores of the last run again

Not part of `make test`: it takes minutes per module. Timeouts count as killed (the
mutant made a test hang); a mutant no selected test reaches counts as survived.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"
EQUIVALENT_FILE = ROOT / "bench" / "mutation_equivalent.txt"
MUTMUT = Path(sys.executable).parent / "mutmut"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    mutate: tuple[str, ...]
    tests: tuple[str, ...]


TARGETS = (
    Target(
        "plates",
        "firelane/plates/normalize",
        ("civicloop/firelane/plates/normalize.py",),
        (
            "tests/firelane/test_plate_rules.py",
            "tests/firelane/test_plates.py::test_normalize_ordinary",
            "tests/firelane/test_plates.py::test_normalize_new_energy_df_rule",
            "tests/firelane/test_plates.py::test_normalize_rejects_non_plates",
            "tests/firelane/test_plates.py::test_normalize_rejects_eight_chars_without_df",
            "tests/firelane/test_plates.py::test_plates_similar",
        ),
    ),
    Target(
        "sla",
        "core/sla",
        (
            "civicloop/core/sla/working_days.py",
            "civicloop/core/sla/policy.py",
            "civicloop/core/sla/services.py",
            "civicloop/core/sla/calendar_source.py",
        ),
        ("tests/core/sla",),
    ),
    Target(
        "notices",
        "firelane/notices",
        ("civicloop/firelane/notices.py",),
        (
            "tests/firelane/test_notices.py",
            "tests/firelane/test_notice_token.py",
            "tests/firelane/test_procedure.py",
        ),
    ),
    Target(
        "payments",
        "firelane/payments",
        (
            "civicloop/firelane/payments/services.py",
            "civicloop/firelane/payments/provider.py",
            "civicloop/firelane/payments/views.py",
        ),
        (
            "tests/firelane/test_payments.py",
            "tests/firelane/test_payment_reconcile_amount.py",
        ),
    ),
    Target(
        "open311",
        "api/open311",
        (
            "civicloop/api/open311/views.py",
            "civicloop/api/open311/render.py",
            "civicloop/api/open311/selectors.py",
            "civicloop/api/open311/services.py",
            "civicloop/api/open311/applications.py",
        ),
        (
            "tests/api/test_open311.py",
            "tests/api/test_open311_applications.py",
            "tests/api/test_open311_publication.py",
        ),
    ),
    Target(
        "outbox",
        "core/outbox",
        ("civicloop/core/outbox/services.py", "civicloop/core/outbox/tasks.py"),
        (
            "tests/core/outbox/test_services.py",
            "tests/core/outbox/test_privacy.py",
            "tests/core/outbox/test_webhook_integration.py",
        ),
    ),
    Target(
        "cases",
        "core/cases",
        (
            "civicloop/core/cases/services.py",
            "civicloop/core/cases/timeline.py",
            "civicloop/core/cases/access.py",
            "civicloop/core/cases/workflow.py",
        ),
        (
            "tests/core/cases/test_services.py",
            "tests/core/cases/test_workflow_engine.py",
            "tests/core/cases/test_workflow_template.py",
            "tests/core/cases/test_timeline.py",
            "tests/core/cases/test_verify_fields.py",
            "tests/core/cases/test_verify_evidence.py",
            "tests/core/cases/test_engine_guards.py",
            "tests/core/cases/test_access.py",
            "tests/core/cases/test_area_scope.py",
        ),
    ),
)

# Tables made from the models, not by running every migration: a test database per mutant
# in a fraction of the time (the calendar rows its data migration seeds are seeded by the
# tests' conftest when missing).
PYTEST_ARGS = ["-p", "no:cacheprovider", "--nomigrations", "-x", "-q"]

_RESULT = re.compile(r"^\s+(\S+): (.+)$")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NOT_COUNTED = {"skipped", "not checked", "check was interrupted by user"}


def equivalents() -> dict[str, str]:
    """Mutant name -> why it is equivalent, from the checked-in list."""
    out: dict[str, str] = {}
    if not EQUIVALENT_FILE.exists():
        return out
    for line in EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines():
        name, _, reason = line.partition("#")
        if name.strip():
            out[name.strip()] = reason.strip()
    return out


def workdir(target: Target, *, keep: bool) -> Path:
    """mutants/<key>/ with the real sources linked and a pyproject.toml for mutmut."""
    path = WORK / target.key
    if path.exists() and not keep:
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    # manage.py too: pytest-django puts the directory holding it first on sys.path, which
    # must be mutmut's copy, not the real project above it.
    for name in ("civicloop", "tests", "manage.py"):
        link = path / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

    def toml_list(items: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"

    config += (
        "\n[tool.mutmut]\n"
        'source_paths = ["civicloop"]\n'
        'also_copy = ["manage.py"]\n'
        f"only_mutate = {toml_list(target.mutate)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(target.tests)}\n"
        f"pytest_add_cli_args = {toml_list(PYTEST_ARGS)}\n"
        "use_git_change_detection = false\n"
    )
    (path / "pyproject.toml").write_text(config, encoding="utf-8")
    return path


def mutmut(path: Path, *args: str, quiet: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # SQLite
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        ["nice", "-n", "19", str(MUTMUT), *args],
        cwd=path,
        env=env,
        text=True,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
        check=False,
    )


@dataclass
class Score:
    label: str
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    seconds: float = 0.0
    survivors: tuple[str, ...] = ()

    @property
    def percent(self) -> float:
        counted = self.killed + self.survived
        return 100.0 * self.killed / counted if counted else 100.0


def score(target: Target, path: Path, known: dict[str, str]) -> Score:
    out = mutmut(path, "results", "--all", "true", quiet=True).stdout
    result = Score(target.label)
    survivors = []
    for line in out.splitlines():
        match = _RESULT.match(line)
        if not match:
            continue
        name, status = match.groups()
        if status in NOT_COUNTED:
            continue
        if name in known:
            result.equivalent += 1
        elif status in KILLED:
            result.killed += 1
        else:
            result.survived += 1
            survivors.append(f"{name}: {status}")
    result.survivors = tuple(survivors)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="keys: " + " ".join(t.key for t in TARGETS))
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="reuse results of an earlier run")
    parser.add_argument("--list-survivors", action="store_true")
    parser.add_argument(
        "--score-only", action="store_true", help="print the scores of the last run, run nothing"
    )
    options = parser.parse_args()
    unknown = set(options.modules) - {t.key for t in TARGETS}
    if unknown:
        parser.error(f"unknown module(s): {', '.join(sorted(unknown))}")
    chosen = [t for t in TARGETS if not options.modules or t.key in options.modules]
    known = equivalents()
    scores: list[Score] = []
    for target in chosen:
        print(f"== {target.label}: mutating {' '.join(target.mutate)}", flush=True)
        if options.score_only:
            path = WORK / target.key
            if not (path / "mutants").exists():
                continue
            found = score(target, path, known)
            scores.append(found)
            print(f"{target.label}: score {found.percent:.1f}% (last run)")
            continue
        path = workdir(target, keep=options.keep)
        started = time.monotonic()
        run = mutmut(path, "run", "--max-children", str(options.max_children), quiet=True)
        found = score(target, path, known)
        found.seconds = time.monotonic() - started
        if run.returncode != 0 and not (found.killed + found.survived + found.equivalent):
            print(run.stdout[-4000:])
            print(f"{target.label}: mutmut run failed (exit {run.returncode})")
            return 1
        scores.append(found)
        print(
            f"{target.label}: score {found.percent:.1f}% killed={found.killed}"
            f" survived={found.survived} equivalent={found.equivalent}"
            f" time={found.seconds:.0f}s",
            flush=True,
        )
        for survivor in found.survivors:
            print(f"    survived {survivor}")
            if options.list_survivors:
                name = survivor.split(":")[0]
                print(mutmut(path, "show", name, quiet=True).stdout)
    killed = sum(s.killed for s in scores)
    survived = sum(s.survived for s in scores)
    equivalent = sum(s.equivalent for s in scores)
    total = killed + survived
    overall = 100.0 * killed / total if total else 100.0
    print()
    for s in scores:
        print(
            f"{s.label:28} {s.percent:5.1f}%  ({s.killed} killed, {s.survived} survived,"
            f" {s.equivalent} equivalent, {s.seconds:.0f}s)"
        )
    print(
        f"mutation_score={overall:.1f}% killed={killed} survived={survived} equivalent={equivalent}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
