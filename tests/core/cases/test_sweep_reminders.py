"""When the sweep reminds a holder: at the times the SLA policy gives, in the holder
unit's office hours (civicloop.core.sla.policy.remind_at), never at a wall-clock
fraction of the limit."""

from __future__ import annotations

import pytest

from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.cases.services import transition
from civicloop.core.cases.sweeps import sla_sweep
from tests.core.cases.helpers import at, opinion, unit, user

# needs_modules: builds its cases on the 民意 channel (collected only when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def claimed_by_the_town(*, at_time: str) -> Case:
    case = opinion(now=at(at_time))
    transition(case=case, action="accept", actor=user("station_zeguo"), now=at(at_time))
    transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        grade="town",
        now=at(at_time),
    )
    transition(case=case, action="claim", actor=user("handler_zeguo"), now=at(at_time))
    return case


def open_step(case: Case) -> CaseStep:
    return CaseStep.objects.get(case=case, ended_at__isnull=True)


def reminders(case: Case) -> int:
    return case.timeline.filter(action="remind").count()


def test_a_ten_day_dispatch_is_reminded_when_its_last_day_opens(demo_city: None) -> None:
    # Given a town-level dispatch of Mon 2026-11-02: 10 working days, due Mon 11-16 17:30
    case = claimed_by_the_town(at_time="2026-11-02 10:00")
    step = open_step(case)
    assert step.due_at == at("2026-11-16 17:30")
    # Then the reminder is set for the opening of that last day
    assert step.remind_at == at("2026-11-16 08:30")
    assert step.escalate_at == at("2026-11-17 17:30")

    # When the sweep runs a minute before, nothing; at the opening, the reminder
    sla_sweep(now=at("2026-11-16 08:29"))
    assert reminders(case) == 0
    sla_sweep(now=at("2026-11-16 08:30"))
    assert reminders(case) == 1


def test_the_reminder_follows_the_holders_own_office_hours(demo_city: None) -> None:
    # Given a town office open 09:00-12:00 and 13:30-18:00
    town = unit("town-331081100")
    town.office_hours = [["09:00", "12:00"], ["13:30", "18:00"]]
    town.save(update_fields=["office_hours"])
    # When a case is dispatched to it
    step = open_step(claimed_by_the_town(at_time="2026-11-02 10:00"))
    # Then its deadline is its own closing time and its reminder its own opening
    assert step.due_at == at("2026-11-16 18:00")
    assert step.remind_at == at("2026-11-16 09:00")


def test_a_case_received_at_closing_time_is_reminded_an_office_hour_before_its_deadline(
    demo_city: None,
) -> None:
    # Given an opinion received at 17:00, half an hour before the station closes: one
    # working day to accept it, due the next day at 17:30
    case = opinion(now=at("2026-11-02 17:00"))
    step = open_step(case)
    assert step.due_at == at("2026-11-03 17:30")
    # Then the reminder is not the next opening (which would come with the first
    # notice of the case) but one office hour before the deadline
    assert step.remind_at == at("2026-11-03 16:30")
    sla_sweep(now=at("2026-11-03 08:30"))
    assert reminders(case) == 0
    sla_sweep(now=at("2026-11-03 16:30"))
    assert reminders(case) == 1
