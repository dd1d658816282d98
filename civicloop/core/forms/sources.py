"""Applications and workflow definitions as a source of the registry.

`connect()` (called from the app's ready()) adds `DATA` to `core.registry`, so that
`registry.channel(app.code)`, `registry.channels()`, `registry.workflow("<code>@<n>")` and
`registry.workflows()` see what administrators saved as data, in every process, without
a restart; and registers the SPAWN_CASES effect handler.

How fresh: each process keeps a snapshot of the applications and of which workflow
versions exist. The process that saves a row reloads its snapshot at once (post_save: it
sees its own change even before commit) and, on commit, bumps a version in the shared
cache. Every process compares that version (a cache read, not a query) at most every
RECHECK_SECONDS and reloads when it changed, so with the shared cache of a multi-process
deployment (CACHE_URL: Redis) another web process sees a change within RECHECK_SECONDS.
Should the cache lose the version (eviction, outage, a process-local cache) or a row be
written without signals (a queryset update), one cheap query (the row counts and the
newest change of both tables) every MAX_AGE_SECONDS catches it. A list page that asks for
a channel per row therefore makes no query per row. (This is the calendar's scheme, see
core.sla.working_days.)

Workflow definitions are immutable rows: a template built from one is kept for the life
of the process. Module (static) channels and templates always win over data ones.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from civicloop.core import registry
from civicloop.core.cache_version import shared_version, shared_version_bump
from civicloop.core.cases.workflow import Effect, WorkflowTemplate
from civicloop.core.registry import Channel, Intake, Publication

logger = logging.getLogger(__name__)

# How stale another process's change may be seen here through the shared cache (the
# issue asks for "without a restart"; a second is what a clerk notices as "at once").
RECHECK_SECONDS = 1.0
# The bound without the shared cache's version (lost, or a process-local cache): the
# tables themselves are checked with one query this often.
MAX_AGE_SECONDS = 30.0
VERSION_CACHE_KEY = "civicloop:forms:registry-version"


@dataclass(frozen=True)
class _Definition:
    pk: int
    code: str
    version: int
    label: str
    # With the pk, tells two rows apart that a rolled-back test gave the same pk.
    created_at: str


@dataclass
class _Snapshot:
    signature: tuple[Any, ...]
    checked_at: float
    # The shared version it was loaded under, and when the tables were last compared.
    version: object = None
    db_checked_at: float = 0.0
    channels: dict[str, Channel] = field(default_factory=dict)
    enabled: tuple[str, ...] = ()
    definitions: dict[str, _Definition] = field(default_factory=dict)
    # Data workflow code -> its newest version's template code.
    latest: dict[str, str] = field(default_factory=dict)
    # The enabled applications with a form that the shell's menu may offer.
    menu: tuple[MenuEntry, ...] = ()


@dataclass(frozen=True)
class MenuEntry:
    """What the menu needs to know of an application: who may submit to it."""

    code: str
    submitters: frozenset[str]
    submit_units: frozenset[int]

    def units(self) -> frozenset[int]:
        return self.submit_units


_lock = threading.RLock()
_holder: list[_Snapshot | None] = [None]
# Templates built from definitions, kept for the life of the process (rows are immutable).
_templates: dict[tuple[int, str], WorkflowTemplate] = {}


def _signature() -> tuple[Any, ...]:
    from civicloop.core.forms.models import Application, WorkflowDefinition

    q = connection.ops.quote_name
    apps, defs = q(Application._meta.db_table), q(WorkflowDefinition._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {apps}), (SELECT MAX(updated_at) FROM {apps}), "  # noqa: S608 - table names from _meta
            f"(SELECT COUNT(*) FROM {defs}), (SELECT MAX(id) FROM {defs})"
        )
        row = cursor.fetchone()
    return tuple(str(v) for v in row) if row else ()


def _channel_name(name: str, name_en: str) -> Any:
    if not name_en:
        return name
    from civicloop.core.forms.workflow_data import _lazy_label

    return _lazy_label({"zh-hans": name, "en": name_en})


def _load(signature: tuple[Any, ...], now: float) -> _Snapshot:
    from civicloop.core.forms.models import Application, WorkflowDefinition

    snap = _Snapshot(signature=signature, checked_at=now)
    for row in WorkflowDefinition.objects.order_by("code", "version").values(
        "pk", "code", "version", "label", "created_at"
    ):
        d = _Definition(
            row["pk"], row["code"], row["version"], row["label"], row["created_at"].isoformat()
        )
        snap.definitions[f"{d.code}@{d.version}"] = d
        snap.latest[d.code] = f"{d.code}@{d.version}"
    static = registry.static_workflow_codes()
    enabled = []
    menu: list[dict[str, Any]] = []
    for app in Application.objects.order_by("code").values(
        "code",
        "name",
        "name_en",
        "description",
        "number_prefix",
        "workflow",
        "public",
        "enabled",
        "owner_unit_kinds",
        "show_in_menu",
        "current_form_id",
        "submitters",
        "pk",
    ):
        wf = app["workflow"]
        if "@" not in wf and wf not in static:
            wf = snap.latest.get(wf, wf)
        # Submissions come through the application's own page and API (checked by its
        # form), never the generic case API; a public one is also an Open311 service
        # whose attributes are its questions (api/open311/applications.py).
        intakes = {Intake.MODULE}
        if app["public"]:
            intakes.add(Intake.OPEN311)
        snap.channels[app["code"]] = Channel(
            code=app["code"],
            name=_channel_name(app["name"], app["name_en"]),
            number_prefix=app["number_prefix"],
            workflow=wf,
            description=app["description"],
            intakes=frozenset(intakes),
            publication=Publication.PUBLIC_PROJECTION if app["public"] else Publication.NOTHING,
            owner_unit_kinds=tuple(app["owner_unit_kinds"] or ()),
        )
        if app["enabled"]:
            enabled.append(app["code"])
            if app["show_in_menu"] and app["current_form_id"] is not None:
                menu.append(dict(app))
    snap.enabled = tuple(enabled)
    units: dict[int, set[int]] = {}
    if menu:
        through = Application.submit_units.through
        for app_id, unit_id in through.objects.filter(
            application_id__in=[a["pk"] for a in menu]
        ).values_list("application_id", "unit_id"):
            units.setdefault(app_id, set()).add(unit_id)
    snap.menu = tuple(
        MenuEntry(a["code"], frozenset(a["submitters"] or ()), frozenset(units.get(a["pk"], ())))
        for a in menu
    )
    return snap


def _shared_version() -> object:
    return shared_version(VERSION_CACHE_KEY)


def _bump_shared_version() -> None:
    shared_version_bump(VERSION_CACHE_KEY)


def _fresh(now: float) -> _Snapshot | None:
    """The snapshot, reloaded first if another process changed the tables."""
    snap = _holder[0]
    if snap is not None and now - snap.checked_at < RECHECK_SECONDS:
        return snap
    with _lock:
        snap = _holder[0]
        if snap is not None and now - snap.checked_at < RECHECK_SECONDS:
            return snap
        version = _shared_version()
        if snap is not None and version is not None and version == snap.version:
            if now - snap.db_checked_at < MAX_AGE_SECONDS:
                snap.checked_at = now
                return snap
            signature = _signature()
            if signature == snap.signature:
                snap.checked_at = snap.db_checked_at = now
                return snap
        snap = _load(_signature(), now)
        snap.version, snap.db_checked_at = version, now
        _holder[0] = snap
        return snap


def _snapshot() -> _Snapshot:
    now = time.monotonic()
    try:
        snap = _fresh(now)
    except (DatabaseError, RuntimeError):
        # No database to read (before `migrate`, or where database access is barred,
        # as in a test without it): only the module channels and templates exist.
        # Inside a transaction a failed query cannot be passed over.
        if connection.in_atomic_block:
            raise
        logger.info("applications unreadable; no data channels", exc_info=True)
        snap = None
    return snap if snap is not None else _Snapshot(signature=(), checked_at=now)


def invalidate() -> None:
    """Forget this process's snapshot: the next lookup reads the tables again."""
    with _lock:
        _holder[0] = None


