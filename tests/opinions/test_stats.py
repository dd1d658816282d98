"""Figures for the 代表工委: per unit, town and deputy; station staff see their own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.cases.services import transition
from civicloop.core.units.models import Unit
from civicloop.opinions.stats import StatsScope, opinion_stats, stats_scope_for
from tests.opinions.test_inbox import act, dispatched, make_opinion, user  # noqa: F401
from tests.opinions.test_submit import deputy_code, opinion_settings, wang  # noqa: F401

pytestmark = pytest.mark.django_db


def only_code_cases() -> None:
    Case.objects.exclude(source="code").update(channel="other")  # leave the demo out


def test_figures_per_unit_town_and_deputy(make_opinion: Any, wang: Any) -> None:  # noqa: F811
    ok = dispatched(make_opinion)
    transition(case=ok, action="claim", actor=user("handler_zeguo"))
    transition(case=ok, action="submit_result", actor=user("handler_zeguo"), note="已办")
    act(ok, "rate", "deputy_wang", rating="satisfied")
    bad = dispatched(make_opinion)
    transition(case=bad, action="claim", actor=user("handler_zeguo"))
    transition(case=bad, action="submit_result", actor=user("handler_zeguo"), note="已办")
    act(bad, "rate", "deputy_wang", rating="unsatisfied")  # back to the town: rework
    late = dispatched(make_opinion)
    CaseStep.objects.filter(case=late, ended_at__isnull=True).update(
        due_at=late.created_at - timedelta(days=1)
    )
    make_opinion()  # just received
    only_code_cases()
    stats = opinion_stats(scope=StatsScope(all=True))
    assert stats.total.received == 4 and stats.total.closed == 1
    assert stats.total.overdue == 1 and stats.total.on_time == 1
    assert stats.total.rated == 2 and stats.total.satisfaction_rate == 50.0
    assert stats.total.reworked == 1 and stats.total.rework_rate == 25.0
    town_name = Unit.objects.get(code="town-331081100").name
    town = next(f for f in stats.per_unit if f.label == town_name)
    assert (town.received, town.closed, town.overdue, town.reworked) == (3, 1, 1, 1)
    assert town.on_time_rate == 100.0
    zeguo = next(f for f in stats.per_town if f.label == Area.objects.get(code="331081100").name)
    assert zeguo.received == 4
    deputy = next(f for f in stats.per_deputy if f.key == str(wang.pk))
    assert deputy.label == wang.name and deputy.received == 4


def test_query_count_is_constant(make_opinion: Any, django_assert_max_num_queries: Any) -> None:  # noqa: F811
    for _ in range(6):
        dispatched(make_opinion)
    with django_assert_max_num_queries(8):
        opinion_stats(scope=StatsScope(all=True))


def test_who_sees_what(client: Client, make_opinion: Any) -> None:  # noqa: F811
    make_opinion()
    assert stats_scope_for(user=user("npc_office")) == StatsScope(all=True)
    assert stats_scope_for(user=user("admin")) == StatsScope(all=True)
    station = stats_scope_for(user=user("station_zeguo"))
    assert station is not None and not station.all and len(station.station_ids) == 1
    assert stats_scope_for(user=user("handler_housing")) is None
    client.force_login(user("npc_office"))
    page = client.get("/opinions/stats/")
    assert page.status_code == 200 and "按期结案率" in page.content.decode()
    assert "泽国镇" in page.content.decode()
    client.force_login(user("handler_housing"))
    assert client.get("/opinions/stats/").status_code == 403
    client.force_login(user("station_zeguo"))
    assert "本联络站" in client.get("/opinions/stats/").content.decode()
