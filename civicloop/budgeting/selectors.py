"""What 参与式预算 reads: processes and who may run them, the panel and its
representativeness, the T1/T2 analysis and the funding list down the T2 ranking."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from civicloop.budgeting.analysis import (
    PairedTest,
    RankedProject,
    funded_down_the_ranking,
    paired_test,
    pairs,
)
from civicloop.budgeting.ballot_models import Ballot
from civicloop.budgeting.ballots import outcome_for
from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.models import (
    BudgetProcess,
    BudgetProject,
    FrameRow,
    PanelDraw,
    PanelMember,
    Phase,
    PlenaryQuestion,
    ProjectRating,
    QuestionnaireResponse,
    Wave,
)
from civicloop.budgeting.rules import RULE_LABELS, Rule
from civicloop.core.accounts.masking import mask_name
from civicloop.core.accounts.roles import Role
from civicloop.core.units.models import Membership
from civicloop.core.units.selectors import user_standing

STAFF_ROLES = (Role.HANDLER, Role.UNIT_LEADER)


def processes_public() -> QuerySet[BudgetProcess]:
    return BudgetProcess.objects.select_related("town").order_by("-year", "code")


def process_by_code(code: str) -> BudgetProcess:
    """The process of ``code`` (public: every phase page is public), or BudgetError NOT_FOUND."""
    process = BudgetProcess.objects.select_related("town").filter(code=code).first()
    if process is None:
        raise BudgetError(BudgetErrorCode.NOT_FOUND)
    return process


def is_process_staff(user: Any, process: BudgetProcess) -> bool:
    """Who runs a process: an administrator, Django staff, or a handler / unit leader of a
    unit of the process's town (the town government, its 人大 office)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_staff", False) or user_standing(user).is_admin:
        return True
    return Membership.objects.filter(
        user=user, unit__area_id=process.town_id, unit__is_active=True, role__in=STAFF_ROLES
    ).exists()


def access_process_by_code(user: Any, code: str) -> BudgetProcess:
    """The process of ``code`` for its staff; BudgetError FORBIDDEN for anyone else."""
    process = process_by_code(code)
    if not is_process_staff(user, process):
        raise BudgetError(BudgetErrorCode.FORBIDDEN)
    return process


def processes_run_by(user: Any) -> list[BudgetProcess]:
    return [p for p in processes_public() if is_process_staff(user, p)]


def phase_rows(process: BudgetProcess) -> list[dict[str, Any]]:
    """Every phase in order with its planned dates, and which is current / done."""
    planned = {row.phase: row for row in process.schedule.all()}
    current = process.phase_index
    rows = []
    for index, (phase, label) in enumerate(Phase.choices):
        row = planned.get(phase)
        rows.append(
            {
                "phase": phase,
                "label": label,
                "starts_on": row.starts_on if row else None,
                "ends_on": row.ends_on if row else None,
                "current": index == current,
                "done": index < current,
            }
        )
    return rows


def projects_accepted(process: BudgetProcess) -> QuerySet[BudgetProject]:
    return process.projects.filter(status=BudgetProject.Status.ACCEPTED).order_by("pk")


def projects_for_screening(process: BudgetProcess) -> QuerySet[BudgetProject]:
    return process.projects.select_related("merged_into").order_by("status", "pk")


def draw_current(process: BudgetProcess) -> PanelDraw | None:
    """The latest draw: the panel (earlier draws were replaced, with a reason)."""
    return process.draws.order_by("-pk").first()


def panel_members(draw: PanelDraw) -> QuerySet[PanelMember]:
    return draw.members.select_related("frame_row", "group")


@dataclass(frozen=True)
class StratumRow:
    feature: str
    value: str
    population: int
    population_share: float
    drawn: int
    drawn_share: float
    attended: int
    attended_share: float
    quota_min: int | None
    quota_max: int | None


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def representativeness(draw: PanelDraw) -> list[StratumRow]:
    """Per stratum of the draw's quotas: its share of the frame, of the panel drawn (not
    reserves) and of the members who attended."""
    features = sorted({q["feature"] for q in draw.quotas})
    quota = {(q["feature"], q["value"]): (int(q["min"]), int(q["max"])) for q in draw.quotas}
    population: Counter[tuple[str, str]] = Counter()
    for strata in FrameRow.objects.filter(process_id=draw.process_id).values_list(
        "strata", flat=True
    ):
        for f in features:
            population[(f, strata.get(f, ""))] += 1
    drawn: Counter[tuple[str, str]] = Counter()
    attended: Counter[tuple[str, str]] = Counter()
    n_drawn = n_attended = 0
    for strata, is_reserve, is_designated, came in draw.members.filter(
        frame_row__isnull=False
    ).values_list("frame_row__strata", "reserve", "designated", "attended"):
        by_lot = not is_reserve and not is_designated
        if by_lot:
            n_drawn += 1
        if came:
            n_attended += 1
        for f in features:
            key = (f, strata.get(f, ""))
            if by_lot:
                drawn[key] += 1
            if came:
                attended[key] += 1
    total = sum(v for (f, _v), v in population.items() if f == features[0]) if features else 0
    rows = []
    for key in sorted(set(population) | set(quota)):
        f, v = key
        q = quota.get(key)
        rows.append(
            StratumRow(
                feature=f,
                value=v,
                population=population[key],
                population_share=_share(population[key], total),
                drawn=drawn[key],
                drawn_share=_share(drawn[key], n_drawn),
                attended=attended[key],
                attended_share=_share(attended[key], n_attended),
                quota_min=q[0] if q else None,
                quota_max=q[1] if q else None,
            )
        )
    return rows