def reload() -> None:
    """Read the tables again now (this process). Quietly does nothing where the database
    cannot be read."""
    invalidate()
    _snapshot()


def _changed(**kwargs: Any) -> None:
    if not str(kwargs.get("action", "post_")).startswith("post_"):
        return  # m2m_changed's pre_add / pre_remove / pre_clear
    # This process at once (its own change, even uncommitted); the others through the
    # shared version once it is committed (so they cannot reload the old rows under it).
    reload()

    def _after_commit() -> None:
        _bump_shared_version()
        invalidate()

    transaction.on_commit(_after_commit)


# --------------------------------------------------------------------------- templates


def _build(code: str, d: _Definition, definition: Any) -> WorkflowTemplate | None:
    from civicloop.core.forms.errors import FormError
    from civicloop.core.forms.workflow_data import template_from_definition

    try:
        template = template_from_definition(code, definition, label=d.label)
    except FormError as exc:
        # Saved rows were valid when saved; an engine change may refuse one later.
        logger.error("workflow definition %s no longer valid: %s (%s)", code, exc, exc.where)
        return None
    _templates[(d.pk, d.created_at)] = template
    return template


def _template(code: str, d: _Definition) -> WorkflowTemplate | None:
    found = _templates.get((d.pk, d.created_at))
    if found is not None:
        return found
    from civicloop.core.forms.models import WorkflowDefinition

    row = WorkflowDefinition.objects.filter(pk=d.pk).values_list("definition", flat=True).first()
    return None if row is None else _build(code, d, row)


