"""What the 民生实事 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleSpec

MODULE = ModuleSpec(
    name="projects",
    label=_("民生实事"),
    app="civicloop.projects",
    description=_("民生实事项目代表票决制：征集、差额票决、实施监督和满意度测评。"),
)
