"""Fixtures of the 民生实事 tests: the city's areas and units (without any module's
demo data), deputies at a liaison station, the 代表工委 clerk, a lead unit's handler,
and a cycle with a shortlist ready for the vote."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest


@pytest.fixture
def city(db: None) -> None:
    load_city()


def load_city() -> None:
    from civicloop.core.areas.services import areas_import_csv
    from civicloop.core.demo import AREAS_CSV, UNITS_CSV
    from civicloop.core.units.services import units_import_csv

    with AREAS_CSV.open(encoding="utf-8") as f:
        areas_import_csv(stream=f)
    with UNITS_CSV.open(encoding="utf-8") as f:
        units_import_csv(stream=f)


def make_user(username: str, *, unit_code: str, role: str, kind: str = "") -> Any:
    from civicloop.core.accounts.models import User
    from civicloop.core.areas.models import Area
    from civicloop.core.demo import DEMO_PASSWORD
    from civicloop.core.units.models import Membership, Unit

    unit = Unit.objects.filter(code=unit_code).first()
    if unit is None:
        unit = Unit.objects.create(
            code=unit_code, name=unit_code, kind=kind, area=Area.objects.get(code="331081")
        )
    user = User.objects.create(username=username, full_name=username)
    user.set_password(DEMO_PASSWORD)
    user.save()
    Membership.objects.create(user=user, unit=unit, role=role)
    return user


def make_deputies(count: int, *, prefix: str = "dep") -> list[Any]:
    return [
        make_user(f"{prefix}{i:03d}", unit_code="station-test", role="deputy", kind="station")
        for i in range(count)
    ]


@pytest.fixture
def office(city: None) -> Any:
    return make_office()


def make_office() -> Any:
    return make_user("clerk", unit_code="dept-npc-deputies", role="unit_leader")


@pytest.fixture
def lead_handler(city: None) -> Any:
    return make_user("housing", unit_code="dept-housing", role="handler")


@pytest.fixture
def deputies(city: None) -> list[Any]:
    return make_deputies(7)


def shortlisted_cycle(*, office: Any, count: int = 5, places: int = 3, **rules: Any) -> Any:
    from civicloop.core.units.models import Unit
    from civicloop.projects.models import CandidateSource
    from civicloop.projects.services import (
        Proposal,
        candidate_propose,
        candidate_shortlist,
        cycle_create,
    )

    cycle = cycle_create(year=2026, title="2026年民生实事", actor=office, places=places, **rules)
    housing = Unit.objects.get(code="dept-housing")
    for i in range(count):
        c = candidate_propose(
            cycle=cycle,
            proposal=Proposal(
                title=f"项目{i + 1}",
                description=f"项目{i + 1}的内容",
                source=CandidateSource.DEPARTMENT,
                budget_wan=Decimal("100") * (i + 1),
                lead_unit=housing,
                timeline="2026年3月至12月",
            ),
            actor=office,
        )
        candidate_shortlist(candidate=c, actor=office)
    return cycle


@pytest.fixture
def cycle(office: Any, deputies: list[Any]) -> Any:
    return shortlisted_cycle(office=office)