class DataSource:
    """What core.forms adds to the registry (see the module docstring)."""

    def channel(self, code: str) -> Channel | None:
        return _snapshot().channels.get(code)

    def channels(self) -> list[Channel]:
        snap = _snapshot()
        return [snap.channels[code] for code in snap.enabled]

    def workflow(self, code: str) -> WorkflowTemplate | None:
        if "@" not in code:
            return None
        d = _snapshot().definitions.get(code)
        if d is None:
            # Saved by another process since our last check (a case on it may already
            # exist): rows are immutable, so one direct read is safe to keep.
            from civicloop.core.forms.models import WorkflowDefinition

            base, _, version = code.rpartition("@")
            if not version.isdigit():
                return None
            row = (
                WorkflowDefinition.objects.filter(code=base, version=int(version))
                .values("pk", "code", "version", "label", "created_at", "definition")
                .first()
            )
            if row is None:
                return None
            d = _Definition(
                row["pk"], row["code"], row["version"], row["label"], row["created_at"].isoformat()
            )
            return _templates.get((d.pk, d.created_at)) or _build(code, d, row["definition"])
        return _template(code, d)

    def workflows(self) -> list[WorkflowTemplate]:
        snap = _snapshot()
        missing = {
            d.pk: (code, d)
            for code, d in snap.definitions.items()
            if (d.pk, d.created_at) not in _templates
        }
        if missing:
            from civicloop.core.forms.models import WorkflowDefinition

            for pk, definition in WorkflowDefinition.objects.filter(pk__in=missing).values_list(
                "pk", "definition"
            ):
                _build(missing[pk][0], missing[pk][1], definition)
        out = []
        for d in snap.definitions.values():
            template = _templates.get((d.pk, d.created_at))
            if template is not None:
                out.append(template)
        return out


DATA = DataSource()


def latest_version(code: str) -> str:
    """The template code of the newest version of data workflow `code` ("" if none)."""
    return _snapshot().latest.get(code, "")


def menu_entries() -> tuple[MenuEntry, ...]:
    """The applications the shell's menu may offer (enabled, with a form, shown in the
    menu), from the snapshot: no query on a page."""
    return _snapshot().menu


def data_workflow_labels() -> list[tuple[str, str]]:
    """(code, label of its newest version) of every data workflow."""
    snap = _snapshot()
    return [(code, snap.definitions[latest].label) for code, latest in snap.latest.items()]


def connect() -> None:
    """Make the registry see applications and workflow definitions (idempotent)."""
    from civicloop.core.forms import spawn
    from civicloop.core.forms.models import Application, WorkflowDefinition

    registry.add_source(DATA)
    registry.register_effect_handler(Effect.SPAWN_CASES, spawn.spawn_cases_handler)
    m2m_changed.connect(
        _changed, sender=Application.submit_units.through, dispatch_uid="forms-sources-units"
    )
    for model in (Application, WorkflowDefinition):
        post_save.connect(_changed, sender=model, dispatch_uid=f"forms-sources-save-{model}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"forms-sources-del-{model}")
