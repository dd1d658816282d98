"""The demo loader: a voted cycle of 12 candidates for 10 places under delivery; run
twice, nothing changes."""

from __future__ import annotations

import time

import pytest

from civicloop.core.cases.models import Case
from civicloop.projects.models import Ballot, Candidate, Cycle, CycleState, Milestone, VoterRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_logins(city: None) -> None:
    from civicloop.core.demo import DEMO_LOGINS, demo_user_ensure

    for login in DEMO_LOGINS:
        demo_user_ensure(login)


def _counts() -> tuple[int, ...]:
    return (
        Cycle.objects.count(),
        Candidate.objects.count(),
        Ballot.objects.count(),
        VoterRecord.objects.count(),
        Milestone.objects.count(),
        Case.objects.count(),
    )


def test_demo_loads_a_voted_cycle_under_delivery_and_is_idempotent(demo_logins: None) -> None:
    from civicloop.projects.demo import demo_projects_load

    started = time.monotonic()
    demo_projects_load(print)
    elapsed = time.monotonic() - started
    cycle = Cycle.objects.get()
    assert cycle.state == CycleState.DELIVERY
    assert Candidate.objects.filter(shortlisted=True).count() == 12
    assert Candidate.objects.filter(chosen=True).count() == 10
    assert cycle.places == 10
    # The result is the count of the ballots: each chosen one had more than half of all.
    assert Ballot.objects.count() == VoterRecord.objects.count() == cycle.voters_count
    assert cycle.voters_count * 2 > cycle.roll_size
    for c in Candidate.objects.filter(shortlisted=True):
        assert c.votes_for + c.votes_against + c.votes_abstain == cycle.voters_count
        if c.chosen:
            assert c.votes_for * 2 > cycle.roll_size
    assert Milestone.objects.count() == 40
    assert Milestone.objects.filter(case__state="done").exists()
    assert Milestone.objects.filter(case__state="in_progress").exists()
    assert Case.objects.filter(channel="project_finding").count() == 2
    before = _counts()
    demo_projects_load(print)
    assert _counts() == before
    assert elapsed < 30
