"""Figures of the 民意 loop for the 人大常委会代表工委: per handling unit, per town and
per deputy — received, closed, overdue, 按期结案率, 返工率 and 满意率.

Every figure is an aggregate query (one per table grouped), whatever the number of
cases. Definitions:

- received: opinions (per unit: opinions the unit had a step of);
- closed: opinions in state 已办结 (an answer, or a rated result);
- overdue: opinions with a step that ended after its deadline or is open past it
  (per unit: a step of that unit);
- 按期结案率: closed without any overdue step / closed;
- 返工率: opinions sent back to the unit (返工, or 不满意 returned to it) / received;
- rated / 满意率: (满意 + 基本满意) / rated, where an opinion's rating is the citizen's own
  (rated on the tracking page) when there is one, else the one the deputy entered (评价).
  The citizen is whom the loop serves, so their word wins; `citizen_rated` says how many
  of the rated opinions carry it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from civicloop.core.areas.models import Area, AreaLevel
from civicloop.core.cases.models import Case, CaseStep, Rating
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import user_standing
from civicloop.opinions.hooks import OPINION, STATION

CHANNEL = OPINION.code
NPC_OFFICE_UNIT = "dept-npc-deputies"  # 温岭市人大常委会代表工作委员会
RATED = (Rating.SATISFIED, Rating.BASICALLY, Rating.UNSATISFIED)
SATISFIED = (Rating.SATISFIED, Rating.BASICALLY)
_COUNTED = (
    "received",
    "closed",
    "overdue",
    "on_time",
    "reworked",
    "rated",
    "satisfied",
    "citizen_rated",
)


@dataclass
class Figures:
    key: str
    label: str
    received: int = 0
    closed: int = 0
    overdue: int = 0
    on_time: int = 0
    reworked: int = 0
    rated: int = 0
    satisfied: int = 0
    citizen_rated: int = 0

    def add(self, row: dict[str, Any]) -> None:
        for name in _COUNTED:
            setattr(self, name, getattr(self, name) + int(row.get(name) or 0))

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.on_time, self.closed)

    @property
    def rework_rate(self) -> float | None:
        return self._rate(self.reworked, self.received)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)


@dataclass(frozen=True)
class StatsScope:
    """What the viewer may count: everything, or the opinions of some stations."""

    all: bool
    station_ids: frozenset[int] = frozenset()


@dataclass
class OpinionStats:
    scope: StatsScope
    total: Figures
    per_unit: list[Figures] = field(default_factory=list)
    per_town: list[Figures] = field(default_factory=list)
    per_deputy: list[Figures] = field(default_factory=list)


def stats_scope_for(*, user: Any) -> StatsScope | None:
    """Admins and the 代表工委 see all; station staff and deputies their stations; anyone
    else nothing (None)."""
    standing = user_standing(user)
    if standing.user_id is None:
        return None
    if standing.is_admin:
        return StatsScope(all=True)
    if standing.in_unit_coded(NPC_OFFICE_UNIT):
        return StatsScope(all=True)
    stations = standing.unit_ids_of_kind(STATION.code)
    return StatsScope(all=False, station_ids=stations) if stations else None


def _overdue_q(now: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}overdue": True}) | Q(
        **{f"{prefix}ended_at__isnull": True, f"{prefix}due_at__lt": now}
    )


def _rework_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}started_by": "rework"}) | Q(
        **{f"{prefix}started_by": "rate", f"{prefix}state": "handling"}
    )


def _rating_q(ratings: tuple[str, ...], prefix: str = "") -> Q:
    """The opinion's rating is one of `ratings`: the citizen's own where given, otherwise
    the deputy's."""
    own = f"{prefix}data__citizen_rating"
    return Q(**{f"{own}__rating__in": ratings}) | Q(
        **{f"{own}__isnull": True, f"{prefix}rating__in": ratings}
    )


def _citizen_rated_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}data__citizen_rating__rating__in": RATED})


def _case_metrics(now: datetime) -> dict[str, Any]:
    overdue = Exists(CaseStep.objects.filter(_overdue_q(now), case_id=OuterRef("pk")))
    rework = Exists(CaseStep.objects.filter(_rework_q(), case_id=OuterRef("pk")))
    return {
        "received": Count("pk"),
        "closed": Count("pk", filter=Q(state="closed")),
        "overdue": Count("pk", filter=Q(overdue)),
        "on_time": Count("pk", filter=Q(state="closed") & ~Q(overdue)),
        "reworked": Count("pk", filter=Q(rework)),
        "rated": Count("pk", filter=_rating_q(RATED)),
        "satisfied": Count("pk", filter=_rating_q(SATISFIED)),
        "citizen_rated": Count("pk", filter=_citizen_rated_q()),
    }


