"""Process steps, invitations and small groups (civicloop/budgeting/services.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.hooks import INVITE_TEMPLATE
from civicloop.budgeting.models import PanelMember, Phase
from civicloop.budgeting.services import (
    ProjectProposal,
    frame_import_csv,
    groups_form,
    panel_draw,
    panel_invite,
    process_phase_advance,
    project_propose,
    project_screen,
)
from civicloop.notify.templates import render
from tests.budgeting.conftest import add_projects, frame_csv, make_process
from tests.sms_inbox import SmsInbox


def test_phases_only_move_forward_and_screening_must_be_finished(process: Any) -> None:
    (pending,) = add_projects(process, [50_000], status="proposed")
    process_phase_advance(process=process, to=Phase.SCREENING)
    with pytest.raises(BudgetError) as back:
        process_phase_advance(process=process, to=Phase.COLLECTING)
    assert back.value.code == BudgetErrorCode.PHASE
    with pytest.raises(BudgetError, match="1 个项目未初审"):
        process_phase_advance(process=process, to=Phase.SAMPLING)
    project_screen(project=pending, accept=True, reason="", actor=None)
    assert process_phase_advance(process=process, to=Phase.SAMPLING).phase == Phase.SAMPLING


def test_a_proposal_is_refused_outside_collecting_or_over_budget(process: Any) -> None:
    proposal = ProjectProposal(title="大桥", description="", cost=2_000_000, source="public")
    with pytest.raises(BudgetError) as over:
        project_propose(process=process, proposal=proposal)
    assert over.value.field == "cost"
    process_phase_advance(process=process, to=Phase.SCREENING)
    with pytest.raises(BudgetError) as late:
        project_propose(process=process, proposal=ProjectProposal("小桥", "", 1000, "public"))
    assert late.value.code == BudgetErrorCode.PHASE


@pytest.fixture
def drawn(city: None) -> Any:
    process = make_process(
        phase=Phase.SCREENING, panel_size=24, panel_reserve=3, panel_features=["sex_group", "band"]
    )
    frame_import_csv(process=process, stream=frame_csv(300))
    return panel_draw(process=process, seed=8)


def test_invitations_go_out_by_sms_once(drawn: Any, sms_inbox: SmsInbox, settings: Any) -> None:
    settings.SITE_URL = "https://mz.wenling.gov.cn"
    # When the drawn members are invited (twice)
    assert panel_invite(draw=drawn, when="4月9日上午", place="镇政府大会堂") == 24
    assert panel_invite(draw=drawn, when="4月9日上午", place="镇政府大会堂") == 0
    # Then each drawn member (not the reserves) got one SMS naming the day and place,
    # with the link of their own page: only the ticket is a variable
    member = drawn.members.filter(reserve=False).select_related("frame_row").first()
    received = sms_inbox.messages(member.frame_row.phone)
    assert len(received) == 1
    assert received[0]["template_param"] == {
        "process": "泽国镇2026年",
        "date": "4月9日上午",
        "place": "镇政府大会堂",
        "ticket": member.ticket,
    }
    assert len(member.ticket) <= 35
    text = render(INVITE_TEMPLATE, received[0]["template_param"])
    assert f"https://mz.wenling.gov.cn/budget/t/{member.ticket}/" in text
    reserve = drawn.members.filter(reserve=True).select_related("frame_row").first()
    assert sms_inbox.messages(reserve.frame_row.phone) == []
    assert not drawn.members.filter(reserve=False, invited_at__isnull=True).exists()


def test_groups_are_balanced_on_the_strata(drawn: Any) -> None:
    groups = groups_form(process=drawn.process, count=4, facilitators=["赵老师", "钱老师"])
    assert [g.facilitator for g in groups] == ["赵老师", "钱老师", "", ""]
    members = PanelMember.objects.filter(draw=drawn, reserve=False).select_related("frame_row")
    sizes = Counter(m.group_id for m in members)
    assert sorted(sizes.values()) == [6, 6, 6, 6]
    # every stratum (sex × band) spreads over the groups within one member
    by_stratum: dict[tuple[str, str], Counter[int]] = {}
    for m in members:
        key = (m.frame_row.strata["sex_group"], m.frame_row.strata["band"])
        by_stratum.setdefault(key, Counter())[m.group_id] += 1
    for key, counts in by_stratum.items():
        spread = [counts.get(g.pk, 0) for g in groups]
        assert max(spread) - min(spread) <= 1, (key, spread)
    # re-forming replaces the groups
    assert len(groups_form(process=drawn.process, count=3)) == 3
    assert drawn.process.groups.count() == 3
