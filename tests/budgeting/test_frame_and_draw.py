"""The sampling frame and the panel draw (civicloop/budgeting/services.py, draw.py)."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command

from civicloop.budgeting.draw import FramePerson, Quota, panel_compute
from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.models import FrameRow, PanelMember, Phase
from civicloop.budgeting.services import frame_import_csv, panel_draw
from tests.budgeting.conftest import frame_csv, make_process

QUOTAS = [
    {"feature": "band", "value": "18-39", "min": 12, "max": 14},
    {"feature": "band", "value": "40-59", "min": 8, "max": 12},
    {"feature": "band", "value": "60+", "min": 14, "max": 20},
    {"feature": "sex_group", "value": "男", "min": 18, "max": 22},
    {"feature": "sex_group", "value": "女", "min": 18, "max": 22},
]


def _sampling_process(**kwargs: Any) -> Any:
    process = make_process(
        phase=Phase.SCREENING,
        panel_size=40,
        panel_reserve=5,
        panel_features=["sex_group", "band"],
        **kwargs,
    )
    frame_import_csv(process=process, stream=frame_csv(400))
    process.panel_quotas = QUOTAS
    process.save(update_fields=["panel_quotas"])
    return process


def test_frame_import_stores_strata_and_encrypts_the_contact(city: None) -> None:
    # Given a process collecting, when a frame of 50 is imported
    process = make_process(panel_features=["sex_group", "band"])
    assert frame_import_csv(process=process, stream=frame_csv(50)) == 50
    # Then each row keeps its strata, and name and phone are not stored in clear
    row = FrameRow.objects.get(process=process, frame_id="P0003")
    assert set(row.strata) == {"sex_group", "band"}
    assert row.phone == "13800000003" and row.name == "居民3"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, name FROM budgeting_framerow WHERE id = %s", [row.pk])
        phone_raw, name_raw = cursor.fetchone()
    assert "13800000003" not in phone_raw and "居民3" not in name_raw
    assert row.phone_digest and row.phone_digest != "13800000003"


def test_frame_import_is_all_or_nothing_and_names_the_bad_lines(city: None) -> None:
    process = make_process(panel_features=["sex_group", "band"])
    frame_import_csv(process=process, stream=frame_csv(10))
    # Given a file with a duplicate id (line 4 repeats line 2's) and an empty stratum (line 6)
    bad = io.StringIO(
        "id,name,phone,age,sex,sex_group,band\n"
        "A1,甲,,40,男,男,40-59\n"
        "A2,乙,,41,女,女,60+\n"
        "A1,丙,,42,男,男,18-39\n"
        "A4,丁,,43,女,女,60+\n"
        "A5,戊,,44,男,男,\n"
    )
    with pytest.raises(BudgetError) as refused:
        frame_import_csv(process=process, stream=bad)
    # Then it is refused naming both lines, and the earlier frame is untouched
    assert refused.value.code == BudgetErrorCode.FRAME
    message = refused.value.message
    assert "第 4 行" in message and "A1" in message and "第 2 行" in message
    assert "第 6 行" in message and "band" in message
    assert "第 3 行" not in message
    assert FrameRow.objects.filter(process=process).count() == 10


def test_frame_import_refuses_a_file_without_the_strata_columns(city: None) -> None:
    process = make_process(panel_features=["sex_group", "district"])
    with pytest.raises(BudgetError, match="district"):
        frame_import_csv(process=process, stream=frame_csv(5))
    assert not FrameRow.objects.filter(process=process).exists()


def test_the_draw_is_reproducible_and_meets_the_quotas(city: None) -> None:
    # Given two processes with the same frame and quotas
    first, second = _sampling_process(code="a-draw"), _sampling_process(code="b-draw")
    # When both are drawn with the same seed
    draw_a = panel_draw(process=first, seed=4242)
    draw_b = panel_draw(process=second, seed=4242)

    def ids(draw: Any, reserve: bool) -> list[str]:
        return list(
            draw.members.filter(reserve=reserve)
            .order_by("reserve_rank", "frame_row__frame_id")
            .values_list("frame_row__frame_id", flat=True)
        )

    # Then they pick the same people and the same reserves in the same order
    assert ids(draw_a, False) == ids(draw_b, False)
    assert ids(draw_a, True) == ids(draw_b, True)
    assert len(ids(draw_a, False)) == 40 and len(ids(draw_a, True)) == 5
    assert not set(ids(draw_a, False)) & set(ids(draw_a, True))
    assert draw_a.frame_digest == draw_b.frame_digest
    # And every quota is met
    strata = FrameRow.objects.filter(frame_id__in=ids(draw_a, False), process=first)
    counts = Counter((f, s[f]) for s in strata.values_list("strata", flat=True) for f in s)
    for q in QUOTAS:
        assert q["min"] <= counts[(q["feature"], q["value"])] <= q["max"], q
    # And the process moved on to 抽样
    first.refresh_from_db()
    assert first.phase == Phase.SAMPLING
    # And another seed draws another panel
    assert panel_compute(
        frame=[FramePerson(r.frame_id, r.strata) for r in FrameRow.objects.filter(process=first)],
        quotas=[Quota(**q) for q in QUOTAS],  # type: ignore[arg-type]
        size=40,
        reserve=0,
        seed=99,
    ).selected != sorted(ids(draw_a, False))


def test_quotas_that_cannot_be_met_are_refused_naming_the_strata(city: None) -> None:
    process = _sampling_process()
    process.panel_quotas = [
        {"feature": "band", "value": "18-39", "min": 30, "max": 35},
        {"feature": "band", "value": "40-59", "min": 10, "max": 12},
        {"feature": "band", "value": "60+", "min": 10, "max": 20},
        {"feature": "band", "value": "90+", "min": 1, "max": 2},
        {"feature": "sex_group", "value": "男", "min": 18, "max": 22},
        {"feature": "sex_group", "value": "女", "min": 18, "max": 22},
    ]
    process.save(update_fields=["panel_quotas"])
    with pytest.raises(BudgetError) as refused:
        panel_draw(process=process, seed=1)
    assert refused.value.code == BudgetErrorCode.QUOTA
    assert refused.value.status == 422
    # the minimums of band add up to 51 > 40, and nobody in the frame is 90+
    assert "band：各层下限合计 51" in refused.value.message
    assert "band=90+" in refused.value.message
    assert not process.draws.exists()


def test_a_redraw_needs_a_new_seed_and_a_reason(city: None) -> None:
    process = _sampling_process()
    first = panel_draw(process=process, seed=11)
    with pytest.raises(BudgetError, match="新的随机种子"):
        panel_draw(process=process, seed=11, reason="有人搬走")
    with pytest.raises(BudgetError, match="理由"):
        panel_draw(process=process, seed=12)
    second = panel_draw(process=process, seed=12, reason="抽样框更新前误抽")
    assert second.reason == "抽样框更新前误抽"
    # the old draw's tickets no longer open a member's pages
    from civicloop.budgeting.services import member_by_ticket

    old = first.members.first()
    with pytest.raises(BudgetError):
        member_by_ticket(ticket=old.ticket)
    new = second.members.first()
    assert member_by_ticket(ticket=new.ticket).pk == new.pk


def test_budget_draw_command_prints_the_same_ids_for_the_same_seed(city: None) -> None:
    process = _sampling_process(code="cmd-draw")

    def run() -> list[str]:
        out = io.StringIO()
        call_command("budget_draw", process.code, "--seed", "777", stdout=out)
        return out.getvalue().strip().splitlines()

    first = run()
    assert first[-1] == "drawn=40 reserve=5 seed=777"
    ids = first[:-1]
    assert len(ids) == 40 and ids == sorted(ids) and all(i.startswith("P") for i in ids)
    stored = sorted(
        PanelMember.objects.filter(draw__process=process, reserve=False).values_list(
            "frame_row__frame_id", flat=True
        )
    )
    assert ids == stored
    # a second run with the seed re-computes and checks the stored draw: the same output
    assert run() == first
    assert process.draws.count() == 1
