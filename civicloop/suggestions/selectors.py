"""Reads of suggestions: who may see which (`access_suggestion_by_number`), the lists of
the pages, what one suggestion shows, the yearly figures, the public answers and the
cockpit tile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.links import case_came_from
from civicloop.core.cases.models import Case, Rating
from civicloop.core.cases.selectors import channel_figures
from civicloop.core.registry import TileValue
from civicloop.core.units.selectors import user_standing
from civicloop.suggestions import workflow as wf
from civicloop.suggestions.hooks import NPC_OFFICE_UNIT, SUGGESTION, SUGGESTION_ASSIST
from civicloop.suggestions.models import (
    Answer,
    AnswerCategory,
    Assignment,
    AssignmentRole,
    CosignStatus,
    Evaluation,
    Suggestion,
)
from civicloop.suggestions.services import is_deputy, is_npc_office

_RELATED = ("case", "case__holder_unit", "case__owner_unit", "deputy")


def suggestions_visible_to(user: Any) -> QuerySet[Suggestion]:
    """Suggestions the user may see: the 代表工委 and administrators every one past its
    draft; a deputy those they raised or were asked to co-sign; a unit those assigned to
    it; a leader those from their areas (past draft)."""
    standing = user_standing(user)
    qs = Suggestion.objects.all()
    if standing.user_id is None:
        return qs.none()
    mine = Q(deputy_id=standing.user_id) | Q(cosigners__deputy_id=standing.user_id)
    if standing.is_admin or standing.in_unit_coded(NPC_OFFICE_UNIT):
        return qs.filter(mine | ~Q(case__state=wf.DRAFTED)).distinct()
    cond = mine
    if standing.unit_ids:
        cond |= Q(assignments__unit_id__in=standing.unit_ids)
    past_draft = Q()
    for path in standing.area_paths:
        past_draft |= Q(case__area_path=path) | Q(case__area_path__startswith=path + "/")
    if standing.area_paths:
        cond |= past_draft & ~Q(case__state=wf.DRAFTED)
    return qs.filter(cond).distinct()


def access_suggestion_by_number(user: Any, number: str) -> Suggestion:
    """Fetch a suggestion the user may see, or raise Http404 (never say it exists)."""
    try:
        return suggestions_visible_to(user).select_related(*_RELATED).get(case__number=number)
    except Suggestion.DoesNotExist:
        raise Http404("suggestion not found") from None


def assist_suggestion_number(user: Any, number: str) -> str | None:
    """The suggestion an assisting unit's case belongs to, when the user may see that
    case (the generic case page links its staff page here)."""
    case = cases_visible_to(user).filter(number=number, channel=SUGGESTION_ASSIST.code).first()
    if case is None:
        return None
    value = (case.data or {}).get("suggestion")
    return str(value) if value else None


def suggestion_by_number(number: str) -> Suggestion:
    """For an integration's key (which reads every suggestion): the suggestion or 404."""
    try:
        return Suggestion.objects.select_related(*_RELATED).get(case__number=number)
    except Suggestion.DoesNotExist:
        raise Http404("suggestion not found") from None


def suggestion_list(*, user: Any, state: str = "", year: int | None = None) -> QuerySet[Suggestion]:
    qs = suggestions_visible_to(user)
    if state == "open":
        qs = qs.filter(case__closed_at__isnull=True)
    elif state:
        qs = qs.filter(case__state=state)
    if year:
        qs = qs.filter(year=year)
    return qs.select_related(*_RELATED).order_by("-created_at", "-pk")


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    """The fixed interface's answer (GET /api/v1/suggestions/{number}). Reads the
    assignments and co-signers through `.all()`, so a list prefetches them
    (`with_json_parts`)."""
    case = suggestion.case
    assignments = sorted(suggestion.assignments.all(), key=lambda a: a.pk)
    lead = next((a for a in assignments if a.role == AssignmentRole.LEAD), None)
    return {
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_label": str(wf.SUGGESTION_FLOW.state(case.state).label),
        "year": suggestion.year,
        "session_kind": suggestion.session_kind,
        "deputy": suggestion.deputy.full_name or suggestion.deputy.username,
        "cosigners": [
            c.deputy.full_name or c.deputy.username
            for c in sorted(suggestion.cosigners.all(), key=lambda c: c.pk)
            if c.status == CosignStatus.CONFIRMED
        ],
        "lead_unit": {"code": lead.unit.code, "name": lead.unit.name} if lead else None,
        "assisting_units": [
            {"code": a.unit.code, "name": a.unit.name}
            for a in assignments
            if a.role == AssignmentRole.ASSIST
        ],
        "due_at": (
            case.due_at.isoformat() if case.due_at else (lead.due_at.isoformat() if lead else None)
        ),
        "answer_category": suggestion.category or None,
        "is_key": suggestion.is_key,
        "key_leader": suggestion.key_leader or None,
        "rating": case.rating or None,
        "came_from": case_came_from(case=case),
        "created_at": case.created_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
    }


