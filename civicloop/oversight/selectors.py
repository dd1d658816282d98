"""Reads of 督政议事: what each user may see of topics and meetings, a meeting's
questions with their answer cases, the tally of the deputies' vote per department, the
public summaries and the cockpit tile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.models import Case, Rating
from civicloop.core.cases.selectors import channel_figures
from civicloop.core.registry import TileValue
from civicloop.core.units.models import Unit
from civicloop.oversight.access import OversightRole, role_for
from civicloop.oversight.errors import OversightError, OversightErrorCode
from civicloop.oversight.hooks import FOLLOW_UP, QUESTION
from civicloop.oversight.models import (
    FollowUp,
    Meeting,
    Participant,
    ParticipantKind,
    Question,
    Topic,
    TopicState,
    Vote,
)
from civicloop.oversight.workflow import ANSWERED, RATED

# Worst first: a tie between two ratings counts as the less favourable one.
_WORST_FIRST = (Rating.UNSATISFIED, Rating.BASICALLY, Rating.SATISFIED)


@dataclass
class DepartmentResult:
    """The deputies' vote on one department's answers at one meeting."""

    unit: Unit
    questions: int = 0
    answered_count: int = 0
    satisfied: int = 0
    basically: int = 0
    unsatisfied: int = 0
    mine: str = ""  # the asking user's own vote, when they voted
    cases: list[Case] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.questions > 0 and self.answered_count == self.questions

    @property
    def total(self) -> int:
        return self.satisfied + self.basically + self.unsatisfied

    def counts(self) -> dict[str, int]:
        return {
            Rating.SATISFIED: self.satisfied,
            Rating.BASICALLY: self.basically,
            Rating.UNSATISFIED: self.unsatisfied,
        }

    @property
    def outcome(self) -> str:
        """The rating with the most votes; a tie goes to the less favourable rating
        (the 代表工委's rule: a split vote does not count as satisfaction)."""
        counts = self.counts()
        return max(_WORST_FIRST, key=lambda r: (counts[r], -_WORST_FIRST.index(r)))

    @property
    def outcome_label(self) -> str | Promise:
        return Rating(self.outcome).label

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: (满意 + 基本满意) / votes; None without votes."""
        return (self.satisfied + self.basically) / self.total if self.total else None

    @property
    def satisfaction_percent(self) -> str:
        rate = self.satisfaction_rate
        return "—" if rate is None else f"{rate * 100:.1f}%"

    @property
    def summary_line(self) -> str:
        return str(_("满意 %(s)d 票，基本满意 %(b)d 票，不满意 %(u)d 票，测评结果：%(r)s")) % {
            "s": self.satisfied,
            "b": self.basically,
            "u": self.unsatisfied,
            "r": self.outcome_label,
        }


def department_results(*, meeting: Meeting, voter: Any = None) -> list[DepartmentResult]:
    """Per department questioned at the meeting (in the order first asked): its
    questions and answer cases, how many are answered, and the vote counts (never who
    voted what; `voter`'s own choice only, as `mine`). Three queries."""
    results: dict[int, DepartmentResult] = {}
    for question in (
        Question.objects.filter(meeting=meeting).select_related("unit", "case").order_by("pk")
    ):
        result = results.setdefault(question.unit_id, DepartmentResult(unit=question.unit))
        result.questions += 1
        result.answered_count += question.case.state in (ANSWERED, RATED)
        result.cases.append(question.case)
    for unit_id, choice, n in (
        Vote.objects.filter(meeting=meeting)
        .values_list("unit_id", "choice")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if unit_id in results:
            setattr(results[unit_id], _FIELD[choice], n)
    if voter is not None and getattr(voter, "pk", None):
        for unit_id, choice in Vote.objects.filter(meeting=meeting, voter=voter).values_list(
            "unit_id", "choice"
        ):
            if unit_id in results:
                results[unit_id].mine = choice
    return list(results.values())


_FIELD = {
    Rating.SATISFIED: "satisfied",
    Rating.BASICALLY: "basically",
    Rating.UNSATISFIED: "unsatisfied",
}


# --------------------------------------------------------------------------- scope


def _meeting_scope(role: OversightRole, user: Any) -> Q:
    if role.staff:
        return Q()
    cond = Q(pk__in=[])
    if role.deputy:
        cond |= Q(participants__user_id=user.pk)
    if role.unit_ids:
        cond |= Q(participants__unit_id__in=role.unit_ids)
    return cond


def meetings_for(*, user: Any) -> QuerySet[Meeting]:
    """Meetings the user may see: staff all; a deputy those they sit in; a department
    those it is seated at."""
    role = role_for(user)
    if not role.any:
        return Meeting.objects.none()
    return (
        Meeting.objects.filter(
            pk__in=Meeting.objects.filter(_meeting_scope(role, user)).values("pk")
        )
        .select_related("topic")
        .annotate(n_questions=Count("questions", distinct=True))
        .order_by("-held_at", "-pk")
    )


def access_meeting_by_id(*, user: Any, pk: int) -> Meeting:
    """A meeting the user may see, else NOT_FOUND (never saying it exists)."""
    meeting = meetings_for(user=user).filter(pk=pk).first()
    if meeting is None:
        raise OversightError(OversightErrorCode.NOT_FOUND)
    return meeting


def access_topic_by_id(*, user: Any, pk: int) -> Topic:
    topic = topics_for(user=user).filter(pk=pk).first()
    if topic is None:
        raise OversightError(OversightErrorCode.NOT_FOUND)
    return topic


def topics_for(*, user: Any) -> QuerySet[Topic]:
    """Topics the user may see: staff all; a deputy those they proposed and those
    accepted."""
    role = role_for(user)
    if role.staff:
        qs = Topic.objects.all()
    elif role.deputy:
        qs = Topic.objects.filter(Q(proposed_by=user) | Q(state=TopicState.ACCEPTED))
    else:
        qs = Topic.objects.filter(state=TopicState.ACCEPTED)
    return qs.order_by("-created_at", "-pk")


def meeting_questions(*, meeting: Meeting) -> list[Question]:
    return list(
        Question.objects.filter(meeting=meeting)
        .select_related("unit", "case", "asked_by")
        .order_by("pk")
    )


def meeting_participants(*, meeting: Meeting) -> list[Participant]:
    return list(
        Participant.objects.filter(meeting=meeting)
        .select_related("user", "unit")
        .order_by("kind", "pk")
    )


def meeting_follow_ups(*, meeting: Meeting) -> list[FollowUp]:
    return list(
        FollowUp.objects.filter(meeting=meeting).select_related("unit", "case").order_by("pk")
    )


def is_seated_deputy(*, meeting: Meeting, user: Any) -> bool:
    pk = getattr(user, "pk", None)
    if pk is None:
        return False
    return Participant.objects.filter(
        meeting=meeting, kind=ParticipantKind.DEPUTY, user_id=pk
    ).exists()


def meeting_for_case(*, case: Case) -> int | None:
    """The meeting a question or follow-up case belongs to."""
    value = (case.data or {}).get("oversight_meeting")
    return int(value) if isinstance(value, int) else None


def unit_questions(*, unit_ids: frozenset[int]) -> QuerySet[Question]:
    """Questions put to the user's units, newest first (the department's list)."""
    return (
        Question.objects.filter(unit_id__in=unit_ids)
        .select_related("meeting", "unit", "case")
        .order_by("-created_at", "-pk")
    )


# --------------------------------------------------------------------------- public


def public_meetings() -> QuerySet[Meeting]:
    return (
        Meeting.objects.filter(published_at__isnull=False)
        .select_related("topic")
        .order_by("-held_at", "-pk")
    )


def public_meeting_get(*, pk: int) -> Meeting:
    """A published meeting, else NOT_FOUND."""
    meeting = public_meetings().filter(pk=pk).first()
    if meeting is None:
        raise OversightError(OversightErrorCode.NOT_FOUND)
    return meeting


# --------------------------------------------------------------------------- cockpit


def cockpit_figures(*, user: Any, now: datetime) -> list[TileValue]:
    """The 督政议事 tile: the question channel's standard figures over the cases the user
    may see, and the follow-ups still open."""
    figures = channel_figures(user=user, channel=QUESTION.code, now=now)
    open_follow_ups = cases_visible_to(
        user, Case.objects.filter(channel=FOLLOW_UP.code, closed_at__isnull=True)
    ).count()
    return [
        *figures,
        TileValue(
            _("跟踪督办中"),
            open_follow_ups,
            f"/cases/?channel={FOLLOW_UP.code}&state=open",
        ),
    ]
