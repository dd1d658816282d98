"""The panel's staff pages (civicloop/budgeting/views_panel.py and their services): strata
quotas edited before the draw, designated members (marked in the frame or added by name)
within their share, and a reserve of the same stratum called up when a member declines."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.budgeting.ballots import ballot_open, panel_member_by_ticket
from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.models import FrameRow, PanelMember, Phase, Wave
from civicloop.budgeting.services import (
    designated_add,
    frame_import_csv,
    frame_people,
    member_rsvp,
    panel_draw,
    panel_invite,
    questionnaire_answer,
    questionnaire_create,
    reserve_call_up,
)
from tests.budgeting.conftest import add_projects, frame_csv, make_process
from tests.sms_inbox import SmsInbox


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _framed(**kwargs: Any) -> Any:
    process = make_process(phase=Phase.SCREENING, panel_features=["sex_group", "band"], **kwargs)
    frame_import_csv(process=process, stream=frame_csv(300))
    return process


def _quota_post(rows: list[tuple[str, str, str, str]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "panel_size": 20,
        "panel_reserve": 4,
        "designated_share": 0,
        "panel_features": "sex_group, band",
        "rows": len(rows),
        "op": "save",
        **extra,
    }
    for i, (feature, value, low, high) in enumerate(rows):
        data |= {
            f"q{i}_feature": feature,
            f"q{i}_value": value,
            f"q{i}_min": low,
            f"q{i}_max": high,
        }
    return data


QUOTAS = [
    ("band", "18-39", "6", "9"),
    ("band", "40-59", "3", "6"),
    ("band", "60+", "7", "10"),
    ("sex_group", "女", "10", "10"),
    ("sex_group", "男", "10", "10"),
]


def test_quotas_are_set_on_the_page_before_the_draw_and_the_draw_meets_them(
    city: None, town_staff: Any, other_staff: Any
) -> None:
    process = _framed()
    url = f"/budget/{process.code}/quotas/"
    assert Client().get(url).status_code == 302
    assert _as(other_staff).get(url).status_code == 403
    assert _as(other_staff).post(url, _quota_post(QUOTAS)).status_code == 403
    staff = _as(town_staff)
    page = staff.get(url).content.decode()
    # every stratum of the frame is a row, with its population and a suggestion
    assert 'data-stratum="band=60+"' in page and 'data-stratum="sex_group=女"' in page

    # Quotas no panel can meet are refused with the stratum named; nothing is saved.
    impossible = staff.post(
        url, _quota_post([*QUOTAS[:3], ("sex_group", "女", "15", "20"), QUOTAS[4]])
    )
    assert (
        impossible.status_code == 422
        and "sex_group：各层下限合计 25" in impossible.content.decode()
    )
    # A table half filled is refused too.
    half = staff.post(url, _quota_post([*QUOTAS[:4], ("sex_group", "男", "", "")]))
    assert half.status_code == 400 and "全部留空" in half.content.decode()
    process.refresh_from_db()
    assert process.panel_quotas == [] and process.panel_size != 20

    assert staff.post(url, _quota_post(QUOTAS)).status_code == 302
    process.refresh_from_db()
    assert process.panel_size == 20 and process.panel_reserve == 4
    assert {(q["feature"], q["value"], q["min"], q["max"]) for q in process.panel_quotas} == {
        (f, v, int(lo), int(hi)) for f, v, lo, hi in QUOTAS
    }
    # The draw uses them: exactly 10 women and 10 men.
    draw = panel_draw(process=process, seed=5)
    assert draw.quotas == process.panel_quotas
    sexes = [
        m.frame_row.strata["sex_group"]
        for m in draw.members.filter(reserve=False).select_related("frame_row")
    ]
    assert sorted(sexes).count("女") == 10 and len(sexes) == 20
    # "proportional" clears the quotas again.
    assert staff.post(url, _quota_post(QUOTAS, op="proportional")).status_code == 302
    process.refresh_from_db()
    assert process.panel_quotas == []
    # Once the deliberation has begun the settings are closed.
    process.phase = Phase.DELIBERATION
    process.save(update_fields=["phase"])
    late = staff.post(url, _quota_post(QUOTAS))
    assert late.status_code == 409


def _frame_with_designated() -> io.StringIO:
    text = frame_csv(200).getvalue().splitlines()
    out = [text[0] + ",designated"]
    for i, line in enumerate(text[1:]):
        out.append(line + ("," + ("人大代表" if i < 3 else "是" if i < 5 else "")))
    return io.StringIO("\n".join(out) + "\n")


def test_designated_members_are_never_drawn_and_seated_within_their_share(
    city: None, town_staff: Any
) -> None:
    process = make_process(
        phase=Phase.SCREENING,
        panel_size=20,
        panel_reserve=4,
        designated_share=20,
        panel_features=["sex_group", "band"],
    )
    frame_import_csv(process=process, stream=_frame_with_designated())
    marked = list(
        FrameRow.objects.filter(process=process).exclude(designated_as="").order_by("frame_id")
    )
    assert [r.designated_as for r in marked] == ["人大代表"] * 3 + ["指定代表"] * 2
    assert "designated" not in marked[0].strata  # a marker, not a stratum
    assert len(frame_people(process)) == 195  # the lottery never sees them
    draw = panel_draw(process=process, seed=11)
    assert draw.members.count() == 16 + 4  # 20 % of 20 seats left for designation
    assert not draw.members.filter(frame_row__in=marked).exists()

    staff = _as(town_staff)
    url = f"/budget/{process.code}/roster/"
    page = staff.get(url).content.decode()
    assert 'data-designated="0/4"' in page and f'data-row="{marked[0].pk}"' in page
    assert marked[0].name not in page  # names masked
    for row in marked[:3]:
        assert staff.post(url, {"op": "designate_row", "row": row.pk}).status_code == 302
    assert (
        staff.post(url, {"op": "designate_name", "name": "王村长", "role": "村干部"}).status_code
        == 302
    )
    seated = draw.members.filter(designated=True)
    assert seated.count() == 4
    assert set(seated.values_list("designated_as", flat=True)) == {"人大代表", "村干部"}
    # The share is full: a fifth is refused, the page says so.
    full = staff.post(url, {"op": "designate_row", "row": marked[3].pk}, follow=True)
    assert "指定代表名额（4 人）已满" in full.content.decode()
    assert draw.members.filter(designated=True).count() == 4
    with pytest.raises(BudgetError):
        designated_add(draw=draw, frame_row=marked[0])  # already seated (and full)
    # Removing one frees the seat; the representativeness counts only those drawn by lot.
    wang = seated.get(designated_as="村干部")
    assert staff.post(url, {"op": "undesignate", "member": wang.pk}).status_code == 302
    assert draw.members.filter(designated=True).count() == 3


@pytest.fixture
def drawn(city: None) -> Any:
    process = make_process(
        phase=Phase.SCREENING, panel_size=24, panel_reserve=12, panel_features=["sex_group"]
    )
    frame_import_csv(process=process, stream=frame_csv(300))
    return panel_draw(process=process, seed=8)


def test_a_member_who_declines_is_replaced_by_a_reserve_of_the_same_stratum(
    drawn: Any, town_staff: Any, other_staff: Any, sms_inbox: SmsInbox
) -> None:
    process = drawn.process
    assert panel_invite(draw=drawn, when="4月9日", place="镇大会堂") == 24
    member = drawn.members.filter(reserve=False).select_related("frame_row").first()
    url = f"/budget/{process.code}/roster/"
    # Only a member who declined is replaced.
    staff = _as(town_staff)
    early = staff.post(url, {"op": "call_up", "member": member.pk}, follow=True)
    assert "只有回复不参加的代表" in early.content.decode()
    member_rsvp(member=member, attending=False)
    assert _as(other_staff).post(url, {"op": "call_up", "member": member.pk}).status_code == 403
    assert staff.post(url, {"op": "call_up", "member": member.pk}).status_code == 302

    reserve = PanelMember.objects.select_related("frame_row").get(replaces=member)
    stratum = member.frame_row.strata["sex_group"]
    assert reserve.frame_row.strata["sex_group"] == stratum
    first_of_stratum = min(
        (
            r
            for r in drawn.members.filter(reserve=True).select_related("frame_row")
            if r.frame_row.strata["sex_group"] == stratum
        ),
        key=lambda r: r.reserve_rank,
    )
    assert reserve.pk == first_of_stratum.pk  # in the published order
    assert reserve.called_at and reserve.called_by == town_staff
    page = staff.get(url).content.decode()
    assert f'data-replaced-by="{reserve.pk}"' in page
    # Twice is refused; the called reserve alone is invited now, with its own link.
    with pytest.raises(BudgetError):
        reserve_call_up(member=member, actor=town_staff)
    assert panel_invite(draw=drawn, when="4月9日", place="镇大会堂") == 1
    assert (
        sms_inbox.messages(reserve.frame_row.phone)[0]["template_param"]["ticket"] == reserve.ticket
    )

    # The called reserve answers and votes as a member; a waiting one does not.
    waiting = drawn.members.filter(reserve=True, called_at__isnull=True).first()
    process.phase = Phase.DELIBERATION
    process.save(update_fields=["phase"])
    add_projects(process, [100_000])
    t1 = questionnaire_create(process=process, wave=Wave.T1, title="T1")
    (project,) = process.projects.all()
    assert questionnaire_answer(questionnaire=t1, member=reserve, ratings={project.pk: 7})
    with pytest.raises(BudgetError) as refused:
        questionnaire_answer(questionnaire=t1, member=waiting, ratings={project.pk: 7})
    assert refused.value.code == BudgetErrorCode.FORBIDDEN
    now = timezone.now()
    ballot_open(
        process=process,
        title="投票",
        kind="approval",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(hours=1),
    )
    assert panel_member_by_ticket(process=process, ticket=reserve.ticket) == reserve
    assert panel_member_by_ticket(process=process, ticket=waiting.ticket) is None


def test_no_reserve_left_in_the_stratum_is_refused_with_the_stratum_named(drawn: Any) -> None:
    member = drawn.members.filter(reserve=False).select_related("frame_row").first()
    stratum = member.frame_row.strata["sex_group"]
    # every reserve of that stratum is used up (they declined too)
    for r in drawn.members.filter(reserve=True).select_related("frame_row"):
        if r.frame_row.strata["sex_group"] == stratum:
            r.rsvp = PanelMember.Rsvp.NO
            r.save(update_fields=["rsvp"])
    member_rsvp(member=member, attending=False)
    with pytest.raises(BudgetError) as refused:
        reserve_call_up(member=member, actor=None)
    assert f"sex_group={stratum}" in str(refused.value.message)
    assert not PanelMember.objects.filter(replaces=member).exists()
