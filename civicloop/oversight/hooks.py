"""What the 督政议事 module declares to core (the module contract, `MODULE`): two channels
on its own workflows (a question put to a department at a meeting, answered by a date;
a follow-up of the meeting's decisions), the deputies' role, its pages, API, settings,
cockpit tile and demo.

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import (
    Channel,
    CockpitTile,
    ModuleSpec,
    NavItem,
    RoleSpec,
    Setting,
    UnitKindSpec,
)

# The top bar shows the links of the same section under one menu.
NPC_SECTION = _("人大")

# The same role and unit kind the 民意 module declares (identical duplicates are allowed),
# so this module works when enabled alone.
DEPUTY = RoleSpec("deputy", _("人大代表"))
STATION = UnitKindSpec("station", _("代表联络站"))

QUESTION = Channel(
    code="oversight_question",
    name=_("督政询问"),
    number_prefix="DZ",
    workflow="oversight_question",
    description=_("督政议事会、专题询问上代表向部门提出的问题，部门在答复期限内书面答复。"),
    keywords=("督政议事", "专题询问", "询问"),
    owner_unit_kinds=("department",),
    staff_page="/oversight/cases/{number}/",
    staff_page_label=_("在督政议事页查看会议和测评"),
)

FOLLOW_UP = Channel(
    code="oversight_followup",
    name=_("督政跟踪督办"),
    number_prefix="DB",
    workflow="oversight_followup",
    description=_("督政议事会议决定事项的跟踪督办：责任单位在期限内落实并报告。"),
    keywords=("督政议事", "跟踪督办"),
    owner_unit_kinds=("department", "town_office"),
    staff_page="/oversight/cases/{number}/",
    staff_page_label=_("在督政议事页查看会议"),
)


def _standing(user: Any) -> Any:
    from civicloop.core.units.selectors import user_standing

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user_standing(user)


def _sees_oversight(user: Any) -> bool:
    """Staff of the 代表工委, deputies and departments (the page shows each their part).
    Reads only the standing the top bar has loaded already."""
    standing = _standing(user)
    if standing is None:
        return False
    from civicloop.oversight.access import oversight_role_of

    return oversight_role_of(standing) is not None


MODULE = ModuleSpec(
    name="oversight",
    label=_("督政议事"),
    app="civicloop.oversight",
    description=_("督政议事：议题、议事会和专题询问、部门答复、满意度测评和跟踪落实。"),
    channels=(QUESTION, FOLLOW_UP),
    workflows=(
        "civicloop.oversight.workflow.QUESTION_FLOW",
        "civicloop.oversight.workflow.FOLLOW_UP_FLOW",
    ),
    urls="civicloop.oversight.urls",
    api_router="civicloop.oversight.api.router",
    api_prefix="oversight",
    settings=(
        # The unit whose members run the meetings (人大常委会代表工委).
        Setting("OVERSIGHT_STAFF_UNIT", "dept-npc-deputies"),
    ),
    roles=(DEPUTY,),
    unit_kinds=(STATION,),
    nav_items=(
        NavItem(_("督政议事"), "/oversight/", _sees_oversight, order=40, section=NPC_SECTION),
    ),
    cockpit_tiles=(
        CockpitTile(
            "oversight", _("督政议事"), "civicloop.oversight.selectors.cockpit_figures", order=40
        ),
    ),
    demo_loader="civicloop.oversight.demo.demo_oversight_load",
)
