"""What the e线知政 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleSpec

MODULE = ModuleSpec(
    name="bulletins",
    label=_("e线知政"),
    app="civicloop.bulletins",
    description=_("e线知政和学习园地：信息发布、代表阅读和学习记录。"),
)