def with_json_parts(qs: QuerySet[Suggestion]) -> QuerySet[Suggestion]:
    """What suggestion_json reads, in a fixed number of queries for any list."""
    return qs.select_related(*_RELATED).prefetch_related("assignments__unit", "cosigners__deputy")


@dataclass
class SuggestionView:
    """What the detail page shows and which forms it offers this user."""

    suggestion: Suggestion
    lead: Assignment | None
    assisting: list[Assignment]
    cosigners: list[Any]
    contacts: list[Any]
    answers: list[Answer]
    evaluations: list[Evaluation]
    came_from: list[Case]
    forms: set[str] = field(default_factory=set)
    my_invitation: Any = None
    my_assist: list[Assignment] = field(default_factory=list)


def suggestion_view(*, user: Any, suggestion: Suggestion) -> SuggestionView:
    """The suggestion with its parts, and the forms this user may fill in now."""
    standing = user_standing(user)
    state = suggestion.case.state
    assignments = list(suggestion.assignments.select_related("unit").order_by("pk"))
    lead = next((a for a in assignments if a.role == AssignmentRole.LEAD), None)
    assisting = [a for a in assignments if a.role == AssignmentRole.ASSIST]
    cosigners = list(suggestion.cosigners.select_related("deputy").order_by("pk"))
    numbers = case_came_from(case=suggestion.case)
    came_from = list(
        cases_visible_to(user)
        .filter(number__in=numbers)
        .only("number", "title", "state", "workflow")
    )
    view = SuggestionView(
        suggestion=suggestion,
        lead=lead,
        assisting=assisting,
        cosigners=cosigners,
        contacts=list(suggestion.contacts.select_related("unit").order_by("contacted_on", "pk")),
        answers=list(suggestion.answers.select_related("unit").order_by("round")),
        evaluations=list(suggestion.evaluations.order_by("round")),
        came_from=came_from,
    )
    author = standing.user_id == suggestion.deputy_id
    office = is_npc_office(user)
    handling = state in (wf.HANDLING, wf.REHANDLING)
    if author and state == wf.DRAFTED:
        view.forms |= {"submit", "withdraw"}
    if author and state == wf.SUBMITTED:
        view.forms.add("withdraw")
    if author and state == wf.ANSWERED:
        view.forms.add("evaluate")
    if author:
        view.forms.add("consent")
    for c in cosigners:
        if (
            c.deputy_id == standing.user_id
            and c.status == CosignStatus.INVITED
            and state == wf.DRAFTED
        ):
            view.my_invitation = c
            view.forms.add("cosign")
    if office and state == wf.SUBMITTED:
        view.forms.add("review")
    if office and state == wf.ACCEPTED:
        view.forms.add("assign")
    if office and state not in (wf.DRAFTED, wf.RETURNED, wf.WITHDRAWN):
        view.forms.add("key")
    if handling and lead is not None and (standing.is_admin or standing.has_role_in(lead.unit_id)):
        view.forms |= {"contact", "answer"}
    if handling:
        view.my_assist = [
            a
            for a in assisting
            if a.views_sent_at is None and (standing.is_admin or standing.has_role_in(a.unit_id))
        ]
        if view.my_assist:
            view.forms.add("views")
    return view


