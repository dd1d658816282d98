"""Reads for Open311: the public services and the public view of their requests."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from civicloop.core import registry
from civicloop.core.cases.models import Case

MAX_REQUESTS = 1000


def open311_channels() -> list[registry.Channel]:
    """The registered channels offered as Open311 services, in registration order."""
    return [ch for ch in registry.channels() if ch.open311]


def is_closed(case: Case) -> bool:
    """Whether the case is in a terminal state of its workflow (GeoReport "closed")."""
    try:
        return registry.workflow(case.workflow).state(case.state).terminal
    except (registry.RegistryError, KeyError):
        return False


def _closed_q(channels: list[registry.Channel]) -> Q:
    q = Q(pk__in=[])
    for code in {ch.workflow for ch in channels}:
        template = registry.workflow(code)
        q |= Q(workflow=template.code, state__in=template.terminal_states())
    return q


def public_requests(
    *,
    numbers: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str = "",
    limit: int = MAX_REQUESTS,
) -> QuerySet[Case]:
    """Requests on Open311 services, newest first. With `numbers`, only those (the
    other filters are ignored, as the spec says); otherwise filtered by service, by
    submission time and by status (open/closed)."""
    channels = open311_channels()
    qs = Case.objects.filter(channel__in=[ch.code for ch in channels]).select_related(
        "area", "owner_unit", "holder_unit", "merged_into"
    )
    if numbers is not None:
        return qs.filter(number__in=numbers).order_by("-created_at")[:limit]
    if service_codes:
        qs = qs.filter(channel__in=service_codes)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    if status == "closed":
        qs = qs.filter(_closed_q(channels))
    elif status == "open":
        qs = qs.exclude(_closed_q(channels))
    return qs.order_by("-created_at")[:limit]
