"""What the 民意 module declares to core (the module contract, `MODULE`): its channel on
the generic closed loop, the deputies' role, the liaison stations' unit kind, its pages,
settings and demo data.

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import (
    Channel,
    CockpitTile,
    Intake,
    ModuleSpec,
    NavItem,
    Publication,
    RoleSpec,
    Setting,
    UnitKindSpec,
)

# The top bar shows the links of the same section under one menu.
NPC_SECTION = _("人大")

# A people's congress deputy acts for the liaison station they belong to.
DEPUTY = RoleSpec("deputy", _("人大代表"))
STATION = UnitKindSpec("station", _("代表联络站"))

OPINION = Channel(
    code="opinion",
    name=_("民意直达"),
    number_prefix="MY",
    workflow="generic_loop",
    description=_("群众通过代表码、联络站码向人大代表反映意见建议，由代表答复或交办相关单位办理。"),
    categories=(
        ("road", _("道路交通")),
        ("environment", _("环境卫生")),
        ("housing", _("住房建设")),
        ("safety", _("安全隐患")),
        ("education", _("教育")),
        ("health", _("医疗卫生")),
        ("market", _("市场监管")),
        ("other", _("其他")),
    ),
    intakes=frozenset({Intake.MODULE, Intake.API, Intake.OPEN311}),
    open311_group=_("人大代表"),
    keywords=("民意", "人大代表", "联络站"),
    # Only what the citizen agreed to publish (the submit page's consent box).
    publication=Publication.PUBLIC_PROJECTION,
    owner_unit_kinds=("station", "town_office"),
    # The deputy the code belonged to (services.opinion_submit), for the cockpit.
    person_key="deputy_name",
    person_label=_("代表"),
)


def _has_inbox(user: Any) -> bool:
    from civicloop.opinions.selectors_inbox import inbox_station_unit_ids

    return bool(inbox_station_unit_ids(user=user))


def _has_stats(user: Any) -> bool:
    from civicloop.opinions.stats import stats_scope_for

    return stats_scope_for(user=user) is not None


MODULE = ModuleSpec(
    name="opinions",
    label=_("民意直达"),
    app="civicloop.opinions",
    description=_("人大代表码、联络站码和民意处理闭环"),
    channels=(OPINION,),
    urls="civicloop.opinions.urls",
    api_router="civicloop.opinions.api.router",
    settings=(
        # A spam brake on the code pages: submissions per phone and per client per hour.
        Setting("OPINION_SUBMISSIONS_PER_PHONE_PER_HOUR", 5, "int"),
        Setting("OPINION_SUBMISSIONS_PER_IP_PER_HOUR", 20, "int"),
        # The demo's year of opinions over every town (demo_history); 0: none.
        Setting("DEMO_OPINION_HISTORY", 240, "int"),
    ),
    roles=(DEPUTY,),
    unit_kinds=(STATION,),
    nav_items=(
        NavItem(_("民意信箱"), "/deputy/inbox/", _has_inbox, order=10, section=NPC_SECTION),
        NavItem(_("民意统计"), "/opinions/stats/", _has_stats, order=20, section=NPC_SECTION),
    ),
    cockpit_tiles=(
        CockpitTile("opinions", _("民意直达"), "civicloop.opinions.selectors.cockpit_figures"),
    ),
    event_labels=(("citizen_rating", _("群众评价")), ("follow_up", _("回访"))),
    demo_loader="civicloop.opinions.demo.demo_opinions_load",
)