def opinion_choices(*, user: Any, limit: int = 50) -> list[Case]:
    """Cases of other channels the deputy may see, newest first (to draft from)."""
    return list(
        cases_visible_to(user)
        .exclude(channel__in=(SUGGESTION.code, SUGGESTION_ASSIST.code))
        .only("number", "title", "channel", "state", "created_at")
        .order_by("-created_at")[:limit]
    )


# --------------------------------------------------------------------------- figures


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Figures:
    year: int
    total: int
    by_state: dict[str, int]
    key: int
    answered: int
    answered_on_time: int
    on_time_rate: float | None
    categories: dict[str, int]
    category_shares: dict[str, float | None]
    evaluated: int
    ratings: dict[str, int]
    satisfaction_rate: float | None
    per_deputy: list[dict[str, Any]]
    per_unit: list[dict[str, Any]]


def figures_scope_ok(user: Any) -> bool:
    """The yearly figures are for the 代表工委, leaders and administrators."""
    standing = user_standing(user)
    return is_npc_office(user) or bool(standing.area_paths)


def figures_areas_for(user: Any) -> tuple[str, ...] | None:
    """The area paths a user's figures cover: None (the whole city) for the 代表工委 and
    administrators, a leader's own areas otherwise."""
    if is_npc_office(user):
        return None
    return user_standing(user).area_paths


def suggestion_figures(*, year: int, area_paths: tuple[str, ...] | None = None) -> Figures:
    """The year's figures over the suggestions raised that year (past draft): per state,
    answered and answered on time (first answers by their deadline), A/B/C shares of the
    final answers, satisfaction of the final evaluations (满意 + 基本满意), per deputy and
    per lead unit. A fixed number of grouped queries."""
    base = Suggestion.objects.filter(year=year).exclude(case__state=wf.DRAFTED)
    if area_paths is not None:
        inside = Q(pk__in=[])
        for path in area_paths:
            inside |= Q(case__area_path=path) | Q(case__area_path__startswith=path + "/")
        base = base.filter(inside)
    by_state = dict(base.values_list("case__state").annotate(n=Count("pk")).order_by())
    total = sum(by_state.values())
    first = Answer.objects.filter(suggestion__in=base, round=1)
    answered = first.count()
    on_time = first.filter(on_time=True).count()
    cats = dict(
        base.exclude(category="").values_list("category").annotate(n=Count("pk")).order_by()
    )
    cat_total = sum(cats.values())
    # The evaluation that stands: the last one of a closed suggestion.
    final = Evaluation.objects.filter(suggestion__in=base, suggestion__case__state=wf.CLOSED)
    last_round = {
        sid: rnd
        for sid, rnd in final.values_list("suggestion_id").annotate(r=Max("round")).order_by()
    }
    ratings: dict[str, int] = {r: 0 for r in Rating.values}
    for sid, rnd, rating in final.values_list("suggestion_id", "round", "rating"):
        if rnd == last_round.get(sid):
            ratings[rating] += 1
    evaluated = sum(ratings.values())
    per_deputy = [
        {"deputy": name or username, "count": n, "key": k}
        for name, username, n, k in base.values_list("deputy__full_name", "deputy__username")
        .annotate(n=Count("pk"), k=Count("pk", filter=Q(is_key=True)))
        .order_by("-n", "deputy__username")
    ]
    lead_rows = (
        Assignment.objects.filter(suggestion__in=base, role=AssignmentRole.LEAD)
        .values_list("unit__name")
        .annotate(
            # Distinct: the join with the answers repeats a suggestion answered twice.
            n=Count("pk", distinct=True),
            answered=Count("suggestion__answers", filter=Q(suggestion__answers__round=1)),
            on_time=Count(
                "suggestion__answers",
                filter=Q(suggestion__answers__round=1, suggestion__answers__on_time=True),
            ),
        )
        .order_by("-n", "unit__name")
    )
    per_unit = [
        {
            "unit": name,
            "count": n,
            "answered": a,
            "on_time": t,
            "on_time_rate": _share(t, a),
        }
        for name, n, a, t in lead_rows
    ]
    return Figures(
        year=year,
        total=total,
        by_state=by_state,
        key=base.filter(is_key=True).count(),
        answered=answered,
        answered_on_time=on_time,
        on_time_rate=_share(on_time, answered),
        categories={c: cats.get(c, 0) for c in AnswerCategory.values},
        category_shares={c: _share(cats.get(c, 0), cat_total) for c in AnswerCategory.values},
        evaluated=evaluated,
        ratings=ratings,
        satisfaction_rate=_share(ratings[Rating.SATISFIED] + ratings[Rating.BASICALLY], evaluated),
        per_deputy=per_deputy,
        per_unit=per_unit,
    )


