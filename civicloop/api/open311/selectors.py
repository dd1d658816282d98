"""Reads for Open311: the public services and the requests on them, as the public may
see them (each channel's `Publication`) or whole for a key that may read full records."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from civicloop.core import registry
from civicloop.core.areas.models import Area, AreaLevel
from civicloop.core.cases.models import Case

MAX_REQUESTS = 1000
STATUSES = frozenset({"open", "closed"})


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


def _day_start(value: datetime) -> datetime:
    return timezone.localtime(value).replace(hour=0, minute=0, second=0, microsecond=0)


def _day_end(value: datetime) -> datetime:
    day = timezone.localtime(value).date()
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def public_requests(
    *,
    full: bool = False,
    numbers: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: Collection[str] = (),
    limit: int = MAX_REQUESTS,
) -> QuerySet[Case]:
    """Requests on Open311 services, newest first. With `numbers`, only those (the
    other filters are ignored, as the spec says); otherwise filtered by service, by
    submission time and by status (any of open/closed; none or both: every status).

    Unless `full` (a key that may read full records), the rows are those the public may
    see: no case of a channel that publishes nothing, no anonymous case looked up by its
    number, and anonymous cases matched by the date filters by whole days and listed
    after the others, so neither a narrow window nor their place in the list dates them.
    """
    channels = open311_channels()
    if not full:
        channels = [ch for ch in channels if ch.publication != registry.Publication.NOTHING]
    qs = Case.objects.filter(channel__in=[ch.code for ch in channels]).select_related(
        "area", "owner_unit", "holder_unit", "merged_into"
    )
    if numbers is not None:
        if not full:
            qs = qs.filter(anonymous=False)
        return qs.filter(number__in=numbers).order_by("-created_at")[:limit]
    if service_codes:
        qs = qs.filter(channel__in=service_codes)
    if start is not None:
        qs = qs.filter(
            Q(created_at__gte=start)
            if full
            else Q(anonymous=False, created_at__gte=start)
            | Q(anonymous=True, created_at__gte=_day_start(start))
        )
    if end is not None:
        qs = qs.filter(
            Q(created_at__lte=end)
            if full
            else Q(anonymous=False, created_at__lte=end)
            | Q(anonymous=True, created_at__lt=_day_end(end))
        )
    wanted = set(statuses) & STATUSES
    if wanted == {"closed"}:
        qs = qs.filter(_closed_q(channels))
    elif wanted == {"open"}:
        qs = qs.exclude(_closed_q(channels))
    order = ("-created_at",) if full else ("anonymous", "-created_at")
    return qs.order_by(*order)[:limit]


def towns_of(cases: Iterable[Case]) -> dict[str, Area]:
    """The town-level area (镇/街道) on the path of each case's area, by case number, in
    one query; a case filed at the city level or without an area has none."""
    paths = {case.number: case.area_path.split("/") for case in cases if case.area_path}
    codes = {code for path in paths.values() for code in path}
    towns = {a.code: a for a in Area.objects.filter(code__in=codes, level=AreaLevel.TOWN)}
    found: dict[str, Area] = {}
    for number, path in paths.items():
        town = next((towns[code] for code in path if code in towns), None)
        if town is not None:
            found[number] = town
    return found