def panel_counts(draw: PanelDraw) -> dict[str, int]:
    members = draw.members
    return {
        "drawn": members.filter(reserve=False, designated=False).count(),
        "designated": members.filter(designated=True).count(),
        "reserve": members.filter(reserve=True).count(),
        "called": members.filter(called_at__isnull=False).count(),
        "invited": members.filter(invited_at__isnull=False).count(),
        "yes": members.filter(rsvp=PanelMember.Rsvp.YES).count(),
        "no": members.filter(rsvp=PanelMember.Rsvp.NO).count(),
        "attended": members.filter(attended=True).count(),
    }


@dataclass(frozen=True)
class ProjectChange:
    project_id: int
    title: str
    cost: int
    test: PairedTest


@dataclass(frozen=True)
class PollAnalysis:
    projects: list[ProjectChange]
    knowledge: PairedTest
    ranking: list[RankedProject]
    respondents_t1: int
    respondents_t2: int


def _ratings(process: BudgetProcess, wave: str) -> dict[int, dict[int, float]]:
    """project id -> member id -> score, for one wave."""
    out: dict[int, dict[int, float]] = defaultdict(dict)
    for pid, member_id, score in ProjectRating.objects.filter(
        response__questionnaire__process=process, response__questionnaire__wave=wave
    ).values_list("project_id", "response__member_id", "score"):
        out[pid][member_id] = float(score)
    return out


def _knowledge(process: BudgetProcess, wave: str) -> dict[int, float]:
    return {
        member_id: float(score)
        for member_id, score in QuestionnaireResponse.objects.filter(
            questionnaire__process=process, questionnaire__wave=wave
        ).values_list("member_id", "knowledge_score")
    }


def poll_analysis(process: BudgetProcess) -> PollAnalysis:
    """The T1/T2 analysis: per accepted project the paired change of its rating (t-test
    and Wilcoxon), the knowledge gain, and the funding list down the T2 ranking within
    the process's budget."""
    t1, t2 = _ratings(process, Wave.T1), _ratings(process, Wave.T2)
    changes = []
    ranking_input = []
    for project in projects_accepted(process):
        before, after = pairs(t1.get(project.pk, {}), t2.get(project.pk, {}))
        changes.append(
            ProjectChange(project.pk, project.title, int(project.cost), paired_test(before, after))
        )
        scores_t2 = list(t2.get(project.pk, {}).values())
        mean_t2 = sum(scores_t2) / len(scores_t2) if scores_t2 else None
        ranking_input.append((project.pk, project.title, int(project.cost), mean_t2))
    k1, k2 = _knowledge(process, Wave.T1), _knowledge(process, Wave.T2)
    return PollAnalysis(
        projects=changes,
        knowledge=paired_test(*pairs(k1, k2)),
        ranking=funded_down_the_ranking(projects=ranking_input, budget=int(process.total_budget)),
        respondents_t1=len(k1),
        respondents_t2=len(k2),
    )


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class OpinionCounts:
    """Every opinion of a process (each project proposal and each question a small group
    raised in the plenary) and how many have their answer on record."""

    projects: int
    projects_answered: int
    questions: int
    questions_answered: int

    @property
    def total(self) -> int:
        return self.projects + self.questions

    @property
    def answered(self) -> int:
        return self.projects_answered + self.questions_answered

    @property
    def pending(self) -> int:
        return self.total - self.answered


