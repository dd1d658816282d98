"""What the e线知政 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import (
    CockpitTile,
    ModuleSpec,
    NavItem,
    PeriodicTask,
    RoleSpec,
    Setting,
    UnitKindSpec,
)

# The top bar shows the links of the same section under one menu.
NPC_SECTION = _("人大")

# The same deputies' role and liaison-station kind as 民意 declares (identical
# duplicates are allowed), so this module works when enabled alone.
DEPUTY = RoleSpec("deputy", _("人大代表"))
STATION = UnitKindSpec("station", _("代表联络站"))


def _is_reader(user: Any) -> bool:
    from civicloop.bulletins.access import is_reader

    return is_reader(user)


def _is_deputy(user: Any) -> bool:
    from civicloop.bulletins.access import is_deputy

    return is_deputy(user)


def _is_editor(user: Any) -> bool:
    from civicloop.bulletins.access import is_editor

    return is_editor(user)


MODULE = ModuleSpec(
    name="bulletins",
    label=_("e线知政"),
    app="civicloop.bulletins",
    description=_("e线知政和学习园地：信息发布、代表阅读和学习记录。"),
    urls="civicloop.bulletins.urls",
    api_router="civicloop.bulletins.api.router",
    api_prefix="bulletins",
    periodic_tasks=(
        PeriodicTask("bulletins-remind", "civicloop.bulletins.tasks.bulletins_remind", 3600.0),
        PeriodicTask(
            "bulletins-videos-sweep", "civicloop.bulletins.tasks.bulletins_videos_sweep", 86400.0
        ),
    ),
    settings=(
        Setting(
            "BULLETINS_VIDEO_MAX_BYTES",
            200 * 1024 * 1024,
            "int",
            doc="largest video an item may carry (bytes)",
        ),
    ),
    roles=(DEPUTY,),
    unit_kinds=(STATION,),
    nav_items=(
        NavItem(_("知政学习"), "/bulletins/", _is_reader, order=40, section=NPC_SECTION),
        NavItem(_("学习记录"), "/bulletins/study/", _is_deputy, order=41, section=NPC_SECTION),
        NavItem(_("阅读统计"), "/bulletins/report/", _is_editor, order=42, section=NPC_SECTION),
    ),
    cockpit_tiles=(
        CockpitTile(
            "bulletins", _("e线知政·学习园地"), "civicloop.bulletins.selectors.cockpit_figures"
        ),
    ),
    demo_loader="civicloop.bulletins.demo.demo_bulletins_load",
)
