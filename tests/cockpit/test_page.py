"""The cockpit page: who sees which cockpit, the figures link to the cases behind them,
the wall mode refreshes itself, and a page view costs a bounded number of queries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.cases.rollups import rollup_refresh

# The figures are checked on the 民意 demo (its channel, stations and deputies).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_the_standing_committee_sees_the_city(demo_city: None) -> None:
    page = signed_in("npc_office").get("/cockpit/").content.decode()
    assert "联络总站驾驶舱" in page
    for name in (
        "民意直达",
        "生命通道",
        "按镇（街道）",
        "按承办单位",
        "按代表",
        "满意率",
        "已超期（红灯）",
    ):
        assert name in page, name
    assert 'id="cockpit-map"' in page and "vendor/geo/wenling.geojson" in page
    assert "data-refresh" not in page


def test_a_town_presidium_sees_its_town_only(demo_city: None) -> None:
    client = signed_in("npc_zeguo")
    page = client.get("/cockpit/").content.decode()
    assert "泽国镇人大主席团驾驶舱" in page
    assert "按镇（街道）" not in page
    assert client.get("/cockpit/", {"area": "331081001"}).status_code == 403


def test_who_has_no_cockpit(demo_city: None) -> None:
    assert signed_in("handler_housing").get("/cockpit/").status_code == 403
    response = Client().get("/cockpit/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_wall_refreshes_itself(demo_city: None) -> None:
    page = signed_in("leader").get("/cockpit/", {"screen": "1"}).content.decode()
    assert 'data-refresh="60"' in page and "cockpit-screen" in page


def test_every_figure_drills_down_to_its_cases(demo_year: None) -> None:
    client = signed_in("leader")
    page = client.get("/cockpit/", {"period": "year"}).content.decode()
    # The 民意直达 row of the channels table: its received figure and its link.
    row = re.search(r'<th scope="row">民意直达</th>\s*<td><a href="([^"]+)">(\d+)</a>', page)
    assert row, "no 民意直达 row"
    href, received = row.group(1).replace("&amp;", "&"), int(row.group(2))
    assert received > 0
    listing = client.get(href).content.decode()
    assert f"共 {received} 件" in listing
    assert "来自驾驶舱" in listing
    # The overdue figure's list holds exactly the overdue cases.
    kpi = re.search(
        r'href="([^"]*overdue=on)"><span class="kpi-label">已超期（红灯）</span><span class="kpi-value">(\d+)</span>',
        page,
    )
    assert kpi
    listing = client.get(kpi.group(1).replace("&amp;", "&")).content.decode()
    assert f"共 {kpi.group(2)} 件" in listing


def test_a_page_view_does_not_grow_with_the_cases(
    demo_city: None, django_assert_max_num_queries: object
) -> None:
    client = signed_in("leader")
    rollup_refresh(now=timezone.now())
    client.get("/cockpit/")  # warm the session and caches
    with django_assert_max_num_queries(60):  # type: ignore[operator]
        assert client.get("/cockpit/").status_code == 200
