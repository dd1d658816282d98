"""Cases as the API shows them: summaries and details, the contact always masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from civicloop.core import registry
from civicloop.core.areas.models import Area
from civicloop.core.cases import labels
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import actions_available
from civicloop.core.units.models import Unit


def _unit(unit: Unit | None) -> dict[str, str] | None:
    return {"code": unit.code, "name": unit.name} if unit is not None else None


def _area(area: Area | None) -> dict[str, str] | None:
    return {"code": area.code, "name": area.name, "path": area.path} if area else None


def _local(value: datetime | None) -> datetime | None:
    return timezone.localtime(value) if value is not None else None


def case_state_label(case: Case) -> tuple[str, bool]:
    """The state's label in the case's workflow, and whether it is terminal."""
    return labels.state_label(case.workflow, case.state), labels.case_is_terminal(case)


def case_summary(case: Case, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    label, terminal = case_state_label(case)
    return {
        "number": case.number,
        "channel": case.channel,
        "title": case.title,
        "category": case.category,
        "state": case.state,
        "state_label": label,
        "area": _area(case.area),
        "holder_unit": _unit(case.holder_unit),
        "owner_unit": _unit(case.owner_unit),
        "due_at": _local(case.due_at),
        # Counted with a year whose holidays are not confirmed yet; recomputed once they are.
        "due_provisional": case.due_provisional,
        "overdue": bool(case.due_at and case.due_at <= now and not terminal),
        "created_at": _local(case.created_at),
        "closed_at": _local(case.closed_at),
    }


def case_detail(case: Case, *, user: Any) -> dict[str, Any]:
    """Everything staff see about a case, with the submitter's contact masked."""
    return {
        **case_summary(case),
        "body": case.body,
        "address": case.address,
        "lat": float(case.lat) if case.lat is not None else None,
        "lng": float(case.lng) if case.lng is not None else None,
        "grade": case.grade,
        "rating": case.rating,
        "result": case.result,
        "round": case.round,
        "anonymous": case.anonymous,
        "source": case.source,
        "contact": {"name": case.masked_contact_name, "phone": case.masked_contact_phone},
        "actions": [
            {"code": a.code, "label": str(a.label)} for a in actions_available(case=case, user=user)
        ],
        "updated_at": _local(case.updated_at),
    }


def channel_item(channel: registry.Channel) -> dict[str, Any]:
    return {
        "code": channel.code,
        "name": str(channel.name),
        "description": str(channel.description),
        "number_prefix": channel.number_prefix,
        "categories": [{"code": c, "name": str(n)} for c, n in channel.categories],
        "open311": channel.open311,
        "intakes": sorted(str(i) for i in channel.intakes),
    }
