"""What the 代表建议 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleSpec

MODULE = ModuleSpec(
    name="suggestions",
    label=_("代表建议"),
    app="civicloop.suggestions",
    description=_("人大代表建议、批评和意见：提出、附议、审查、交办、答复、评价和重点督办。"),
)
