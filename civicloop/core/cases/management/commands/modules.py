"""`manage.py modules`: the modules this installation can run, which are enabled
(CIVICLOOP_MODULES), and what each declares: channels, routes, API paths, periodic
tasks, settings, roles and unit kinds."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string

from civicloop.core import registry
from civicloop.core.registry import ModuleSpec


def _routes(urlconf: str) -> list[str]:
    """Every route of a urls module, as written (`q/<slug:slug>/submit/`)."""
    out: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append("/" + prefix + str(p.pattern))

    walk(get_resolver(urlconf).url_patterns, "")
    return out


def _api_paths(spec: ModuleSpec) -> list[str]:
    prefix = f"/api/v1/{spec.api_prefix}".rstrip("/")
    router = import_string(spec.api_router)
    paths = []
    for path, view in router.path_operations.items():
        for operation in view.operations:
            for method in operation.methods:
                paths.append(f"{method} {prefix}{path}")
    return sorted(paths)


def module_describe(spec: ModuleSpec, *, enabled: bool) -> dict[str, Any]:
    """What the module declares; routes and API paths only when it is enabled (a
    disabled module's code is not loaded)."""
    return {
        "name": spec.name,
        "label": str(spec.label),
        "app": spec.app,
        "enabled": enabled,
        "channels": [
            {
                "code": ch.code,
                "name": str(ch.name),
                "workflow": ch.workflow,
                "intakes": sorted(str(i) for i in ch.intakes),
            }
            for ch in spec.channels
        ],
        "routes": _routes(spec.urls) if enabled and spec.urls else [],
        "api": _api_paths(spec) if enabled and spec.api_router else [],
        "periodic_tasks": [
            {"name": t.name, "task": t.task, "every_seconds": t.every_seconds}
            for t in spec.periodic_tasks
        ],
        "settings": [
            {"name": s.name, "required_in_production": s.required_in_production}
            for s in spec.settings
        ],
        "roles": [r.code for r in spec.roles],
        "unit_kinds": [k.code for k in spec.unit_kinds],
        "cockpit_tiles": [t.code for t in spec.cockpit_tiles],
        "background": [b.name for b in spec.background],
    }


class Command(BaseCommand):
    help = "List the modules: enabled or disabled, their channels, routes and periodic tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        enabled = {spec.name for spec in registry.modules()}
        described = [
            module_describe(spec, enabled=spec.name in enabled)
            for spec in (
                import_string(f"{app}.hooks.MODULE") for app in settings.CIVICLOOP_MODULES_AVAILABLE
            )
        ]
        if options["json"]:
            self.stdout.write(json.dumps(described, ensure_ascii=False, indent=2))
            return
        for m in described:
            state = "enabled" if m["enabled"] else "disabled"
            self.stdout.write(f"{m['name']} ({m['label']}, {m['app']}): {state}")
            for ch in m["channels"]:
                self.stdout.write(
                    f"  channel {ch['code']} ({ch['name']}), workflow {ch['workflow']}, "
                    f"intakes: {', '.join(ch['intakes'])}"
                )
            if m["enabled"]:
                self.stdout.write(f"  routes: {len(m['routes'])}")
                for route in m["routes"]:
                    self.stdout.write(f"    {route}")
                for api_path in m["api"]:
                    self.stdout.write(f"  api: {api_path}")
            for task in m["periodic_tasks"]:
                self.stdout.write(
                    f"  periodic task {task['name']}: {task['task']} every {task['every_seconds']:g} s"
                )
            required = [s["name"] for s in m["settings"] if s["required_in_production"]]
            self.stdout.write(
                f"  settings: {len(m['settings'])}"
                + (f" (required in production: {', '.join(required)})" if required else "")
            )
            if m["roles"] or m["unit_kinds"]:
                self.stdout.write(
                    f"  roles: {', '.join(m['roles']) or '-'}; "
                    f"unit kinds: {', '.join(m['unit_kinds']) or '-'}"
                )
