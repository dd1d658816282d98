"""What the 驾驶舱 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleSpec

MODULE = ModuleSpec(
    name="cockpit",
    label=_("驾驶舱"),
    app="civicloop.cockpit",
    description=_("人大常委会和各镇人大主席团的驾驶舱：所有渠道的实时数据、趋势、地图和下钻。"),
)
