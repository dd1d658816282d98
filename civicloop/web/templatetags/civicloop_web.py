"""Template helpers of the web shell: the top bar, case labels, the overdue badge."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from civicloop.core import registry
from civicloop.core.cases import labels
from civicloop.core.cases.models import Case
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import user_standing

register = template.Library()


@register.inclusion_tag("web/_topbar.html", takes_context=True)
def topbar(context: template.Context) -> dict[str, Any]:
    """The shell's top bar: the user's masked name, units, nav and language switch."""
    request = context["request"]
    user = request.user
    out: dict[str, Any] = {"request": request, "user": user, "units": [], "is_admin": False}
    out["csrf_token"] = context.get("csrf_token")
    out["LANGUAGE_CODE"] = context.get("LANGUAGE_CODE")
    if user.is_authenticated:
        standing = user_standing(user)
        out["units"] = list(
            Unit.objects.filter(pk__in=standing.unit_ids)
            .order_by("code")
            .values_list("name", flat=True)
        )
        out["is_admin"] = bool(user.is_staff or standing.is_admin)
        items = [] if user.is_citizen else registry.nav_items_for(user)
        out["module_nav"] = nav_entries(items, request.path)
    return out


def nav_entries(items: list[registry.NavItem], path: str) -> list[dict[str, Any]]:
    """The top bar's module entries, in the items' order: a link, or a menu for a section
    of which the user sees two or more links (placed where its first link would be).
    The current page is the link whose path is the longest prefix of `path`."""
    current = max(
        (item.path for item in items if path.startswith(item.path)), key=len, default=None
    )
    entries: list[dict[str, Any]] = []
    menus: dict[str, dict[str, Any]] = {}
    for item in items:
        link = {"label": item.label, "path": item.path, "current": item.path == current}
        section = str(item.section)
        if not section:
            entries.append(link)
        elif section in menus:
            menus[section]["links"].append(link)
            menus[section]["current"] = menus[section]["current"] or link["current"]
        else:
            menus[section] = {"label": item.section, "links": [link], "current": link["current"]}
            entries.append(menus[section])
    return [
        entry["links"][0] if "links" in entry and len(entry["links"]) == 1 else entry
        for entry in entries
    ]


@register.filter
def state_label(case: Case) -> str:
    return labels.state_label(case.workflow, case.state)


@register.filter
def channel_label(code: str) -> str:
    return labels.channel_label(code)


@register.filter
def is_overdue(case: Case) -> bool:
    return bool(
        case.due_at is not None
        and case.due_at <= timezone.now()
        and not labels.case_is_terminal(case)
    )


@register.filter
def short_digest(digest: str) -> str:
    return digest[:12]


@register.filter
def capped_count(value: int) -> str:
    """Workbench counts stop at COUNT_CAP; show "999+" rather than a false exact figure."""
    from civicloop.core.cases.selectors import COUNT_CAP

    return f"{COUNT_CAP - 1}+" if value >= COUNT_CAP else str(value)
