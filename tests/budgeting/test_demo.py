"""The `zeguo-demo` process (civicloop/budgeting/demo.py): complete, fast, idempotent."""

from __future__ import annotations

import time

from django.test import Client

from civicloop.budgeting.demo import CODE, demo_budget_load
from civicloop.budgeting.models import (
    BudgetProcess,
    FrameRow,
    PanelMember,
    Phase,
    QuestionnaireResponse,
)
from civicloop.budgeting.selectors import poll_analysis, representativeness


def test_the_demo_builds_a_whole_process_quickly_and_once(city: None) -> None:
    logged: list[str] = []
    started = time.perf_counter()
    demo_budget_load(logged.append)
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"demo took {elapsed:.1f}s"

    process = BudgetProcess.objects.get(code=CODE)
    assert process.town.name == "泽国镇"
    assert process.phase == Phase.CONGRESS
    assert FrameRow.objects.filter(process=process).count() == 12_000
    assert process.projects.filter(status="accepted").count() == 30
    assert process.projects.filter(status="rejected").count() == 2
    assert process.projects.filter(status="merged").count() == 1
    draw = process.draws.get()
    assert draw.published
    drawn = PanelMember.objects.filter(draw=draw, reserve=False).count()
    assert drawn == 275
    assert PanelMember.objects.filter(draw=draw, reserve=True).count() == 30
    attended = PanelMember.objects.filter(draw=draw, attended=True).count()
    assert 240 <= attended < 275
    assert (
        QuestionnaireResponse.objects.filter(questionnaire__process=process).count() == 2 * attended
    )
    # every stratum's quota is met by the panel
    for row in representativeness(draw):
        assert row.quota_min is not None and row.quota_max is not None
        assert row.quota_min <= row.drawn <= row.quota_max, row
    analysis = poll_analysis(process)
    assert analysis.knowledge.mean_after > analysis.knowledge.mean_before
    assert analysis.knowledge.t_pvalue is not None and analysis.knowledge.t_pvalue < 0.001
    funded = [r for r in analysis.ranking if r.funded]
    assert funded and sum(r.cost for r in funded) <= process.total_budget
    ballot = process.ballots.get()
    assert ballot.votes.count() > 200
    assert {o.rule for o in ballot.outcomes.all()} == {"greedy", "mes", "phragmen"}
    assert process.drafts.get().lines.exists()

    # the public pages and API read it
    client = Client()
    assert client.get(f"/budget/{CODE}/").status_code == 200
    assert client.get(f"/budget/{CODE}/results/").status_code == 200
    panel = client.get(f"/api/v1/budget/{CODE}/panel").json()
    assert panel["seed"] == draw.seed and panel["frame_size"] == 12_000
    assert client.get(f"/api/v1/budget/{CODE}/outcome?rule=mes").json()["projects"]

    # a second run changes nothing
    demo_budget_load(logged.append)
    assert BudgetProcess.objects.filter(code=CODE).count() == 1
    assert "already loaded" in logged[-1]
