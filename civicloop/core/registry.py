"""How a module declares itself to core: the module contract.

A module is one folder (`civicloop/<name>/`) whose `hooks.py` holds one `ModuleSpec`
named `MODULE`: its channels, workflow templates, URLs, ninja router, periodic tasks,
settings, roles, unit kinds, nav items, cockpit tiles, demo loader and background
starters. Its AppConfig derives from `ModuleAppConfig`, whose ready() registers the spec
here. `config` loops over what is registered (and over the specs of the available
modules for settings); core only knows what was registered here and never imports a
module.

`hooks.py` is read while settings load, before Django's apps are ready: it may import
this file and Django's translation helpers, nothing that touches models. Everything
heavier is named by its dotted path and imported when registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from django.apps import AppConfig
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from civicloop.notify.templates import SmsTemplate, template_register

if TYPE_CHECKING:
    from civicloop.core.cases.workflow import WorkflowTemplate


class Intake(StrEnum):
    """How cases may enter a channel."""

    # The generic JSON API (`POST /api/v1/cases`, an integration's API key).
    API = "api"
    # Open311 GeoReport v2 (`POST /open311/v2/requests.json`).
    OPEN311 = "open311"
    # Only the module's own service (a citizen's submit page, a camera intake): the
    # generic API and Open311 refuse the channel.
    MODULE = "module"


class Publication(StrEnum):
    """What the public (Open311 `GET` without a key that may read full records) sees of
    a channel's cases. An anonymous case (`Case.anonymous`) never shows more than its
    channel (category), town and status, whatever the policy."""

    # Not listed at all.
    NOTHING = "nothing"
    # Category, town, status, dates and, once closed, the answer; the text and the place
    # (rounded to about 100 m) only when `Case.data[PUBLISH_CONSENT]` is true.
    PUBLIC_PROJECTION = "public_projection"
    # Every public field as stored (no contact data): for cases public by nature.
    ALL = "all"


# The key of `Case.data` holding the citizen's consent to publish the text and place.
PUBLISH_CONSENT = "publish_consent"


@dataclass(frozen=True)
class Open311Attribute:
    """An attribute of an Open311 service beyond the category (GeoReport v2)."""

    code: str
    description: str | Promise
    required: bool = True
    datatype: str = "string"


@dataclass(frozen=True)
class Channel:
    """A way cases come in (民意直达, 生命通道 ...)."""

    code: str
    name: str | Promise
    number_prefix: str
    workflow: str
    description: str | Promise = ""
    categories: tuple[tuple[str, str | Promise], ...] = ()
    # How cases may enter (see Intake). A channel with only Intake.MODULE is created by
    # its module's own services; the generic API and Open311 refuse it.
    intakes: frozenset[Intake] = frozenset({Intake.MODULE})
    # Open311 GeoReport v2: its group in the service list (offered when OPEN311 intake).
    open311_group: str | Promise = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)
    # What the public may see of its cases (see Publication); nothing unless declared.
    publication: Publication = Publication.NOTHING
    # Which kinds of unit receive a new case, searched up the area tree from its area.
    owner_unit_kinds: tuple[str, ...] = ("town_office",)
    # Where staff act on a case when the channel's steps are taken on the module's own page
    # (`{number}` is replaced); the generic case page links there.
    staff_page: str = ""
    staff_page_label: str | Promise = ""
    # The key of `Case.data` naming the person a case is addressed to (a deputy), and what
    # to call them: the cockpit counts the channel's cases per person under that label.
    person_key: str = ""
    person_label: str | Promise = ""
    # Open311: attributes a POST carries (`attribute[<code>]`) beside the category, listed
    # in the service definition; `open311_prepare` is the dotted path of
    # `(draft: CaseDraft, attributes: dict[str, str]) -> CaseDraft` that checks them and
    # completes the draft (owner unit, area, deadline, data) or raises a DomainError; such
    # a channel routes by its attributes, so a POST need not say where.
    open311_attributes: tuple[Open311Attribute, ...] = ()
    open311_prepare: str = ""
    # Show the result in Open311 `status_notes` while the case is still open: a
    # conversation whose answer is given before the citizen closes it.
    status_notes_while_open: bool = False

    @property
    def open311(self) -> bool:
        """Offered as an Open311 service (GeoReport service list, POST requests)."""
        return Intake.OPEN311 in self.intakes

    def accepts(self, intake: Intake) -> bool:
        return intake in self.intakes


@dataclass(frozen=True)
class NavItem:
    """A link a module adds to the shell's top bar, for the users `visible(user)` accepts.

    Links that name the same `section` (人大, 政协, ...) are shown as one menu when a user
    sees more than one of them, so the bar stays one line however many modules run."""

    label: str | Promise
    path: str
    visible: Callable[[Any], bool]
    order: int = 100
    section: str | Promise = ""


class RegistryError(LookupError):
    pass


# Marks a Setting attribute left unset (None and False are real values).
UNSET: Any = object()
# How a Setting's environment variable is read (django-environ's casts).
_CASTS = ("str", "int", "float", "bool", "list")


@dataclass(frozen=True)
class Setting:
    """A setting a module reads from `django.conf.settings`, filled from the environment.

    `default` is a value, or a callable given the settings read so far (to derive one
    from SITE_URL or VAR_DIR). Production (`civicloop.config.production`) refuses to start
    without a `required_in_production` variable, takes `production_default` when the
    variable is unset, forces `production_value` when set (the demo's stand-ins are off),
    and refuses a value outside `production_choices`."""

    name: str
    default: Any
    cast: str = "str"
    doc: str = ""
    required_in_production: bool = False
    production_default: Any = UNSET
    production_value: Any = UNSET
    production_choices: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.cast not in _CASTS:
            raise RegistryError(f"Setting {self.name}: unknown cast {self.cast!r}.")

    def read(self, env: Any, namespace: dict[str, Any]) -> Any:
        """The value from the environment, else the default."""
        default = self.default(namespace) if callable(self.default) else self.default
        return getattr(env, self.cast)(self.name, default=default)


@dataclass(frozen=True)
class RoleSpec:
    """A role a module adds (人大代表, 执法人员 ...). `acts_for_unit`: its holders act on
    the cases of the unit they are a member of, as handlers do."""

    code: str
    label: str | Promise
    acts_for_unit: bool = True


@dataclass(frozen=True)
class UnitKindSpec:
    """A kind of handling unit a module adds (代表联络站, 物业/管理单位 ...)."""

    code: str
    label: str | Promise


@dataclass(frozen=True)
class PeriodicTask:
    """A Celery beat entry; the embedded scheduler runs the same entries in-process.
    The task must be idempotent (a sweep): it may run late, twice, or in two places."""

    name: str
    task: str
    every_seconds: float


@dataclass(frozen=True)
class TileValue:
    """One figure of a cockpit tile, with an optional link to the list behind it."""

    label: str | Promise
    value: int | float | str
    href: str = ""
    alert: bool = False


@dataclass(frozen=True)
class CockpitTile:
    """A tile on the leaders' cockpit. `figures` is the dotted path of a selector
    `(*, user, now) -> list[TileValue]` that counts only what the user may see, or None
    when the tile does not concern the user."""

    code: str
    label: str | Promise
    figures: str
    order: int = 100


@dataclass(frozen=True)
class Background:
    """A long-running part started beside the web server (`manage.py serve`): the dotted
    path of a starter `() -> object | None` that starts a daemon thread and returns at
    once (None: nothing to run with the current settings)."""

    name: str
    starter: str


@dataclass(frozen=True)
class ModuleSpec:
    """Everything a module declares, in one place (its `hooks.py`, as `MODULE`).

    `name` is the app label and the word in CIVICLOOP_MODULES. Dotted paths are imported
    only when the module is registered (enabled and its app ready)."""

    name: str
    label: str | Promise
    app: str
    description: str | Promise = ""
    channels: tuple[Channel, ...] = ()
    workflows: tuple[str, ...] = ()
    # A urls module included at the site root (pages, device intakes), and a ninja
    # Router mounted under /api/v1/<api_prefix> (every JSON endpoint of the module).
    urls: str = ""
    api_router: str = ""
    api_prefix: str = ""
    periodic_tasks: tuple[PeriodicTask, ...] = ()
    settings: tuple[Setting, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    unit_kinds: tuple[UnitKindSpec, ...] = ()
    nav_items: tuple[NavItem, ...] = ()
    cockpit_tiles: tuple[CockpitTile, ...] = ()
    # Labels of timeline events the module writes that are not workflow actions.
    event_labels: tuple[tuple[str, str | Promise], ...] = ()
    # The SMS templates it sends (name, template as filed with the SMS provider).
    sms_templates: tuple[tuple[str, SmsTemplate], ...] = ()
    # `loader(log)`, idempotent, run by `manage.py load_demo` after core's demo city.
    demo_loader: str = ""
    background: tuple[Background, ...] = ()
    # Dotted paths of readiness checks `() -> ReadyCheck | None` that /healthz/ready
    # runs beside core's (None: nothing to check with the current settings).
    readiness: tuple[str, ...] = ()


class ModuleAppConfig(AppConfig):
    """The AppConfig of a module: registers its `hooks.MODULE` when Django is ready.

    A module's subclass sets `default = True`: its apps.py then holds two AppConfig
    classes, and Django would otherwise fall back to a plain AppConfig."""

    def ready(self) -> None:
        spec = import_string(f"{self.name}.hooks.MODULE")
        if spec.app != self.name or spec.name != self.label:
            raise RegistryError(
                f"{self.name}.hooks.MODULE names app {spec.app!r} / {spec.name!r}; "
                f"its AppConfig is {self.name!r} / {self.label!r}."
            )
        register_module(spec)


_modules: dict[str, ModuleSpec] = {}
_roles: dict[str, RoleSpec] = {}
_unit_kinds: dict[str, UnitKindSpec] = {}
_tiles: list[tuple[str, CockpitTile]] = []
_channels: dict[str, Channel] = {}
_workflows: dict[str, WorkflowTemplate] = {}
_nav_items: list[NavItem] = []
# Labels of timeline events a module writes that are not workflow actions.
_event_labels: dict[str, str | Promise] = {}
# Modules add their demo data after core's demo city is built (`manage.py load_demo`).
_demo_loaders: list[tuple[str, Callable[[Callable[[str], None]], Any]]] = []
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
    """A registered template: a module's (or core's), else one a source holds (a data
    template `<code>@<version>`, see add_source)."""
    try:
        return _workflows[code]
    except KeyError:
        pass
    for source in _sources:
        found = source.workflow(code)
        if found is not None:
            return found
    raise RegistryError(f"No workflow template {code!r} is registered.")


def channel(code: str) -> Channel:
    """A registered channel: a module's, else one a source holds (an application's, even
    a disabled one: its old cases still need their labels)."""
    try:
        return _channels[code]
    except KeyError:
        pass
    for source in _sources:
        found = source.channel(code)
        if found is not None:
            return found
    raise RegistryError(f"No channel {code!r} is registered.")


def register_demo_loader(name: str, loader: Callable[[Callable[[str], None]], Any]) -> None:
    """`loader(log)` must be idempotent: running load_demo twice changes nothing."""
    if all(existing != name for existing, _ in _demo_loaders):
        _demo_loaders.append((name, loader))


def demo_loaders() -> list[tuple[str, Callable[[Callable[[str], None]], Any]]]:
    return list(_demo_loaders)


def register_background(name: str, starter: Callable[[], Any]) -> None:
    """`starter()` starts a daemon thread (or returns None) and returns at once."""
    if all(existing != name for existing, _ in _background):
        _background.append((name, starter))


def background_starters() -> list[tuple[str, Callable[[], Any]]]:
    return list(_background)


@dataclass(frozen=True)
class ReadyCheck:
    """One readiness figure: `name` is its key in /healthz/ready's answer, `value` what it
    shows (a number or a short text), `problem` a text naming what is wrong, or ""."""

    name: str
    value: Any
    problem: str = ""


_readiness: list[Callable[[], ReadyCheck | None]] = []


def register_readiness(check: Callable[[], ReadyCheck | None]) -> None:
    if check not in _readiness:
        _readiness.append(check)


def readiness_checks() -> list[Callable[[], ReadyCheck | None]]:
    return list(_readiness)


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
    """The modules' channels, then the sources' (enabled applications) whose code no
    module channel uses."""
    out = list(_channels.values())
    for source in _sources:
        out.extend(ch for ch in source.channels() if ch.code not in _channels)
    return out


def workflows() -> list[WorkflowTemplate]:
    """The modules' templates, then the sources' (every version cases may be on)."""
    out = list(_workflows.values())
    for source in _sources:
        out.extend(t for t in source.workflows() if t.code not in _workflows)
    return out


def static_channels() -> list[Channel]:
    """Only the channels modules registered in code."""
    return list(_channels.values())


def static_channel_codes() -> frozenset[str]:
    return frozenset(_channels)


def static_workflows() -> list[WorkflowTemplate]:
    """Only the templates modules (and core) registered in code."""
    return list(_workflows.values())


def static_workflow_codes() -> frozenset[str]:
    return frozenset(_workflows)


# --------------------------------------------------------------------------- sources


class RegistrySource(Protocol):
    """Channels and workflow templates held as data (core.forms: applications and
    workflow definitions). Asked only for what no module registered: module channels
    and templates win. Must answer repeated lookups without a query each time."""

    def channel(self, code: str) -> Channel | None: ...

    def channels(self) -> list[Channel]: ...

    def workflow(self, code: str) -> WorkflowTemplate | None: ...

    def workflows(self) -> list[WorkflowTemplate]: ...


_sources: list[RegistrySource] = []


def add_source(source: RegistrySource) -> None:
    """Add a source of data channels and templates (once; a second add is ignored)."""
    if all(existing is not source for existing in _sources):
        _sources.append(source)


# The engine calls the handler of an effect it does not implement itself (SPAWN_CASES)
# after the state change, in the transition's transaction:
# `handler(case=, action=, actor=, now=, entry=)`, returning data to add to the entry.
_effect_handlers: dict[str, Callable[..., dict[str, Any] | None]] = {}


def register_effect_handler(effect: str, handler: Callable[..., dict[str, Any] | None]) -> None:
    existing = _effect_handlers.get(str(effect))
    if existing is not None and existing is not handler:
        raise RegistryError(f"Effect {effect!r} has a handler already.")
    _effect_handlers[str(effect)] = handler


def effect_handler(effect: str) -> Callable[..., dict[str, Any] | None] | None:
    return _effect_handlers.get(str(effect))


# --------------------------------------------------------------------------- modules


def register_module(spec: ModuleSpec) -> None:
    """Register everything the module declares. Registering the same spec again (a
    second ready()) changes nothing; a different spec under the same name is refused."""
    existing = _modules.get(spec.name)
    if existing is not None:
        if existing is not spec:
            raise RegistryError(f"Module {spec.name!r} registered twice.")
        return
    for role in spec.roles:
        if role.code in _roles and _roles[role.code] != role:
            raise RegistryError(f"Role {role.code!r} registered twice.")
        _roles[role.code] = role
    for kind in spec.unit_kinds:
        if kind.code in _unit_kinds and _unit_kinds[kind.code] != kind:
            raise RegistryError(f"Unit kind {kind.code!r} registered twice.")
        _unit_kinds[kind.code] = kind
    for path in spec.workflows:
        register_workflow(import_string(path))
    for ch in spec.channels:
        register_workflow_known(ch)
        register_channel(ch)
    for code, label in spec.event_labels:
        register_event_label(code, label)
    for name, template in spec.sms_templates:
        template_register(name, template)
    for item in spec.nav_items:
        register_nav_item(item)
    for tile in spec.cockpit_tiles:
        _tiles.append((spec.name, tile))
    if spec.demo_loader:
        register_demo_loader(spec.name, import_string(spec.demo_loader))
    for bg in spec.background:
        register_background(bg.name, import_string(bg.starter))
    for check in spec.readiness:
        register_readiness(import_string(check))
    _modules[spec.name] = spec


def register_workflow_known(ch: Channel) -> None:
    """A channel names a workflow that is registered (core's or its module's)."""
    if ch.workflow not in _workflows:
        raise RegistryError(f"Channel {ch.code!r} names unknown workflow {ch.workflow!r}.")


def modules() -> list[ModuleSpec]:
    """The enabled modules, in the order they were installed."""
    return list(_modules.values())


def module(name: str) -> ModuleSpec:
    try:
        return _modules[name]
    except KeyError:
        raise RegistryError(f"No module {name!r} is enabled.") from None


def roles() -> list[RoleSpec]:
    return list(_roles.values())


def unit_kinds() -> list[UnitKindSpec]:
    return list(_unit_kinds.values())


def register_cockpit_tile(owner: str, tile: CockpitTile) -> None:
    """A tile of core's own (applications defined as data), beside the modules' tiles.
    Registering the same tile again changes nothing."""
    if all(existing != (owner, tile) for existing in _tiles):
        _tiles.append((owner, tile))


def cockpit_tiles() -> list[tuple[str, CockpitTile]]:
    """(module name, tile) of every enabled module, in order."""
    return sorted(_tiles, key=lambda item: item[1].order)
