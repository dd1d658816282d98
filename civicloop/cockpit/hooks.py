"""What the 驾驶舱 module declares to core (the module contract, `MODULE`): its page and
API, its place in the top bar, and the demo's cockpit readers. Its figures are core's
case rollups over every registered channel, so it names no channel and no module.

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleSpec, NavItem


def _has_cockpit(user: Any) -> bool:
    from civicloop.cockpit.selectors import cockpit_areas_for

    return bool(cockpit_areas_for(user=user))


MODULE = ModuleSpec(
    name="cockpit",
    label=_("驾驶舱"),
    app="civicloop.cockpit",
    description=_("人大常委会和各镇人大主席团的驾驶舱：所有渠道的实时数据、趋势、地图和下钻。"),
    urls="civicloop.cockpit.urls",
    api_router="civicloop.cockpit.api.router",
    api_prefix="cockpit",
    nav_items=(NavItem(_("驾驶舱"), "/cockpit/", _has_cockpit, order=5),),
    demo_loader="civicloop.cockpit.demo.demo_cockpit_load",
)
