"""Who a user is in units and areas, and which unit receives a case from an area."""

from __future__ import annotations

import pytest

from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import unit_for_area, unit_staff_dingtalk_ids, user_standing

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def test_standing_of_staff_leader_and_admin(demo_city: None) -> None:
    handler = user_standing(User.objects.get(username="handler_zeguo"))
    town = Unit.objects.get(code="town-331081100")
    assert handler.has_role_in(town.pk, "handler") and not handler.has_role_in(
        town.pk, "unit_leader"
    )
    assert not handler.is_admin and handler.area_paths == ()

    leader = user_standing(User.objects.get(username="leader"))
    assert leader.oversees_path(Area.objects.get(name="牧屿村").path)
    assert user_standing(User.objects.get(username="admin")).is_admin


def test_the_nearest_receiving_unit_up_the_tree(demo_city: None) -> None:
    village = Area.objects.get(name="牧屿村")
    station = unit_for_area(area=village, kinds=("station", "town_office"))
    assert station is not None and station.code == "station-331081100"
    office = unit_for_area(area=village, kinds=("town_office",))
    assert office is not None and office.code == "town-331081100"
    assert unit_for_area(area=None, kinds=("station",)) is None


def test_dingtalk_recipients_of_a_unit(demo_city: None) -> None:
    town = Unit.objects.get(code="town-331081100")
    assert unit_staff_dingtalk_ids(unit=town, roles=("unit_leader",)) == [
        "ding-leader_zeguo",
        "ding-town-331081100",
    ]