def _cases(scope: StatsScope, since: datetime | None) -> QuerySet[Case]:
    qs = Case.objects.filter(channel=CHANNEL)
    if not scope.all:
        qs = qs.filter(owner_unit_id__in=scope.station_ids)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs


def opinion_stats(
    *, scope: StatsScope, now: datetime | None = None, since: datetime | None = None
) -> OpinionStats:
    """All figures for the scope (see the module docstring). Five grouped queries and
    two small lookups of names."""
    now = now or timezone.now()
    cases = _cases(scope, since)
    metrics = _case_metrics(now)

    total = Figures("total", "")
    total.add(cases.order_by().aggregate(**metrics))

    # Per town: grouped by area path, folded into the town (second level of the path).
    towns = {a.code: a.name for a in Area.objects.filter(level=AreaLevel.TOWN)}
    per_town: dict[str, Figures] = {}
    for row in cases.order_by().values("area_path").annotate(**metrics):
        parts = (row["area_path"] or "").split("/")
        code = parts[1] if len(parts) > 1 and parts[1] in towns else ""
        if code not in per_town:
            per_town[code] = Figures(code, towns.get(code, "（未定位）"))
        per_town[code].add(row)

    # Per deputy: the deputy whose code it came through (kept in Case.data at submit).
    per_deputy: dict[str, Figures] = {}
    rows = (
        cases.order_by()
        .annotate(deputy_key=KeyTextTransform("deputy_id", "data"))
        .values("deputy_key")
        .annotate(**metrics)
    )
    names = {
        str(key): label
        for key, label in cases.order_by()
        .annotate(
            deputy_key=KeyTextTransform("deputy_id", "data"),
            deputy_label=KeyTextTransform("deputy_name", "data"),
        )
        .exclude(deputy_key=None)
        .values_list("deputy_key", "deputy_label")
        .distinct()
    }
    for row in rows:
        key = str(row["deputy_key"] or "")
        figures = per_deputy.setdefault(key, Figures(key, names.get(key) or "（联络站码）"))
        figures.add(row)

    # Per unit: from the steps each unit held, so a unit is counted for what it handled.
    steps = CaseStep.objects.filter(case__channel=CHANNEL, unit__isnull=False)
    if not scope.all:
        steps = steps.filter(case__owner_unit_id__in=scope.station_ids)
    if since is not None:
        steps = steps.filter(case__created_at__gte=since)
    closed_q = Q(case__state="closed")
    overdue_q = _overdue_q(now)
    unit_rows = list(
        steps.order_by()
        .values("unit_id")
        .annotate(
            received=Count("case_id", distinct=True),
            closed=Count("case_id", distinct=True, filter=closed_q),
            # Not named "overdue": that would shadow the step's own column in the filters.
            late=Count("case_id", distinct=True, filter=overdue_q),
            closed_overdue=Count("case_id", distinct=True, filter=closed_q & overdue_q),
            reworked=Count("case_id", distinct=True, filter=_rework_q()),
            rated=Count("case_id", distinct=True, filter=_rating_q(RATED, "case__")),
            satisfied=Count("case_id", distinct=True, filter=_rating_q(SATISFIED, "case__")),
            citizen_rated=Count("case_id", distinct=True, filter=_citizen_rated_q("case__")),
        )
    )
    unit_names = dict(
        Unit.objects.filter(pk__in=[r["unit_id"] for r in unit_rows]).values_list("pk", "name")
    )
    per_unit = []
    for row in unit_rows:
        row["on_time"] = row["closed"] - row["closed_overdue"]
        row["overdue"] = row["late"]
        figures = Figures(str(row["unit_id"]), unit_names.get(row["unit_id"], ""))
        figures.add(row)
        per_unit.append(figures)

    def ordered(items: list[Figures]) -> list[Figures]:
        return sorted(items, key=lambda f: (-f.received, f.label))

    return OpinionStats(
        scope=scope,
        total=total,
        per_unit=ordered(per_unit),
        per_town=ordered(list(per_town.values())),
        per_deputy=ordered(list(per_deputy.values())),
    )
