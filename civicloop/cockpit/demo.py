"""The demo's cockpit readers: the 人大常委会 (the city) and 泽国镇人大主席团 (its town).
Idempotent."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.cases.rollups import rollup_refresh
from civicloop.core.demo import DemoLogin, demo_user_ensure
from civicloop.core.units.models import AreaGrant

CITY = "331081"
NPC_OFFICE = "npc_office"  # core's demo login of the 代表工委 (人大常委会)
TOWN_PRESIDIUM = DemoLogin(
    "npc_zeguo",
    "林主席",
    "13800000031",
    Role.LEADER,
    area_code="331081100",
    description="泽国镇人大主席团（驾驶舱，本镇）",
)


def demo_cockpit_load(log: Callable[[str], None]) -> list[DemoLogin]:
    with transaction.atomic():
        office = User.objects.filter(username=NPC_OFFICE).first()
        if office is not None:
            AreaGrant.objects.get_or_create(
                user=office, area=Area.objects.get(code=CITY), role=Role.LEADER
            )
        demo_user_ensure(TOWN_PRESIDIUM)
    report = rollup_refresh()
    log(f"cockpit: {report.cases} cases in the rollups")
    return [TOWN_PRESIDIUM]
