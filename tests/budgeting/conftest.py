"""Fixtures of the 参与式预算 tests: the city's areas and units (no module's demo), a
process in a given phase with accepted projects, a small frame, and the town's staff."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest

TOWN = "331081100"  # 泽国镇


def load_city() -> None:
    from civicloop.core.areas.services import areas_import_csv
    from civicloop.core.demo import AREAS_CSV, UNITS_CSV
    from civicloop.core.units.services import units_import_csv

    with AREAS_CSV.open(encoding="utf-8") as f:
        areas_import_csv(stream=f)
    with UNITS_CSV.open(encoding="utf-8") as f:
        units_import_csv(stream=f)


@pytest.fixture
def city(db: None) -> None:
    load_city()


def make_user(username: str, *, unit_code: str | None = None, role: str = "handler") -> Any:
    from civicloop.core.accounts.models import User
    from civicloop.core.units.models import Membership, Unit

    user = User.objects.create(username=username, full_name=username)
    if unit_code:
        Membership.objects.create(user=user, unit=Unit.objects.get(code=unit_code), role=role)
    return user


@pytest.fixture
def town_staff(city: None) -> Any:
    """A handler of the 泽国镇 government: runs the town's processes."""
    return make_user("zeguo_clerk", unit_code=f"town-{TOWN}")


@pytest.fixture
def other_staff(city: None) -> Any:
    """A handler of another town's government: does not."""
    return make_user("daxi_clerk", unit_code="town-331081101")


def make_process(*, code: str = "zeguo-test", phase: str = "collecting", **kwargs: Any) -> Any:
    from civicloop.budgeting.models import BudgetProcess
    from civicloop.budgeting.services import process_create
    from civicloop.core.areas.models import Area

    process = process_create(
        code=code,
        title="泽国镇测试参与式预算",
        year=2026,
        town=Area.objects.get(code=TOWN),
        total_budget=kwargs.pop("total_budget", 1_000_000),
        **kwargs,
    )
    BudgetProcess.objects.filter(pk=process.pk).update(phase=phase)
    process.refresh_from_db()
    return process


@pytest.fixture
def process(city: None) -> Any:
    return make_process()


def add_projects(process: Any, costs: list[int], *, status: str = "accepted") -> list[Any]:
    from civicloop.budgeting.models import BudgetProject

    return [
        BudgetProject.objects.create(
            process=process, title=f"项目{i + 1}", cost=cost, source="public", status=status
        )
        for i, cost in enumerate(costs)
    ]


def frame_csv(n: int, *, seed: int = 7, extra: str = "") -> io.StringIO:
    """A frame of ``n`` people with strata sex / band (4 bands) and phones."""
    rng = random.Random(seed)
    lines = ["id,name,phone,age,sex,sex_group,band"]
    for i in range(n):
        sex = rng.choice("男女")
        band = rng.choice(["18-39", "40-59", "60+", "60+"]) if i % 10 else "18-39"
        lines.append(f"P{i:04d},居民{i},1380000{i:04d},{30 + i % 50},{sex},{sex},{band}")
    return io.StringIO("\n".join(lines) + "\n" + extra)
