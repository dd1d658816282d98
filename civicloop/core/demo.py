"""The demo city: Wenling's real structure (5 streets, 11 towns, their villages and
grids), its departments, and a login for each of core's roles. Idempotent: a second run
changes nothing. Each enabled module then adds its own units, people and data through
its ModuleSpec's `demo_loader`, which returns the demo logins it made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from civicloop.core import registry
from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.areas.services import areas_import_csv
from civicloop.core.forms.demo import demo_forms_load
from civicloop.core.units.models import AreaGrant, Membership, Unit, UnitKind
from civicloop.core.units.services import units_import_csv

DATA = Path(__file__).resolve().parent
AREAS_CSV = DATA / "areas" / "data" / "wenling_areas.csv"
UNITS_CSV = DATA / "units" / "data" / "wenling_units.csv"
# Shown on the console and the login page of a demo; never used outside demo mode.
DEMO_PASSWORD = "Wenling-demo-2026"  # noqa: S105 - the demo city only


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    phone: str
    role: str
    unit_code: str | None = None
    superuser: bool = False
    area_code: str | None = None
    description: str = ""


DEMO_LOGINS = (
    DemoLogin(
        "admin",
        "系统管理员",
        "13800000001",
        Role.ADMIN,
        superuser=True,
        description="管理员（后台 /admin/）",
    ),
    DemoLogin(
        "leader",
        "陈市长",
        "13800000002",
        Role.LEADER,
        area_code="331081",
        description="市领导（驾驶舱，全市）",
    ),
    DemoLogin(
        "handler_zeguo",
        "李办事",
        "13800000005",
        Role.HANDLER,
        "town-331081100",
        description="泽国镇人民政府 经办人",
    ),
    DemoLogin(
        "leader_zeguo",
        "张镇长",
        "13800000006",
        Role.UNIT_LEADER,
        "town-331081100",
        description="泽国镇人民政府 负责人",
    ),
    DemoLogin(
        "handler_housing",
        "周工",
        "13800000007",
        Role.HANDLER,
        "dept-housing",
        description="市住建局 经办人",
    ),
    DemoLogin(
        "supervision",
        "吴督查",
        "13800000008",
        Role.UNIT_LEADER,
        "dept-supervision",
        description="市政府督查室",
    ),
    DemoLogin(
        "npc_office",
        "钱主任",
        "13800000011",
        Role.UNIT_LEADER,
        "dept-npc-deputies",
        description="人大常委会代表工委",
    ),
)


def demo_city_build(*, log: Callable[[str], None] = lambda _m: None) -> list[DemoLogin]:
    """Build (or confirm) the demo city and return the demo logins."""
    with transaction.atomic():
        with AREAS_CSV.open(encoding="utf-8") as f:
            report = areas_import_csv(stream=f)
        log(f"areas: {report.created} created, {report.unchanged + report.updated} present")
        with UNITS_CSV.open(encoding="utf-8") as f:
            report = units_import_csv(stream=f)
        log(f"units: {report.created} created, {report.unchanged + report.updated} present")
        for login in DEMO_LOGINS:
            demo_user_ensure(login)
    demo_forms_load(log)
    logins = list(DEMO_LOGINS)
    skipped = set(getattr(settings, "DEMO_SKIP_MODULES", ()))
    for name, loader in registry.demo_loaders():
        if name in skipped:
            continue
        log(f"demo: {name}")
        logins.extend(loader(log) or ())
    _unit_leaders_ensure()
    return logins


def _unit_leaders_ensure() -> None:
    """Every unit above the villages (town offices, departments, the modules' units) gets
    a leader account, so reminders and escalations have a DingTalk recipient in the demo."""
    with transaction.atomic():
        units = Unit.objects.exclude(kind__in=[UnitKind.VILLAGE_COMMITTEE, UnitKind.GRID])
        for unit in units:
            user, created = User.objects.get_or_create(
                username=f"u-{unit.code}",
                defaults={
                    "full_name": f"{unit.name}负责人",
                    "dingtalk_userid": f"ding-{unit.code}",
                },
            )
            if created:
                user.set_unusable_password()
                user.save()
            Membership.objects.get_or_create(user=user, unit=unit, role=Role.UNIT_LEADER)


def demo_logins_ensure(logins: Sequence[DemoLogin]) -> list[DemoLogin]:
    """A module's demo people (idempotent); returns them for `load_demo` to print."""
    for login in logins:
        demo_user_ensure(login)
    return list(logins)


def demo_user_ensure(login: DemoLogin) -> User:
    user = User.objects.filter(username=login.username).first()
    if user is None:
        user = User(
            username=login.username,
            full_name=login.name,
            phone=login.phone,
            is_staff=login.superuser,
            is_superuser=login.superuser,
            dingtalk_userid=f"ding-{login.username}",
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    if login.unit_code:
        Membership.objects.get_or_create(
            user=user, unit=Unit.objects.get(code=login.unit_code), role=login.role
        )
    if login.area_code:
        AreaGrant.objects.get_or_create(
            user=user, area=Area.objects.get(code=login.area_code), role=login.role
        )
    return user
