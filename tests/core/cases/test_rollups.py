"""The case rollups equal a direct count of the cases, as cases arrive and move.

The direct counts are plain SQL over the case, step and timeline tables, written here
from the definitions (never through the rollup code), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from civicloop.core.areas.models import Area
from civicloop.core.cases.figures import (
    BREAKDOWNS,
    Figures,
    Scope,
    figures_by_channel,
    figures_grouped,
    figures_grouped_many,
)
from civicloop.core.cases.models import CaseFact, CaseRollup, RollupState
from civicloop.core.cases.rollups import rollup_rebuild, rollup_refresh
from civicloop.core.cases.services import transition
from tests.core.cases.direct_counts import direct_counts
from tests.core.cases.helpers import at, opinion, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

ZEGUO = "331081/331081100"
DAY0, DAY9 = date(2026, 1, 1), date(2026, 12, 31)


def rolled(
    *, area_path: str, day_from: date, day_to: date, now: datetime
) -> dict[str, dict[str, int]]:
    figs = figures_by_channel(scope=Scope(area_path, day_from, day_to), now=now)
    out = {}
    for channel, fig in figs.items():
        d = fig.as_dict()
        out[channel] = {k: d[k] for k in Figures.__dataclass_fields__}
    return {k: v for k, v in out.items() if v["received"]}


def assert_equal_to_direct(now: datetime, *paths: str) -> None:
    for path in paths:
        for span in ((DAY0, DAY9), (date(2026, 11, 2), date(2026, 11, 2))):
            expected = direct_counts(area_path=path, day_from=span[0], day_to=span[1], now=now)
            assert rolled(area_path=path, day_from=span[0], day_to=span[1], now=now) == expected, (
                path,
                span,
            )


def _flow(now_text: str) -> Any:
    """One opinion accepted and dispatched to 泽国镇."""
    case = opinion(now=at(now_text), area=Area.objects.get(code="331081100001"))
    transition(case=case, action="accept", actor=user("station_zeguo"), now=at(now_text))
    return transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        grade="town",
        now=at(now_text),
    )


def test_refresh_follows_every_change_and_equals_a_direct_count(demo_city: None) -> None:
    now = at("2026-12-20 10:00")
    rollup_refresh(now=now)
    assert RollupState.objects.get().rebuilt_at is not None
    assert_equal_to_direct(now, "", "331081", ZEGUO, "331081/331081001")

    # A case closed on time and rated 满意.
    done = _flow("2026-11-02 10:00")
    transition(case=done, action="claim", actor=user("handler_zeguo"), now=at("2026-11-03 09:00"))
    transition(
        case=done,
        action="submit_result",
        actor=user("handler_zeguo"),
        note="已修好",
        now=at("2026-11-04 09:00"),
    )
    transition(
        case=done,
        action="rate",
        actor=user("deputy_wang"),
        rating="satisfied",
        now=at("2026-11-04 10:00"),
    )
    # A case sent back (返工) and still open.
    redo = _flow("2026-11-02 11:00")
    transition(case=redo, action="claim", actor=user("handler_zeguo"), now=at("2026-11-03 09:00"))
    transition(
        case=redo,
        action="submit_result",
        actor=user("handler_zeguo"),
        note="已处理",
        now=at("2026-11-03 10:00"),
    )
    transition(
        case=redo,
        action="rework",
        actor=user("station_zeguo"),
        note="照片不符",
        now=at("2026-11-03 11:00"),
    )
    # A case put on hold (缓办): out of the on-time denominators.
    held = _flow("2026-11-02 12:00")
    transition(case=held, action="claim", actor=user("handler_zeguo"), now=at("2026-11-03 09:00"))
    transition(
        case=held,
        action="defer",
        actor=user("leader_zeguo"),
        note="等待资金",
        now=at("2026-11-03 09:30"),
    )
    # A case left to run past its deadline: overdue at `now`.
    _flow("2026-11-02 13:00")

    report = rollup_refresh(now=now)
    assert report.cases >= 4 and not report.rebuilt
    assert_equal_to_direct(now, "", "331081", ZEGUO, "331081/331081100/331081100001")

    figs = figures_by_channel(scope=Scope(ZEGUO, date(2026, 11, 2), date(2026, 11, 2)), now=now)
    opinion_fig = figs["opinion"]
    assert opinion_fig.received == 4 and opinion_fig.closed == 1
    assert opinion_fig.excluded == 1 and opinion_fig.reworked == 1
    assert opinion_fig.satisfaction_rate == 1.0
    assert opinion_fig.rework_rate == pytest.approx(1 / 3, abs=1e-4)
    assert opinion_fig.overdue >= 1

    # A refresh with nothing new changes nothing; a rebuild gives the same rows.
    before = sorted(
        CaseRollup.objects.values_list(
            "channel",
            "day",
            "town",
            "dim",
            "key",
            "received",
            "closed",
            "late",
            "reworked",
            "rated",
        )
    )
    assert rollup_refresh(now=now).rows == 0
    rollup_rebuild(now=now)
    after = sorted(
        CaseRollup.objects.values_list(
            "channel",
            "day",
            "town",
            "dim",
            "key",
            "received",
            "closed",
            "late",
            "reworked",
            "rated",
        )
    )
    assert before == after
    assert CaseFact.objects.count() == CaseFact.objects.values("case_id").distinct().count()


def test_breakdowns_add_up_to_the_total(demo_city: None) -> None:
    now = at("2026-12-20 10:00")
    _flow("2026-11-02 10:00")
    rollup_refresh(now=now)
    scope = Scope("331081", DAY0, DAY9)
    total = figures_by_channel(scope=scope, now=now)
    for group in ("town", "category", "owner"):
        per: dict[str, int] = {}
        for (channel, _key), fig in figures_grouped(scope=scope, group=group, now=now).items():
            per[channel] = per.get(channel, 0) + fig.received
        # Every case has a town, a category and an owner in the demo.
        assert per == {c: f.received for c, f in total.items()}, group


def test_clocks_read_together_equal_each_read_alone(demo_city: None) -> None:
    # Given open cases, some overdue, in two towns
    now = at("2026-12-20 10:00")
    _flow("2026-11-02 10:00")
    rollup_refresh(now=now)
    for scope in (Scope("331081", DAY0, DAY9), Scope(ZEGUO, DAY0, DAY9)):
        # When every breakdown is read at once (one GROUPING SETS scan on PostgreSQL)
        groups = ["", *BREAKDOWNS]
        together = figures_grouped_many(scope=scope, groups=groups, now=now)
        # Then each equals its own read, overdue and due-soon counts included
        for group in groups:
            assert together[group] == figures_grouped(scope=scope, group=group, now=now), group
        assert sum(f.overdue for f in together[""].values()) > 0
