"""Reminders before the deadline and escalations after it, each exactly once."""

from __future__ import annotations

import pytest

from civicloop.core.cases.models import CaseStep
from civicloop.core.cases.services import transition
from civicloop.core.cases.sweeps import sla_sweep
from civicloop.core.outbox.models import OutboxMessage
from tests.core.cases.helpers import at, opinion, unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def handling_case() -> str:
    case = opinion(now=at("2026-11-02 10:00"))
    transition(case=case, action="accept", actor=user("station_zeguo"), now=at("2026-11-02 10:00"))
    transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        grade="town",
        now=at("2026-11-02 10:00"),
    )
    transition(case=case, action="claim", actor=user("handler_zeguo"), now=at("2026-11-02 11:00"))
    return case.number


def notices(number: str, title: str) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(reference=number, kind="dingtalk_work", template=title)
    )


def test_reminder_then_leader_then_supervisor_each_once(demo_city: None) -> None:
    number = handling_case()  # due 2026-11-16 17:30
    step = CaseStep.objects.get(case__number=number, ended_at__isnull=True)
    assert step.remind_at is not None and step.remind_at < step.due_at

    # Before the reminder time nothing happens.
    assert sla_sweep(now=at("2026-11-10 09:00"))["reminded"] == 0

    # On the last working day the holder is reminded, once however often the sweep runs.
    assert sla_sweep(now=at("2026-11-16 09:00"))["reminded"] >= 1
    assert sla_sweep(now=at("2026-11-16 09:05"))["reminded"] == 0
    reminders = notices(number, "即将到期提醒")
    assert len(reminders) == 1 and "ding-handler_zeguo" in reminders[0].payload["userids"]

    # Overdue: the unit leader is told, once.
    sla_sweep(now=at("2026-11-16 18:00"))
    sla_sweep(now=at("2026-11-16 18:30"))
    leader = notices(number, "超期督办")
    assert len(leader) == 1 and leader[0].payload["userids"] == [
        "ding-leader_zeguo",
        "ding-town-331081100",
    ]

    # One more working day overdue: up to the supervising unit, once.
    sla_sweep(now=at("2026-11-17 18:00"))
    sla_sweep(now=at("2026-11-18 18:00"))
    up = notices(number, "超期上报")
    assert len(up) == 1 and "ding-supervision" in up[0].payload["userids"]
    step.refresh_from_db()
    assert step.escalation_level == 2


def test_a_closed_step_is_never_reminded(demo_city: None) -> None:
    number = handling_case()
    transition(
        case=CaseStep.objects.get(case__number=number, ended_at__isnull=True).case,
        action="submit_result",
        actor=user("handler_zeguo"),
        note="已办理",
        now=at("2026-11-03 10:00"),
    )
    sla_sweep(now=at("2026-11-16 18:00"))
    town_step = CaseStep.objects.get(case__number=number, state="handling")
    assert town_step.ended_at is not None and town_step.escalation_level == 0
    assert town_step.reminded_at is None
    # The open step is now the station's rating step; only its leader is told.
    for message in notices(number, "超期督办"):
        assert "ding-leader_zeguo" not in message.payload["userids"]


def test_the_sweep_is_recorded_in_the_timeline(demo_city: None) -> None:
    number = handling_case()
    sla_sweep(now=at("2026-11-16 09:00"))
    sla_sweep(now=at("2026-11-16 18:00"))
    from civicloop.core.cases.models import Case

    actions = list(Case.objects.get(number=number).timeline.values_list("action", flat=True))
    assert actions[-2:] == ["remind", "overdue"]
