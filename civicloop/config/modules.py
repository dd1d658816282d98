"""The modules this platform can run. One line installs one (see README, "Adding a module").

Which of them run is a setting: CIVICLOOP_MODULES, a comma list of module names (unset:
all). A disabled module is not installed at all: no models, pages, API paths, tasks or
settings it requires. Modules are named here by their dotted path only, so nothing in
`config` imports a module's code; its `hooks.MODULE` is read by path.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from civicloop.core.registry import ModuleSpec

AVAILABLE = (
    "civicloop.opinions",
    "civicloop.firelane",
    "civicloop.cockpit",
    "civicloop.suggestions",
    "civicloop.projects",
    "civicloop.oversight",
    "civicloop.bulletins",
    "civicloop.budgeting",
    "civicloop.studios",
)


def available_specs() -> list[ModuleSpec]:
    """The ModuleSpec of every installed module, in the order above."""
    specs = []
    for app in AVAILABLE:
        spec = import_string(f"{app}.hooks.MODULE")
        if not isinstance(spec, ModuleSpec) or spec.app != app:
            raise ImproperlyConfigured(f"{app}.hooks.MODULE is not the ModuleSpec of {app}.")
        specs.append(spec)
    return specs


def enabled_specs(names: list[str]) -> list[ModuleSpec]:
    """The specs CIVICLOOP_MODULES selects (empty: all), or ImproperlyConfigured naming
    an unknown module."""
    specs = available_specs()
    if not names:
        return specs
    known = {spec.name for spec in specs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ImproperlyConfigured(
            f"CIVICLOOP_MODULES names unknown module(s) {', '.join(unknown)}; "
            f"available: {', '.join(sorted(known))}."
        )
    return [spec for spec in specs if spec.name in names]
