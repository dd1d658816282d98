"""What the 督政议事 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleSpec

MODULE = ModuleSpec(
    name="oversight",
    label=_("督政议事"),
    app="civicloop.oversight",
    description=_("督政议事：议题、议事会和专题询问、部门答复、满意度测评和跟踪落实。"),
)
