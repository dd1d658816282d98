"""A small city for 督政议事 tests: the 代表工委, two departments, a town office, a
station with three deputies, and an accepted topic with a meeting where two deputies sit
and the housing bureau answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.units.models import AreaGrant, Membership, Unit
from civicloop.oversight import services
from civicloop.oversight.models import Meeting, MeetingKind

PASSWORD = "Wenling-demo-2026"


@dataclass
class City:
    staff: User
    deputy: User
    deputy2: User
    outsider_deputy: User
    housing: Unit
    transport: Unit
    housing_handler: User
    transport_handler: User
    leader: User
    citizen: User
    meeting: Meeting


def _user(username: str, name: str, unit: Unit | None = None, role: str = "") -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, full_name=name)
    if unit is not None:
        Membership.objects.create(user=user, unit=unit, role=role)
    return user


@pytest.fixture
def city(db: None) -> City:
    area = Area.objects.create(code="331081", name="温岭市", kind="city")
    town = Area.objects.create(code="331081100", name="泽国镇", kind="town", parent=area)
    office = Unit.objects.create(
        code="dept-npc-deputies", name="市人大常委会代表工委", kind="department", area=area
    )
    housing = Unit.objects.create(
        code="dept-housing", name="温岭市住房和城乡建设局", kind="department", area=area
    )
    transport = Unit.objects.create(
        code="dept-transport", name="温岭市交通运输局", kind="department", area=area
    )
    Unit.objects.create(code="town-331081100", name="泽国镇人民政府", kind="town_office", area=town)
    station = Unit.objects.create(
        code="station-331081100", name="泽国镇人大代表联络站", kind="station", area=town
    )
    staff = _user("npc_office", "钱主任", office, Role.UNIT_LEADER)
    deputy = _user("deputy_wang", "王建国", station, "deputy")
    deputy2 = _user("deputy_002", "林秀芳", station, "deputy")
    outsider = _user("deputy_003", "陈海明", station, "deputy")
    leader = _user("leader", "陈市长")
    AreaGrant.objects.create(user=leader, area=area, role=Role.LEADER)
    city = City(
        staff=staff,
        deputy=deputy,
        deputy2=deputy2,
        outsider_deputy=outsider,
        housing=housing,
        transport=transport,
        housing_handler=_user("handler_housing", "周工", housing, Role.HANDLER),
        transport_handler=_user("handler_transport", "吴工", transport, Role.HANDLER),
        leader=leader,
        citizen=_user("someone", "路人"),
        meeting=None,  # type: ignore[arg-type]
    )
    topic = services.topic_propose(
        actor=deputy, title="城区交通拥堵治理", description="早晚高峰拥堵。"
    )
    topic = services.topic_decide(actor=staff, topic=topic, accept=True)
    meeting = services.meeting_create(
        actor=staff,
        topic=topic,
        kind=MeetingKind.INQUIRY,
        title="城区交通拥堵治理专题询问",
        held_at=timezone.now() + timedelta(days=1),
        place="市人大常委会第一会议室",
    )
    services.participant_add_deputy(actor=staff, meeting=meeting, deputy=deputy)
    services.participant_add_deputy(actor=staff, meeting=meeting, deputy=deputy2)
    services.participant_add_department(
        actor=staff, meeting=meeting, unit=housing, representative="分管副局长"
    )
    city.meeting = meeting
    return city
