"""How a module declares itself to core: its channels, workflow templates and cockpit tiles.

Modules register from their `hooks.py`, imported by their AppConfig.ready(). Core only
knows what was registered here; it never imports a module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from civicloop.core.cases.workflow import WorkflowTemplate


@dataclass(frozen=True)
class Channel:
    """A way cases come in (民意直达, 生命通道 ...)."""

    code: str
    name: str | Promise
    number_prefix: str
    workflow: str
    description: str | Promise = ""
    categories: tuple[tuple[str, str | Promise], ...] = ()
    # Open311 GeoReport v2: whether this channel is a public service, and its group.
    open311: bool = False
    open311_group: str | Promise = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)
    # Which kinds of unit receive a new case, searched up the area tree from its area.
    owner_unit_kinds: tuple[str, ...] = ("town_office",)
    # Where staff act on a case when the channel's steps are taken on the module's own page
    # (`{number}` is replaced); the generic case page links there.
    staff_page: str = ""
    staff_page_label: str | Promise = ""


@dataclass(frozen=True)
class NavItem:
    """A link a module adds to the shell's top bar, for the users `visible(user)` accepts."""

    label: str | Promise
    path: str
    visible: Callable[[Any], bool]
    order: int = 100


class RegistryError(LookupError):
    pass


_channels: dict[str, Channel] = {}
_workflows: dict[str, WorkflowTemplate] = {}
_nav_items: list[NavItem] = []
# Labels of timeline events a module writes that are not workflow actions.
_event_labels: dict[str, str | Promise] = {}
# Modules add their demo data after core's demo city is built (`manage.py load_demo`).
_demo_loaders: list[tuple[str, Callable[[Callable[[str], None]], None]]] = []
# Long-running parts a module runs beside the web server in `manage.py serve` (an MQTT
# consumer, the demo's camera simulator). Each starter reads its own settings and returns
# None when it has nothing to run.
_background: list[tuple[str, Callable[[], Any]]] = []


def register_workflow(template: WorkflowTemplate) -> None:
    existing = _workflows.get(template.code)
    if existing is not None and existing is not template:
        raise RegistryError(f"Workflow template {template.code!r} registered twice.")
    template.validate()
    _workflows[template.code] = template


def register_channel(channel: Channel) -> None:
    existing = _channels.get(channel.code)
    if existing is not None and existing != channel:
        raise RegistryError(f"Channel {channel.code!r} registered twice.")
    _channels[channel.code] = channel


def workflow(code: str) -> WorkflowTemplate:
    try:
        return _workflows[code]
    except KeyError:
        raise RegistryError(f"No workflow template {code!r} is registered.") from None


def channel(code: str) -> Channel:
    try:
        return _channels[code]
    except KeyError:
        raise RegistryError(f"No channel {code!r} is registered.") from None


def register_demo_loader(name: str, loader: Callable[[Callable[[str], None]], None]) -> None:
    """`loader(log)` must be idempotent: running load_demo twice changes nothing."""
    if all(existing != name for existing, _ in _demo_loaders):
        _demo_loaders.append((name, loader))


def demo_loaders() -> list[tuple[str, Callable[[Callable[[str], None]], None]]]:
    return list(_demo_loaders)


def register_background(name: str, starter: Callable[[], Any]) -> None:
    """`starter()` starts a daemon thread (or returns None) and returns at once."""
    if all(existing != name for existing, _ in _background):
        _background.append((name, starter))


def background_starters() -> list[tuple[str, Callable[[], Any]]]:
    return list(_background)


def register_event_label(code: str, label: str | Promise) -> None:
    _event_labels[code] = label


def event_label(code: str) -> str | Promise | None:
    return _event_labels.get(code)


def register_nav_item(item: NavItem) -> None:
    if all(existing.path != item.path for existing in _nav_items):
        _nav_items.append(item)


def nav_items_for(user: Any) -> list[NavItem]:
    """The module links this user may follow, in order."""
    return sorted((i for i in _nav_items if i.visible(user)), key=lambda i: i.order)


def channels() -> list[Channel]:
    return list(_channels.values())


def workflows() -> list[WorkflowTemplate]:
    return list(_workflows.values())
