"""Cases linked across channels: an opinion that became a deputy's suggestion, a
suggestion that became a livelihood-project candidate, a meeting decision that became a
follow-up case. Records of different modules meet only here, case to case.

The link is written on both sides: the target's `data["came_from"]` lists the numbers it
came from, and each source's timeline gains a "linked" entry naming what it `became`, in
the same transaction (so the hash chain covers it). The case page shows both."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.services import timeline_append

LINKED_ENTRY = "linked"


def case_came_from(*, case: Case) -> list[str]:
    """The numbers of the cases this one came from, in the order they were linked."""
    value = (case.data or {}).get("came_from")
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def case_became(*, case: Case) -> list[str]:
    """The numbers of the cases this one became (from its timeline), in order."""
    numbers: list[str] = []
    for data in TimelineEntry.objects.filter(case=case, data__has_key="became").values_list(
        "data", flat=True
    ):
        for number in (data or {}).get("became") or ():
            if number not in numbers:
                numbers.append(number)
    return numbers


def case_links_add(
    *,
    sources: Sequence[Case],
    target: Case,
    actor: Any | None,
    note: str = "",
    now: datetime | None = None,
) -> list[str]:
    """Record that each of `sources` became `target`, on both sides, in one transaction.
    Idempotent: a source already linked to the target is left as it is. Returns the
    target's `came_from` numbers. The caller has checked that the actor may see the
    sources and change the target. Refuses a case linked to itself."""
    now = now or timezone.now()
    if not sources:
        return case_came_from(case=target)
    with transaction.atomic():
        ids = sorted({c.pk for c in sources} | {target.pk})
        locked = {
            c.pk: c for c in Case.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        tgt = locked[target.pk]
        came_from = case_came_from(case=tgt)
        for source in sources:
            if source.pk == target.pk:
                raise CaseError(CaseErrorCode.INVALID, field="sources")
            src = locked[source.pk]
            if src.number in came_from:
                continue
            came_from.append(src.number)
            timeline_append(
                case=src,
                action=LINKED_ENTRY,
                actor=actor,
                note=note,
                data={"became": [tgt.number]},
                now=now,
            )
        tgt.data = {**(tgt.data or {}), "came_from": came_from}
        Case.objects.filter(pk=tgt.pk).update(data=tgt.data)
        target.data = tgt.data
    return came_from
