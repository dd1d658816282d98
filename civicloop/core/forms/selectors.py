"""Reads of applications: which one a code names, who may submit to it, its form."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.roles import Role
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.models import Application, FormVersion, Submitter
from civicloop.core.registry import TileValue
from civicloop.core.units.selectors import user_standing

if TYPE_CHECKING:
    from civicloop.core.areas.models import Area
    from civicloop.core.forms.definition import FormDef

# A deputy is a role a module declares (人大代表); applications name it as data.
DEPUTY_ROLE = "deputy"


def application_get(code: str, *, enabled_only: bool = True) -> Application:
    """The application with this code (FormError UNKNOWN_APP), enabled unless asked
    otherwise (DISABLED)."""
    app = Application.objects.select_related("current_form").filter(code=code).first()
    if app is None:
        raise FormError(FormErrorCode.UNKNOWN_APP)
    if enabled_only and not app.enabled:
        raise FormError(FormErrorCode.DISABLED)
    return app


def applications_enabled() -> QuerySet[Application]:
    return Application.objects.filter(enabled=True).select_related("current_form")


def application_may_submit(user: Any, application: Application) -> bool:
    """Whether this signed-in person may submit to the application (API keys are
    checked by `application_takes_api`)."""
    return submitters_allow(
        user,
        submitters=application.submitters,
        submit_units=lambda: set(application.submit_units.values_list("pk", flat=True)),
    )


def submitters_allow(
    user: Any, *, submitters: Iterable[str], submit_units: Callable[[], set[int] | frozenset[int]]
) -> bool:
    """The rule of `Application.submitters` for a signed-in person: citizens if allowed,
    administrators always, deputies if allowed, staff of the given units (any unit when
    none is given). `submit_units` is called only when needed."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    allowed = set(submitters)
    if getattr(user, "is_citizen", False):
        return Submitter.CITIZEN in allowed
    standing = user_standing(user)
    if standing.is_admin:
        return True
    if Submitter.DEPUTY in allowed and DEPUTY_ROLE in standing.roles():
        return True
    if Submitter.STAFF in allowed and standing.unit_ids:
        units = submit_units()
        return not units or bool(units & standing.unit_ids)
    return False


def menu_offers_applications(user: Any) -> bool:
    """Whether the shell's menu shows "应用" to this person: an application shown in
    the menu takes their submissions. From the registry's snapshot, no query."""
    from civicloop.core.forms.sources import menu_entries

    for entry in menu_entries():
        if submitters_allow(user, submitters=entry.submitters, submit_units=entry.units):
            return True
    return False


def application_takes_api(application: Application) -> bool:
    return Submitter.API in set(application.submitters)


def applications_for(user: Any) -> list[Application]:
    """The enabled applications (with a form) this person may submit to, by name."""
    apps = applications_enabled().filter(current_form__isnull=False).order_by("name")
    return [a for a in apps if application_may_submit(user, a)]


def application_open_in(application: Application, area: Area | None) -> bool:
    """Whether the application is enabled where the submission is: city-wide (no towns
    chosen), or in one of its towns (the area or an area under it)."""
    towns = list(application.towns.all())
    if not towns:
        return True
    if area is None:
        return False
    return any(area.path == t.path or area.path.startswith(t.path + "/") for t in towns)


def submitter_unit(user: Any, application: Application) -> int | None:
    """The unit a staff member or deputy submits for: one of their units, preferring
    the application's owner kinds, then units where they act (handler, deputy ...)."""
    standing = user_standing(user)
    if not standing.unit_ids:
        return None
    kinds = list(application.owner_unit_kinds or [])

    def rank(pk: int) -> tuple[int, int]:
        kind = standing.unit_info.get(pk, ("", ""))[1]
        kind_rank = kinds.index(kind) if kind in kinds else len(kinds)
        acting = bool(standing.unit_roles.get(pk, frozenset()) - {Role.CITIZEN})
        return (kind_rank, 0 if acting else 1)

    return min(sorted(standing.unit_ids), key=rank)


_forms: dict[tuple[int, str], FormDef] = {}
_forms_lock = threading.Lock()


def form_of(version: FormVersion) -> FormDef:
    """The parsed form of a version. Versions never change, so it is built once per
    process and kept (a few hundred kB at most per version)."""
    from civicloop.core.forms.definition import FormDef

    # Keyed by the file's digest too: a database may give a deleted row's id again.
    key = (version.pk, version.sha256)
    cached = _forms.get(key)
    if cached is not None:
        return cached
    form = FormDef.from_json(version.definition)
    with _forms_lock:
        _forms[key] = form
    return form


def submission_of(case: Any) -> Any:
    """The Submission behind a case opened through an application, or None."""
    from civicloop.core.forms.models import Submission

    return (
        Submission.objects.select_related("form_version", "application")
        .filter(case_id=case.pk)
        .first()
    )


def applications_on_station(area: Area | None) -> list[Application]:
    """The enabled applications (with a form) a liaison station's code page offers,
    where the station is (its town)."""
    apps = applications_enabled().filter(current_form__isnull=False, show_on_station=True)
    return [a for a in apps.order_by("name") if application_open_in(a, area)]


def application_figures(*, user: Any, now: datetime) -> list[TileValue]:
    """The cockpit's figures of the applications shown there: for each, its open cases
    (red when some are overdue), over the cases the user may see."""
    from civicloop.core.cases.selectors import channels_open

    apps = list(applications_enabled().filter(show_in_cockpit=True).order_by("name"))
    if not apps:
        return []
    counts = channels_open(user=user, channels=[a.code for a in apps], now=now)
    out = []
    for app in apps:
        open_count, overdue = counts.get(app.code, (0, 0))
        label = _("%(app)s 办理中") % {"app": app.name}
        out.append(TileValue(label, open_count, f"/cases/?channel={app.code}", alert=overdue > 0))
    return out