def opinion_counts(process: BudgetProcess) -> OpinionCounts:
    """A project is answered once screened (accepted, rejected with its reason, or merged
    into another); a plenary question once its answer is recorded. Two queries."""
    projects = process.projects.aggregate(
        n=Count("pk"), answered=Count("pk", filter=~Q(status=BudgetProject.Status.PROPOSED))
    )
    questions = process.plenary_questions.aggregate(
        n=Count("pk"), answered=Count("pk", filter=~Q(answer=""))
    )
    return OpinionCounts(
        projects=projects["n"],
        projects_answered=projects["answered"],
        questions=questions["n"],
        questions_answered=questions["answered"],
    )


def projects_with_answers(process: BudgetProcess) -> QuerySet[BudgetProject]:
    """Every proposal of the process with what became of it (the public list of answers)."""
    return process.projects.select_related("merged_into").order_by("pk")


def projects_unanswered(process: BudgetProcess) -> QuerySet[BudgetProject]:
    return process.projects.filter(status=BudgetProject.Status.PROPOSED).order_by("pk")


def plenary_questions(process: BudgetProcess) -> QuerySet[PlenaryQuestion]:
    return process.plenary_questions.select_related("group", "project").order_by("pk")


def plenary_questions_unanswered(process: BudgetProcess) -> QuerySet[PlenaryQuestion]:
    return plenary_questions(process).filter(answer="")


def project_public(process: BudgetProcess, project_id: int) -> BudgetProject:
    """One proposal as the public sees it (no contact data), or BudgetError NOT_FOUND."""
    project = (
        process.projects.select_related("merged_into").filter(pk=project_id).first()
        if project_id
        else None
    )
    if project is None:
        raise BudgetError(BudgetErrorCode.NOT_FOUND)
    return project


def processes_with_pending(user: Any) -> list[tuple[BudgetProcess, OpinionCounts]]:
    """The processes ``user`` runs, each with its opinion counts (the staff's home)."""
    return [(p, opinion_counts(p)) for p in processes_run_by(user)]


# --------------------------------------------------------------------------- panel roster


@dataclass(frozen=True)
class RosterRow:
    member: PanelMember
    stratum: str
    name: str


def _stratum_label(strata: dict[str, str] | None, features: list[str]) -> str:
    strata = strata or {}
    return " · ".join(strata.get(f, "") for f in features)


def panel_roster(draw: PanelDraw) -> dict[str, Any]:
    """The staff's view of the panel: the designated members (with the share's seats),
    the frame rows marked designated not seated yet, the reserves in their order (called
    up or waiting) and the members who declined (with who replaced them). Names masked."""
    features = sorted({q["feature"] for q in draw.quotas})
    members = list(
        draw.members.select_related("frame_row", "replaces", "replaced_by").order_by(
            "reserve", "reserve_rank", "pk"
        )
    )

    def row(m: PanelMember) -> RosterRow:
        name = m.designated_name or (m.frame_row.name if m.frame_row is not None else "")
        strata = m.frame_row.strata if m.frame_row is not None else None
        return RosterRow(m, _stratum_label(strata, features), mask_name(name))

    seated_rows = {m.frame_row_id for m in members if m.frame_row_id}
    marked = [
        (fr, _stratum_label(fr.strata, features), mask_name(fr.name))
        for fr in FrameRow.objects.filter(process_id=draw.process_id)
        .exclude(designated_as="")
        .order_by("frame_id")
        if fr.pk not in seated_rows
    ]
    designated = [row(m) for m in members if m.designated]
    return {
        "features": features,
        "designated": designated,
        "designated_seats": round(draw.size * draw.designated_share / 100),
        "marked": marked,
        "reserves": [row(m) for m in members if m.reserve],
        "declined": [
            (row(m), getattr(m, "replaced_by", None))
            for m in members
            if m.rsvp == PanelMember.Rsvp.NO and not m.designated and m.on_panel
        ],
    }


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BallotResultPublic:
    ballot: Ballot
    rule_label: str
    votes: int
    projects: list[BudgetProject]
    total_cost: int


def ballot_result_public(ballot: Ballot) -> BallotResultPublic | None:
    """The result of a closed ballot as the process page shows it: the projects funded by
    the rule the process chose, in that rule's order; None while the ballot is open."""
    if ballot.closes_at > timezone.now():
        return None
    votes = ballot.votes.count()
    label = str(RULE_LABELS[Rule(ballot.rule)])
    if not votes:
        return BallotResultPublic(ballot, label, 0, [], 0)
    outcome = outcome_for(process=ballot.process, rule=ballot.rule)
    if outcome is None:
        return None
    by_id = BudgetProject.objects.in_bulk(outcome.project_ids)
    return BallotResultPublic(
        ballot,
        label,
        votes,
        [by_id[pk] for pk in outcome.project_ids if pk in by_id],
        outcome.total_cost,
    )
