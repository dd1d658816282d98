"""A town, its office and two of its staff: the least a case needs (the WORKFLOWS tests
do not build the whole demo city)."""

from __future__ import annotations

from dataclasses import dataclass

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area, AreaKind, AreaLevel
from civicloop.core.units.models import Membership, Unit


@dataclass(frozen=True)
class SmallTown:
    city: Area
    town: Area
    office: Unit
    handler: User
    admin: User


def small_town_build() -> SmallTown:
    city = Area.objects.create(
        code="331081", name="温岭市", kind=AreaKind.CITY, level=AreaLevel.CITY
    )
    town = Area.objects.create(
        code="331081100", name="泽国镇", kind=AreaKind.TOWN, level=AreaLevel.TOWN, parent=city
    )
    office = Unit.objects.create(
        code="town-331081100", name="泽国镇人民政府", kind="town_office", area=town
    )
    handler = User.objects.create_user(username="wf_handler", password="x")
    Membership.objects.create(user=handler, unit=office, role=Role.HANDLER)
    admin = User.objects.create_superuser(username="wf_admin", password="x")
    return SmallTown(city, town, office, handler, admin)
