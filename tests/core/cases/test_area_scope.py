"""An area's scope is its subtree, matched on whole path segments: someone overseeing
area ZG1 sees ZG1 and what lies below it, never its sibling ZG10, whose code merely
starts with the same characters. Checked in every place that matches area paths."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.cases.access import access_case_by_number, cases_visible_to
from civicloop.core.cases.models import Case
from civicloop.core.cases.selectors import CaseFilters, case_list, recently_closed_for
from civicloop.core.cases.services import CaseDraft, case_submit, transition
from civicloop.core.units.models import AreaGrant
from civicloop.core.units.selectors import user_standing
from tests.core.cases.helpers import unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


@dataclass(frozen=True)
class Siblings:
    """Villages ZG1 and ZG10 of 泽国镇 (one code a prefix of the other), a grid under ZG1,
    a case in each, and a leader who oversees ZG1."""

    zg1: Area
    zg10: Area
    grid: Area
    in_zg1: Case
    in_grid: Case
    in_zg10: Case
    leader: User

    @property
    def mine(self) -> set[str]:
        return {self.in_zg1.number, self.in_grid.number}


def case_in(area: Area, title: str) -> Case:
    return case_submit(
        draft=CaseDraft(
            channel="opinion",
            title=title,
            body="村里的路灯坏了。",
            category="housing",
            area=area,
            contact_name="陈群众",
            contact_phone="13912345678",
            owner_unit=unit("station-331081100"),
        )
    )


def siblings_build() -> Siblings:
    town = Area.objects.get(name="泽国镇")
    zg1 = Area.objects.create(code="ZG1", name="一村", kind="village", parent=town)
    zg10 = Area.objects.create(code="ZG10", name="十村", kind="village", parent=town)
    grid = Area.objects.create(code="ZG1-01", name="一村一网格", kind="grid", parent=zg1)
    assert zg10.path.startswith(zg1.path)  # the trap: a plain prefix would match
    leader = User.objects.create_user(username="leader_zg1", full_name="一村书记")
    AreaGrant.objects.create(user=leader, area=zg1)
    return Siblings(
        zg1=zg1,
        zg10=zg10,
        grid=grid,
        in_zg1=case_in(zg1, "一村的路灯"),
        in_grid=case_in(grid, "一村网格的路灯"),
        in_zg10=case_in(zg10, "十村的路灯"),
        leader=leader,
    )


@pytest.fixture
def siblings(demo_city: None) -> Siblings:
    return siblings_build()


def numbers(qs: object) -> set[str]:
    return {c.number for c in qs}  # type: ignore[attr-defined]


def test_the_overseer_of_zg1_sees_its_subtree_not_zg10(siblings: Siblings) -> None:
    visible = numbers(cases_visible_to(siblings.leader).filter(area__isnull=False))
    assert siblings.mine <= visible
    assert siblings.in_zg10.number not in visible
    access_case_by_number(siblings.leader, siblings.in_grid.number)
    with pytest.raises(Exception, match="not found"):
        access_case_by_number(siblings.leader, siblings.in_zg10.number)


def test_standing_and_subtree_match_whole_segments(siblings: Siblings) -> None:
    standing = user_standing(siblings.leader)
    assert standing.oversees_path(siblings.zg1.path)
    assert standing.oversees_path(siblings.grid.path)
    assert not standing.oversees_path(siblings.zg10.path)
    subtree = Case.objects.filter(siblings.zg1.subtree_q("area__"))
    assert numbers(subtree) == siblings.mine


def test_the_case_list_area_filter_keeps_siblings_apart(siblings: Siblings) -> None:
    admin = user("admin")
    listed = case_list(user=admin, filters=CaseFilters(area_path=siblings.zg1.path))
    assert numbers(listed) == siblings.mine
    listed10 = case_list(user=admin, filters=CaseFilters(area_path=siblings.zg10.path))
    assert numbers(listed10) == {siblings.in_zg10.number}


def test_recently_closed_keeps_siblings_apart(siblings: Siblings) -> None:
    for case in (siblings.in_zg1, siblings.in_grid, siblings.in_zg10):
        transition(case=case, action="answer", actor=user("station_zeguo"), note="已答复")
    since = timezone.now() - timedelta(hours=1)
    closed = numbers(recently_closed_for(user=siblings.leader, since=since))
    assert closed == siblings.mine


def test_the_api_case_list_keeps_siblings_apart(siblings: Siblings) -> None:
    client = Client()
    client.force_login(siblings.leader)
    listed = json.loads(client.get("/api/v1/cases?page_size=100").content)
    assert {item["number"] for item in listed["items"]} == siblings.mine
    hidden = client.get(f"/api/v1/cases/{siblings.in_zg10.number}")
    assert hidden.status_code == 404
