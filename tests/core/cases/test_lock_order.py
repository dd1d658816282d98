"""The SLA sweep and `transition` lock a case before its steps, so on PostgreSQL they
can run at the same time on the same cases without a deadlock.

These tests need row locks that wait (PostgreSQL); SQLite serialises writers and ignores
SELECT ... FOR UPDATE, so they are skipped there."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test.utils import CaptureQueriesContext

from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.cases.services import transition
from civicloop.core.cases.sweeps import sla_sweep
from civicloop.core.cases.timeline import chains_verify
from tests.conftest import require_service
from tests.core.cases.helpers import at, opinion, unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("opinions"),
]

CASES = 6
ROUNDS = 6
# Transitions are dated in the past and the sweep looks from months later, so every step
# a transition opens is already past its deadline and escalation time: the sweep claims
# each one twice (overdue, then up to the supervisor) while the transitions end it.
THEN = at("2026-03-02 10:00")
SWEEP_NOW = at("2026-06-01 10:00")


@pytest.fixture
def postgres() -> None:
    require_service("postgres")
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks that wait (PostgreSQL)")


def handling_cases(count: int) -> list[Case]:
    """`count` opinions with a town office, claimed and in handling."""
    town = unit("town-331081100")
    cases = []
    for n in range(count):
        case = opinion(now=THEN, title=f"路灯不亮 {n}")
        transition(case=case, action="accept", actor=user("station_zeguo"), now=THEN)
        transition(
            case=case,
            action="dispatch",
            actor=user("deputy_wang"),
            unit=town,
            grade="town",
            now=THEN,
        )
        transition(case=case, action="claim", actor=user("handler_zeguo"), now=THEN)
        cases.append(case)
    return cases


def in_thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the test, not swallowed
            errors.append(exc)
        finally:
            # Each thread has its own connection; an open one would block the flush.
            connection.close()

    return threading.Thread(target=run, daemon=True)


def test_sweeps_and_transitions_on_the_same_cases_never_deadlock(
    postgres: None, demo_city: None
) -> None:
    # Given cases in handling whose steps are all overdue
    numbers = [c.number for c in handling_cases(CASES)]
    errors: list[BaseException] = []
    done = threading.Event()
    handler, station = user("handler_zeguo"), user("station_zeguo")

    def work() -> None:
        # Result and rework, over and over: every round ends a step and opens one. Two
        # such threads race on the same cases; a move the other thread made first is a
        # refusal (CaseError), not a failure.
        for _round in range(ROUNDS):
            for number in numbers:
                for action, actor in (("submit_result", handler), ("rework", station)):
                    with contextlib.suppress(CaseError):
                        transition(
                            case=Case.objects.get(number=number),
                            action=action,
                            actor=actor,
                            note="已办理" if action == "submit_result" else "请补充照片",
                            now=THEN,
                        )

    def sweep() -> None:
        while not done.is_set():
            sla_sweep(now=SWEEP_NOW)
        sla_sweep(now=SWEEP_NOW)

    workers = [in_thread(work, errors) for _ in range(2)]
    sweepers = [in_thread(sweep, errors) for _ in range(2)]

    # When two threads sweep while two others move the same cases
    started = time.monotonic()
    for t in sweepers + workers:
        t.start()
    for t in workers:
        t.join(timeout=300)
    done.set()
    for t in sweepers:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in workers + sweepers), "a thread hung"

    # Then no thread hit a deadlock (or any other error)
    deadlocks = [e for e in errors if isinstance(e, OperationalError)]
    assert not deadlocks, f"deadlocks: {deadlocks[:3]!r}"
    assert not errors, f"errors: {errors[:3]!r}"
    assert time.monotonic() - started < 300

    # And every case is consistent: one open step (none when closed), its timeline head
    # on the case, its chain intact, and each escalation recorded exactly once
    for case in Case.objects.filter(number__in=numbers):
        steps = list(case.steps.all())
        open_steps = [s for s in steps if s.ended_at is None]
        terminal = case.closed_at is not None
        assert len(open_steps) == (0 if terminal else 1), case.number
        if open_steps:
            assert open_steps[0].seq == case.step_seq and open_steps[0].state == case.state
        actions = list(case.timeline.values_list("action", flat=True))
        assert len(actions) == case.timeline_seq
        assert actions.count("submit_result") >= 1 and actions.count("rework") >= 1
        assert actions.count("overdue") == sum(s.escalation_level >= 1 for s in steps)
        assert actions.count("escalate") == sum(s.escalation_level == 2 for s in steps)
    # The sweep really touched the steps the transitions were ending
    assert CaseStep.objects.filter(case__number__in=numbers, escalation_level=2).count() > CASES
    checked, breaks = chains_verify()
    assert checked >= CASES and breaks == []


def test_the_sweep_locks_the_case_before_it_claims_the_step(
    postgres: None, demo_city: None
) -> None:
    # Given one overdue step
    (case,) = handling_cases(1)
    step = CaseStep.objects.get(case=case, ended_at__isnull=True)
    assert step.due_at is not None and step.due_at + timedelta(days=1) < SWEEP_NOW

    # When the sweep escalates it
    with CaptureQueriesContext(connection) as queries:
        counts = sla_sweep(now=SWEEP_NOW)
    assert counts["escalated_leader"] == 1 and counts["escalated_supervisor"] == 1

    # Then in each of its transactions the case row is locked before the step is written
    sql = [q["sql"] for q in queries.captured_queries]
    case_table, step_table = Case._meta.db_table, CaseStep._meta.db_table
    case_locks = [i for i, s in enumerate(sql) if f'FROM "{case_table}"' in s and "FOR UPDATE" in s]
    step_writes = [i for i, s in enumerate(sql) if s.startswith(f'UPDATE "{step_table}"')]
    assert len(case_locks) == len(step_writes) == 2
    assert all(lock < write for lock, write in zip(case_locks, step_writes, strict=True))


def test_two_merges_into_each_other_do_not_deadlock(postgres: None, demo_city: None) -> None:
    """Given two duplicates, when one clerk merges A into B while another merges B into A,
    then both lock the pair in one order: one merge wins, the other is refused (its
    target is merged), and PostgreSQL reports no deadlock."""
    a, b = opinion(title="重复 A"), opinion(title="重复 B")
    clerk = user("deputy_wang")
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    refused: list[CaseError] = []

    def merge(case: Case, into: Case) -> Callable[[], None]:
        def run() -> None:
            start.wait()
            try:
                transition(case=case, action="merge", actor=clerk, merge_into=into)
            except CaseError as exc:
                refused.append(exc)

        return run

    threads = [in_thread(merge(a, b), errors), in_thread(merge(b, a), errors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [e for e in errors if isinstance(e, OperationalError)], errors
    assert not errors, errors
    states = sorted(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("state", flat=True))
    assert states == ["merged", "submitted"]
    assert len(refused) == 1
    _checked, breaks = chains_verify()
    assert not breaks