def public_answers(*, year: int | None = None) -> QuerySet[Suggestion]:
    """Answered suggestions whose deputy agreed to publish the answer."""
    qs = Suggestion.objects.filter(
        publish_consent=True, case__state__in=(wf.ANSWERED, wf.CLOSED), answers__isnull=False
    ).distinct()
    if year:
        qs = qs.filter(year=year)
    return qs.select_related("case", "deputy").order_by("-case__updated_at", "-pk")


def cockpit_figures(*, user: Any, now: datetime) -> list[TileValue] | None:
    """The cockpit tile: core's four figures over the suggestions the user may see."""
    if not (is_npc_office(user) or user_standing(user).area_paths or is_deputy(user)):
        return None
    return channel_figures(user=user, channel=SUGGESTION.code, now=now)


def assign_unit_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """Units a suggestion may be assigned to: departments, then town offices."""
    from civicloop.core.units.models import Unit

    groups: list[tuple[str, list[tuple[int, str]]]] = []
    for kind, label in (("department", _("市级部门")), ("town_office", _("镇（街道）"))):
        rows = list(
            Unit.objects.filter(kind=kind, is_active=True)
            # Not units that handle government work: the congress and the CPPCC.
            .exclude(code__in=(NPC_OFFICE_UNIT, "dept-cppcc"))
            .order_by("code")
            .values_list("pk", "name")
        )
        if rows:
            groups.append((str(label), rows))
    return groups


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: list[Suggestion]
    count: int


def suggestion_sections(*, user: Any, size: int = 50) -> list[Section]:
    """The list page's sections for this user: a deputy's own and the invitations to
    co-sign; the units' assigned ones; the 代表工委's by stage."""
    standing = user_standing(user)
    visible = suggestions_visible_to(user).select_related(*_RELATED).order_by("-created_at", "-pk")
    out: list[Section] = []

    def add(key: str, title: Any, qs: QuerySet[Suggestion]) -> None:
        rows = list(qs[:size])
        out.append(Section(key, str(title), rows, qs.count() if len(rows) == size else len(rows)))

    if is_deputy(user):
        add("mine", _("我提出的建议"), visible.filter(deputy_id=standing.user_id))
        add(
            "invited",
            _("邀请我附议"),
            visible.filter(
                cosigners__deputy_id=standing.user_id, cosigners__status=CosignStatus.INVITED
            ),
        )
    if is_npc_office(user):
        add("to_review", _("待审查"), visible.filter(case__state=wf.SUBMITTED))
        add("to_assign", _("待交办"), visible.filter(case__state=wf.ACCEPTED))
        add(
            "in_hand",
            _("办理中"),
            visible.filter(case__state__in=(wf.HANDLING, wf.REHANDLING, wf.ANSWERED)),
        )
        add("closed", _("已办结"), visible.filter(case__state=wf.CLOSED))
    elif standing.area_paths and not standing.unit_ids:
        add("area", _("本地区代表建议"), visible)
    elif standing.unit_ids:
        assigned = visible.filter(assignments__unit_id__in=standing.unit_ids)
        add(
            "assigned",
            _("交办本单位办理"),
            assigned.filter(case__state__in=(wf.HANDLING, wf.REHANDLING)),
        )
        add(
            "assigned_done",
            _("本单位已答复"),
            assigned.exclude(case__state__in=(wf.HANDLING, wf.REHANDLING)),
        )
    return [s for s in out if s.rows or s.key in ("mine", "to_review", "assigned", "area")]
