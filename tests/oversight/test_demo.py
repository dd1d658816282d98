"""The demo's two 督政议事 meetings: one finished and published, one with answers still
coming in; idempotent."""

from __future__ import annotations

import pytest

from civicloop.core.cases.links import case_came_from
from civicloop.core.cases.models import Case
from civicloop.core.demo import demo_city_build
from civicloop.oversight.demo import SEWAGE_TITLE, TRAFFIC_TITLE
from civicloop.oversight.hooks import FOLLOW_UP, QUESTION
from civicloop.oversight.models import Meeting, MeetingStatus, Question, Topic, TopicState, Vote
from civicloop.oversight.selectors import department_results

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Meeting.objects.count(),
        Topic.objects.count(),
        Question.objects.count(),
        Vote.objects.count(),
        Case.objects.filter(channel__in=[QUESTION.code, FOLLOW_UP.code]).count(),
    )


def test_the_demo_has_a_finished_and_a_running_meeting_and_is_idempotent(
    demo_all: None,
) -> None:
    finished = Meeting.objects.get(title=TRAFFIC_TITLE)
    running = Meeting.objects.get(title=SEWAGE_TITLE)
    # The finished one: every answer rated by the vote, published, followed up.
    assert finished.status == MeetingStatus.CLOSED
    assert finished.published_at is not None and finished.minutes and finished.summary
    cases = [q.case for q in finished.questions.select_related("case")]
    assert len(cases) == 5 and all(c.state == "rated" and c.rating for c in cases)
    outcomes = {r.unit.code: r.outcome for r in department_results(meeting=finished)}
    assert outcomes["dept-planning"] == "unsatisfied"
    assert outcomes["dept-traffic-police"] == "satisfied"
    follow_ups = list(finished.follow_ups.select_related("case"))
    assert len(follow_ups) == 2
    assert {f.case.state for f in follow_ups} == {"doing", "done"}
    for f in follow_ups:
        assert set(case_came_from(case=f.case)) <= {c.number for c in cases}
        assert case_came_from(case=f.case)
    # The running one: half answered, half due later; not voted, not public.
    running_cases = [q.case for q in running.questions.select_related("case")]
    assert sorted(c.state for c in running_cases) == ["answered", "answered", "asked", "asked"]
    assert all(c.due_at is not None for c in running_cases if c.state == "asked")
    assert running.status == MeetingStatus.PLANNED and running.published_at is None
    assert set(Topic.objects.values_list("state", flat=True)) == set(TopicState.values)

    before = _counts()
    demo_city_build()
    assert _counts() == before
