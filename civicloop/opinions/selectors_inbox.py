"""Reads for the deputy's inbox and the citizen's tracking page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.cases.labels import action_label, state_label
from civicloop.core.cases.models import Case, Rating, TimelineEntry
from civicloop.core.units.models import Unit, UnitKind
from civicloop.core.units.selectors import user_standing
from civicloop.opinions.hooks import OPINION, STATION

CHANNEL = OPINION.code
_LIST_DEFERRED = ("body", "contact_name", "contact_phone", "result", "rating_comment")
# What the citizen sees of the timeline: the steps, not reminders or staff chatter.
PUBLIC_ACTIONS = frozenset(
    {
        "submit",
        "accept",
        "answer",
        "dispatch",
        "claim",
        "return",
        "transfer",
        "submit_result",
        "rework",
        "rate",
        "reject",
        "merge",
        "withdraw",
        "defer",
        "resume",
        "escalate",
        "citizen_rating",
        "follow_up",
    }
)
# --------------------------------------------------------------------------- inbox


def inbox_station_unit_ids(*, user: Any) -> frozenset[int]:
    """The liaison stations the user acts for (a deputy or a station clerk)."""
    return user_standing(user).unit_ids_of_kind(STATION.code)


def inbox_cases(*, user: Any) -> QuerySet[Case]:
    """Opinions received by the user's stations or sent to the user as a deputy."""
    stations = inbox_station_unit_ids(user=user)
    cond = Q(holder_user_id=user.pk) if user.is_authenticated else Q(pk__in=[])
    if stations:
        cond |= Q(owner_unit_id__in=stations)
    return Case.objects.filter(cond, channel=CHANNEL)


@dataclass(frozen=True)
class InboxRow:
    case: Case
    state_label: str
    late: bool


@dataclass(frozen=True)
class InboxSection:
    key: str
    title: str
    rows: list[InboxRow]
    count: int
    empty: str


def _in(*states: str) -> Q:
    return Q(state__in=states)


# The citizen rated the closed opinion 不满意 and no 回访 is recorded yet
# (see services.opinion_citizen_rate): it waits for the deputy, whatever its state says.
AWAITING_FOLLOW_UP = Q(state="closed", data__citizen_rating__rating=Rating.UNSATISFIED) & Q(
    data__follow_up__isnull=True
)

# Sections of the inbox: which cases, ordered by what.
_SECTIONS: tuple[tuple[str, Any, Q, str, Any], ...] = (
    ("new", _("新意见（待受理）"), _in("submitted"), "due_at", _("没有待受理的意见。")),
    (
        "unsatisfied",
        _("群众不满意，待回访"),
        AWAITING_FOLLOW_UP,
        "updated_at",
        _("没有待回访的不满意评价。"),
    ),
    ("accepted", _("已受理（待答复或交办）"), _in("accepted"), "due_at", _("没有待交办的意见。")),
    (
        "to_rate",
        _("待评价（单位已办理）"),
        _in("result_submitted"),
        "due_at",
        _("没有待评价的意见。"),
    ),
    (
        "dispatched",
        _("交办中（单位办理中）"),
        _in("dispatched", "handling", "deferred"),
        "due_at",
        _("没有在办的意见。"),
    ),
    (
        "closed",
        _("已办结"),
        _in("closed", "rejected", "merged", "withdrawn"),
        "-closed_at",
        _("还没有办结的意见。"),
    ),
)
# Sections of finished cases: their rows are never late.
_NEVER_LATE = frozenset({"closed", "unsatisfied"})


def inbox_for(
    *, user: Any, mine: bool = False, size: int = 20, now: datetime | None = None
) -> list[InboxSection]:
    """The deputy's inbox, one list per stage, with counts, and the closed opinions the
    citizen rated 不满意 that wait for a 回访. Two queries per section."""
    now = now or timezone.now()
    base = inbox_cases(user=user)
    if mine:
        base = base.filter(holder_user_id=user.pk)
    base = base.select_related("owner_unit", "holder_unit", "holder_user").defer(*_LIST_DEFERRED)
    out = []
    for key, title, cond, order, empty in _SECTIONS:
        qs = base.filter(cond)
        out.append(
            InboxSection(
                key=key,
                title=str(title),
                rows=[
                    InboxRow(
                        case=case,
                        state_label=state_label(case.workflow, case.state),
                        late=key not in _NEVER_LATE
                        and case.due_at is not None
                        and case.due_at <= now,
                    )
                    for case in qs.order_by(order, "pk")[:size]
                ],
                count=qs.order_by().count(),
                empty=str(empty),
            )
        )
    return out


def inbox_case_get(*, user: Any, number: str) -> Case | None:
    return (
        inbox_cases(user=user)
        .select_related("area", "owner_unit", "holder_unit", "holder_user", "merged_into")
        .filter(number=number)
        .first()
    )


def dispatch_unit_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Town offices and city departments a deputy dispatches to, grouped (one query)."""
    kinds = (UnitKind.TOWN_OFFICE, UnitKind.DEPARTMENT)
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for pk, name, kind in (
        Unit.objects.filter(is_active=True, kind__in=kinds)
        .order_by("code")
        .values_list("pk", "name", "kind")
    ):
        by_kind.setdefault(kind, []).append((pk, name))
    return [(str(label), by_kind[value]) for value, label in UnitKind.choices if value in by_kind]


# --------------------------------------------------------------------------- tracking


@dataclass(frozen=True)
class PublicStep:
    """One step as the citizen sees it: what happened, where, when; never who by name."""

    label: str
    state: str
    unit: str
    at: datetime
    note: str


def case_public_timeline(*, case: Case) -> list[PublicStep]:
    """The steps of a case for the citizen. Staff names are never shown (only units);
    the unit's result, the deputy's answer and 回访 are shown, internal notes are not."""
    shown_notes = {"answer", "submit_result", "reject", "follow_up"}
    rows = (
        TimelineEntry.objects.filter(case=case, action__in=PUBLIC_ACTIONS)
        .select_related("unit")
        .order_by("seq")
    )
    out = []
    # An entry names the unit that holds the case after it; the unit that acted is the
    # one that held it before (the office submits a result, then the station holds it).
    holder = ""
    for entry in rows:
        after = entry.unit.name if entry.unit is not None else ""
        acted = after if entry.action in ("submit", "escalate", "follow_up") else holder
        out.append(
            PublicStep(
                label=action_label(case.workflow, entry.action),
                state=state_label(case.workflow, entry.to_state),
                unit=acted or after,
                at=entry.created_at,
                note=entry.note if entry.action in shown_notes else "",
            )
        )
        if entry.action not in ("escalate", "citizen_rating", "follow_up"):
            holder = after or holder
    return out
