"""The staff case list at /cases/ shows, on the page itself, only the cases the reader may
see: a unit's staff their units' cases, an area's overseer the area's subtree (never a
sibling area whose code shares a prefix), whatever the filters ask for."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from civicloop.core.accounts.models import User
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.models import Case
from tests.core.cases.test_area_scope import Siblings, siblings_build

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]

NUMBER = re.compile(r'<span class="case-number">([^<]+)</span>')


def listed(client: Client, **query: str) -> set[str]:
    """Every case number the list pages show for the query (all pages read)."""
    shown: set[str] = set()
    page = 1
    while True:
        response = client.get(reverse("web:case_list"), {**query, "page": str(page)})
        assert response.status_code == 200
        html = response.content.decode()
        shown |= set(NUMBER.findall(html))
        if 'rel="next"' not in html:
            return shown
        page += 1


@pytest.fixture
def siblings(demo: None) -> Siblings:
    return siblings_build()


def test_another_units_staff_see_none_of_the_towns_opinions_on_the_page(
    login_as, new_opinion
) -> None:
    # given opinions received by the 泽国镇 station
    mine = new_opinion(title="车站的事项")
    opinions = set(Case.objects.filter(channel="opinion").values_list("number", flat=True))

    # when the housing bureau's handler opens the case list
    client = login_as("handler_housing")
    shown = listed(client)

    # then the page shows none of them, and exactly what the bureau may see
    assert not shown & opinions
    user = User.objects.get(username="handler_housing")
    assert shown == set(cases_visible_to(user).values_list("number", flat=True))
    # nor does searching for one by its number reveal it
    assert listed(client, q=mine.number) == set()


def test_the_receiving_station_sees_its_opinions_on_the_page(login_as, new_opinion) -> None:
    case = new_opinion(title="车站的事项")
    client = login_as("station_zeguo")
    shown = listed(client, channel="opinion")
    assert case.number in shown
    assert shown == set(
        Case.objects.filter(channel="opinion", owner_unit__code="station-331081100").values_list(
            "number", flat=True
        )
    )


def test_an_area_overseer_sees_its_subtree_not_the_prefix_sibling(
    client: Client, siblings: Siblings
) -> None:
    client.force_login(siblings.leader)

    # the whole list, and the list narrowed to their own area
    assert listed(client) == siblings.mine
    assert listed(client, area=siblings.zg1.code) == siblings.mine
    # the sibling's area asked for by name shows nothing, nor does its case's number
    assert listed(client, area=siblings.zg10.code) == set()
    assert listed(client, q=siblings.in_zg10.number) == set()


def test_the_area_filter_keeps_prefix_siblings_apart_for_a_city_reader(
    client: Client, siblings: Siblings
) -> None:
    client.force_login(User.objects.get(username="leader"))  # oversees the whole city
    assert listed(client, area=siblings.zg1.code) == siblings.mine
    assert listed(client, area=siblings.zg10.code) == {siblings.in_zg10.number}
