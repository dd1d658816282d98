"""Fixtures of the studios tests: the demo city with the 37 studios and their members
(no threads: the tests make their own), the demo member and the CPPCC office."""

from __future__ import annotations

import random
from typing import Any

import pytest

from civicloop.core.accounts.models import User
from civicloop.studios.models import Member, Studio


@pytest.fixture
def studios(demo_city: None) -> list[Studio]:
    from civicloop.core.demo import demo_logins_ensure
    from civicloop.studios import demo

    built = demo._studios_build(random.Random(demo.SEED), lambda _m: None)
    demo_logins_ensure(demo.DEMO_LOGINS)
    demo._demo_member_link(built)
    return built


@pytest.fixture
def zeguo(studios: list[Studio]) -> Studio:
    return Studio.objects.get(unit__code="studio-331081100")


@pytest.fixture
def chen(studios: list[Studio]) -> Member:
    """陈委员 (login member_chen), a member of the 泽国镇 studio."""
    return Member.objects.get(user__username="member_chen")


@pytest.fixture
def office(studios: list[Studio]) -> User:
    return User.objects.get(username="cppcc_office")


@pytest.fixture
def citizen_phone(settings: Any) -> str:
    return "13957661234"
