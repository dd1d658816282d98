"""Every public opinion followed to an answer (civicloop/budgeting/views_answers.py and the
answer selectors): proposals screened out show their reason, merged ones point to what
they went into, plenary questions show the expert's answer; the staff see what is still
unanswered, with counts; nothing is published unanswered."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.models import BudgetProject, Phase, PlenaryQuestion
from civicloop.budgeting.selectors import opinion_counts
from civicloop.budgeting.services import (
    plenary_question_answer,
    plenary_question_ask,
    process_phase_advance,
    project_merge,
    project_screen,
)
from tests.budgeting.conftest import make_process


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def answered(city: None) -> dict[str, Any]:
    """A process in deliberation: four proposals (accepted, screened out, merged, one
    left unscreened on purpose) and two plenary questions, one answered."""
    process = make_process(phase=Phase.SCREENING)

    def propose(title: str, source: str = "public") -> BudgetProject:
        return BudgetProject.objects.create(
            process=process,
            title=title,
            cost=100_000,
            source=source,
            contact_phone="13912345678",
        )

    bridge, far, dup, late = (propose(t) for t in ("人行天桥", "跨海大桥", "天桥", "公厕"))
    project_screen(project=bridge, accept=True, reason="", actor=None)
    project_screen(project=far, accept=False, reason="超出镇级事权，已转市交通局。", actor=None)
    project_merge(project=dup, into=bridge, reason="与人行天桥重复。", actor=None)
    # ``late`` stays unscreened.
    process.phase = Phase.DELIBERATION
    process.save(update_fields=["phase"])
    asked = plenary_question_ask(process=process, text="天桥会挡住店面吗？", project=bridge)
    plenary_question_answer(
        question=asked, answer="楼梯设在绿化带内，不挡店面。", answered_by="镇规划所"
    )
    pending = plenary_question_ask(process=process, text="维护费谁出？")
    return {
        "process": process,
        "bridge": bridge,
        "far": far,
        "dup": dup,
        "late": late,
        "pending": pending,
    }


def test_counts_every_proposal_and_question_and_what_is_answered(answered: Any) -> None:
    counts = opinion_counts(answered["process"])
    assert (counts.projects, counts.projects_answered) == (4, 3)
    assert (counts.questions, counts.questions_answered) == (2, 1)
    assert (counts.total, counts.answered, counts.pending) == (6, 4, 2)


def test_the_public_sees_every_answer(answered: Any) -> None:
    process = answered["process"]
    page = Client().get(f"/budget/{process.code}/")
    assert "6 条意见，已答复 4 条" in page.content.decode()

    html = Client().get(f"/budget/{process.code}/answers/").content.decode()
    assert "超出镇级事权，已转市交通局。" in html  # the screened-out reason
    assert f'data-merged-into="{answered["bridge"].pk}"' in html  # merged: points to it
    assert "楼梯设在绿化带内，不挡店面。" in html and "镇规划所" in html  # the expert's answer
    assert "待专家答复" in html and "待初审答复" in html  # the unanswered are shown as such
    assert "13912345678" not in html and "1391234" not in html  # contact data never

    # The proposer's own page: the answer, and the plenary question about it.
    far = Client().get(f"/budget/{process.code}/p/{answered['far'].pk}/").content.decode()
    assert 'data-answer="rejected"' in far and "超出镇级事权" in far
    dup = Client().get(f"/budget/{process.code}/p/{answered['dup'].pk}/").content.decode()
    assert f"/budget/{process.code}/p/{answered['bridge'].pk}/" in dup
    bridge = Client().get(f"/budget/{process.code}/p/{answered['bridge'].pk}/").content.decode()
    assert "不挡店面" in bridge  # the plenary answer about it
    assert f"/budget/{process.code}/p/{answered['dup'].pk}/" in bridge  # what merged into it
    assert Client().get(f"/budget/{process.code}/p/999999/").status_code == 404
    other = make_process(code="other-town")
    assert Client().get(f"/budget/{other.code}/p/{answered['far'].pk}/").status_code == 404


def test_staff_follow_up_lists_the_unanswered_and_records_answers(
    answered: Any, town_staff: Any, other_staff: Any
) -> None:
    process = answered["process"]
    url = f"/budget/{process.code}/followup/"
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert _as(other_staff).get(url).status_code == 403
    refused = _as(other_staff).post(
        url, {"op": "answer", "question": answered["pending"].pk, "answer": "x", "answered_by": "y"}
    )
    assert refused.status_code == 403
    staff = _as(town_staff)
    html = staff.get(url).content.decode()
    assert 'data-pending="2"' in html
    assert 'data-unscreened="1"' in html and "公厕" in html
    assert 'data-unanswered="1"' in html and "维护费谁出？" in html
    home = staff.get("/budget/staff/").content.decode()
    assert 'data-pending="2"' in home and "未答复 2 条" in home

    # An answer needs its text and who gave it.
    empty = staff.post(
        url, {"op": "answer", "question": answered["pending"].pk, "answer": "", "answered_by": ""}
    )
    assert empty.status_code == 400
    ok = staff.post(
        url,
        {
            "op": "answer",
            "question": answered["pending"].pk,
            "answer": "由村集体经济承担，镇财政补助一半。",
            "answered_by": "镇财政所",
        },
    )
    assert ok.status_code == 302
    answered["pending"].refresh_from_db()
    assert answered["pending"].answered_by == "镇财政所" and answered["pending"].answered_at
    # A group's question is recorded on the day.
    group_q = staff.post(url, {"op": "ask", "text": "路灯用太阳能吗？", "project": ""})
    assert group_q.status_code == 302
    assert PlenaryQuestion.objects.filter(process=process, text="路灯用太阳能吗？").exists()
    assert 'data-unanswered="1"' in staff.get(url).content.decode()
    assert staff.post(url, {"op": "nonsense"}).status_code == 404


def test_nothing_is_published_with_a_question_unanswered(answered: Any) -> None:
    process = answered["process"]
    process_phase_advance(process=process, to=Phase.EXECUTION)
    with pytest.raises(BudgetError) as refused:
        process_phase_advance(process=process, to=Phase.PUBLISHED)
    assert refused.value.code == BudgetErrorCode.PHASE and "1 个小组提问未答复" in str(
        refused.value.message
    )
    plenary_question_answer(question=answered["pending"], answer="村里出。", answered_by="镇财政所")
    assert process_phase_advance(process=process, to=Phase.PUBLISHED).phase == Phase.PUBLISHED
