"""What the 民生实事 module declares to core (the module contract, `MODULE`).

Every candidate is a core case on the "project" channel (so an opinion or a suggestion
it was promoted from is linked to it case to case, and the chosen project keeps that
case through delivery); every delivery milestone is a case on "project_milestone" owned
by the project's lead unit with the milestone date as its deadline; a finding of a
deputies' supervision visit becomes a case on "project_finding" (the generic loop).

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

# Declared identically by every module that needs deputies (the registry accepts it).
DEPUTY = RoleSpec("deputy", _("人大代表"))
STATION = UnitKindSpec("station", _("代表联络站"))

PROJECT = Channel(
    code="project",
    name=_("民生实事项目"),
    number_prefix="MS",
    workflow="project_candidate",
    description=_("民生实事候选项目：征集、差额票决、实施和满意度测评。"),
    keywords=("民生实事", "票决"),
    owner_unit_kinds=("department",),
    staff_page="/projects/case/{number}/",
    staff_page_label=_("在民生实事页面查看和办理"),
)
MILESTONE = Channel(
    code="project_milestone",
    name=_("民生实事节点"),
    number_prefix="SS",
    workflow="project_milestone",
    description=_("民生实事项目的实施节点，由牵头单位按期推进。"),
    keywords=("民生实事", "节点"),
    owner_unit_kinds=("department", "town_office"),
    staff_page="/projects/case/{number}/",
    staff_page_label=_("在民生实事页面报送进度"),
)
FINDING = Channel(
    code="project_finding",
    name=_("民生实事督查问题"),
    number_prefix="SD",
    workflow="generic_loop",
    description=_("代表监督小组视察民生实事项目发现的问题，交牵头单位整改。"),
    keywords=("民生实事", "代表监督"),
    owner_unit_kinds=("department", "town_office"),
)


def _standing(user: Any) -> Any:
    from civicloop.core.units.selectors import user_standing

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user_standing(user)


def _sees_projects(user: Any) -> bool:
    standing = _standing(user)
    return standing is not None and bool(standing.unit_ids or standing.is_admin)


MODULE = ModuleSpec(
    name="projects",
    label=_("民生实事"),
    app="civicloop.projects",
    description=_("民生实事项目代表票决制：征集、差额票决、实施监督和满意度测评。"),
    channels=(PROJECT, MILESTONE, FINDING),
    workflows=(
        "civicloop.projects.workflow.PROJECT_FLOW",
        "civicloop.projects.workflow.MILESTONE_FLOW",
    ),
    urls="civicloop.projects.urls",
    api_router="civicloop.projects.api.router",
    api_prefix="projects",
    settings=(
        # The unit whose staff run the cycle (代表工委).
        Setting("PROJECTS_OFFICE_UNIT", "dept-npc-deputies"),
        # The channels whose cases the office may promote to candidates by number.
        Setting("PROJECTS_PROMOTE_CHANNELS", ["opinion", "suggestion"], "list"),
        # A spam brake on the public proposal page, per client address and hour.
        Setting("PROJECTS_PROPOSALS_PER_IP_PER_HOUR", 5, "int"),
        # Receipt checks per client address and hour (receipts are unguessable anyway).
        Setting("PROJECTS_RECEIPT_CHECKS_PER_IP_PER_HOUR", 60, "int"),
    ),
    roles=(DEPUTY,),
    unit_kinds=(STATION,),
    nav_items=(
        NavItem(_("民生实事"), "/projects/", _sees_projects, order=40, section=NPC_SECTION),
    ),
    cockpit_tiles=(
        CockpitTile(
            "projects", _("民生实事节点"), "civicloop.projects.selectors.cockpit_figures", order=40
        ),
    ),
    demo_loader="civicloop.projects.demo.demo_projects_load",
)
