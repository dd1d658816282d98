"""The T1/T2 analysis against small examples worked by hand (civicloop/budgeting/analysis.py,
selectors.poll_analysis, services.questionnaire_answer)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from civicloop.budgeting.analysis import funded_down_the_ranking, paired_test, pairs
from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.models import PanelDraw, PanelMember, Phase, Wave
from civicloop.budgeting.selectors import poll_analysis
from civicloop.budgeting.services import questionnaire_answer, questionnaire_create
from tests.budgeting.conftest import add_projects, make_process


def test_paired_tests_match_the_hand_computation() -> None:
    # Five members' scores before and after: the changes are 1, 2, 3, 4, 5.
    before = [5, 6, 7, 8, 4]
    after = [6, 8, 10, 12, 9]
    result = paired_test(before, after)
    # mean change 3; sd of the changes sqrt(2.5); t = 3 / (sqrt(2.5) / sqrt(5)) = sqrt(18)
    assert result.n == 5
    assert result.mean_before == pytest.approx(6.0)
    assert result.mean_after == pytest.approx(9.0)
    assert result.mean_change == pytest.approx(3.0)
    assert result.t_statistic == pytest.approx(math.sqrt(18), rel=1e-9)
    # Student's t with 4 degrees of freedom, in closed form:
    # F(t) = 1/2 + 3/8 * t / sqrt(1 + t²/4) * (1 - t² / (12 (1 + t²/4)))
    t = math.sqrt(18)
    cdf = 0.5 + 3 / 8 * t / math.sqrt(1 + t * t / 4) * (1 - t * t / (12 * (1 + t * t / 4)))
    assert result.t_pvalue == pytest.approx(2 * (1 - cdf), rel=1e-6)
    assert result.t_pvalue == pytest.approx(0.01323, abs=1e-5)
    # Wilcoxon: every change positive, no ties: W- = 0, exact p = 2 / 2^5
    assert result.wilcoxon_statistic == 0
    assert result.wilcoxon_pvalue == pytest.approx(2 / 32)


def test_no_change_or_too_few_pairs_gives_no_test() -> None:
    same = paired_test([5, 6, 7], [5, 6, 7])
    assert same.mean_change == 0 and same.t_pvalue is None and same.wilcoxon_pvalue is None
    one = paired_test([3], [9])
    assert one.mean_change == 6 and one.t_pvalue is None
    assert paired_test([], []).n == 0


def test_pairs_keep_only_members_in_both_waves() -> None:
    assert pairs({1: 4.0, 2: 5.0, 3: 6.0}, {2: 7.0, 3: 8.0, 4: 1.0}) == ([5.0, 6.0], [7.0, 8.0])


def test_funding_goes_down_the_t2_ranking_and_stops_at_the_first_that_does_not_fit() -> None:
    ranked = funded_down_the_ranking(
        projects=[
            (1, "道路", 500, 6.0),
            (2, "污水", 300, 8.5),
            (3, "操场", 400, 7.0),
            (4, "公园", 100, 5.0),
            (5, "桥梁", 200, None),
        ],
        budget=800,
    )
    assert [r.id for r in ranked] == [2, 3, 1, 4, 5]
    # 300 + 400 = 700; the road (500) does not fit, and nothing below it is funded
    assert [r.funded for r in ranked] == [True, True, False, False, False]
    assert ranked[1].cumulative_cost == 700


def _panel(process: Any, n: int) -> list[PanelMember]:
    draw = PanelDraw.objects.create(
        process=process, seed=1, size=n, reserve=0, quotas=[], frame_digest="x", frame_size=n
    )
    return [PanelMember.objects.create(draw=draw, ticket=f"ticket-{i}") for i in range(n)]


KNOWLEDGE = [
    {"id": "k1", "text": "预算多少？", "options": ["少", "多"], "answer": 1},
    {"id": "k2", "text": "谁审议？", "options": ["人大", "村委"], "answer": 0},
]


def test_poll_analysis_pairs_members_across_waves(city: None) -> None:
    process = make_process(phase=Phase.SAMPLING, total_budget=900)
    road, sewer = add_projects(process, [600, 500])
    a, b, c = _panel(process, 3)
    t1 = questionnaire_create(process=process, wave=Wave.T1, title="T1", knowledge_items=KNOWLEDGE)
    t2 = questionnaire_create(process=process, wave=Wave.T2, title="T2", knowledge_items=KNOWLEDGE)
    # T1 (before): road 4, 5, 6; sewer 8, 8, 7; knowledge 1, 2, 1 right (k1: 1, k2: 0)
    for m, r, s, k in ((a, 4, 8, (0, 0)), (b, 5, 8, (1, 0)), (c, 6, 7, (1, 1))):
        questionnaire_answer(
            questionnaire=t1,
            member=m,
            ratings={road.pk: r, sewer.pk: s},
            knowledge={"k1": k[0], "k2": k[1]},
        )
    process.phase = Phase.DELIBERATION
    process.save(update_fields=["phase"])
    # T2 (after), member c did not answer: road 7, 9; sewer 6, 5; knowledge 2, 2 right
    for m, r, s in ((a, 7, 6), (b, 9, 5)):
        questionnaire_answer(
            questionnaire=t2,
            member=m,
            ratings={str(road.pk): str(r), str(sewer.pk): s},
            knowledge={"k1": 1, "k2": 0},
        )
    result = poll_analysis(process)
    by_id = {p.project_id: p.test for p in result.projects}
    # road: pairs (4,7), (5,9): mean 4.5 -> 8, change 3.5
    assert by_id[road.pk].n == 2
    assert by_id[road.pk].mean_before == pytest.approx(4.5)
    assert by_id[road.pk].mean_after == pytest.approx(8.0)
    # sewer: pairs (8,6), (8,5): change -2.5
    assert by_id[sewer.pk].mean_change == pytest.approx(-2.5)
    # knowledge: (1 -> 2), (2 -> 2): mean 1.5 -> 2
    assert result.knowledge.mean_before == pytest.approx(1.5)
    assert result.knowledge.mean_after == pytest.approx(2.0)
    assert (result.respondents_t1, result.respondents_t2) == (3, 2)
    # ranking by T2 mean: road 8.0 (600 fits in 900), sewer 5.5 (500 does not)
    assert [(r.id, r.funded) for r in result.ranking] == [(road.pk, True), (sewer.pk, False)]


def test_an_answer_must_rate_every_project_once(city: None) -> None:
    process = make_process(phase=Phase.SAMPLING)
    road, sewer = add_projects(process, [600, 500])
    (member,) = _panel(process, 1)
    t1 = questionnaire_create(process=process, wave=Wave.T1, title="T1")
    with pytest.raises(BudgetError) as missing:
        questionnaire_answer(questionnaire=t1, member=member, ratings={road.pk: 5})
    assert missing.value.field == f"p_{sewer.pk}"
    with pytest.raises(BudgetError, match="0–10"):
        questionnaire_answer(questionnaire=t1, member=member, ratings={road.pk: 5, sewer.pk: 11})
    questionnaire_answer(questionnaire=t1, member=member, ratings={road.pk: 5, sewer.pk: 10})
    with pytest.raises(BudgetError) as again:
        questionnaire_answer(questionnaire=t1, member=member, ratings={road.pk: 5, sewer.pk: 10})
    assert again.value.code == BudgetErrorCode.ANSWERED
    # T2 is refused before the deliberation
    t2 = questionnaire_create(process=process, wave=Wave.T2, title="T2")
    with pytest.raises(BudgetError) as early:
        questionnaire_answer(questionnaire=t2, member=member, ratings={road.pk: 5, sewer.pk: 10})
    assert early.value.code == BudgetErrorCode.PHASE
