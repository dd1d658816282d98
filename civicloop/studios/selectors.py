"""What the studios module reads: who a user is here, the public directory, threads a
member / head / the office may see, figures, yearly report tallies, opinion groups."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from civicloop.core.accounts.roles import Role
from civicloop.core.units.selectors import user_standing
from civicloop.studios.hooks import CPPCC_OFFICE_UNIT
from civicloop.studios.models import (
    Adoption,
    Instruction,
    Level,
    Member,
    Report,
    Side,
    Studio,
    TallyRules,
    Thread,
)


def tally_rules(*, year: int) -> TallyRules:
    """The points table and quotas in force for `year`: its own row, else the latest
    earlier year's, else the defaults (an unsaved row)."""
    rules = TallyRules.objects.filter(year__lte=year).order_by("-year").first()
    if rules is None:
        return TallyRules(year=year)
    return rules


def member_of(*, user: Any) -> Member | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.filter(user=user, is_active=True).select_related("studio").first()


def is_cppcc_office(*, user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    standing = user_standing(user)
    return standing.is_admin or standing.in_unit_coded(CPPCC_OFFICE_UNIT)


def is_studio_head(*, user: Any, studio: Studio) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if studio.head_id is not None and studio.head is not None and studio.head.user_id == user.pk:
        return True
    return user_standing(user).has_role_in(studio.unit_id, Role.UNIT_LEADER)


def thread_party(*, thread: Thread, user: Any) -> str | None:
    """Which side `user` writes on in `thread` (citizen / member), None when they are no
    party: the citizen who opened it; the member addressed (or, when none was, any
    member of the studio), the studio's head and the CPPCC office."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if thread.case.submitter_id == user.pk:
        return Side.CITIZEN
    member = member_of(user=user)
    if (
        member is not None
        and member.studio_id == thread.studio_id
        and (thread.member_id is None or thread.member_id == member.pk)
    ):
        return Side.MEMBER
    if is_studio_head(user=user, studio=thread.studio) or is_cppcc_office(user=user):
        return Side.MEMBER
    return None


def studios_search(
    *, q: str = "", field: str = "", town: str = "", kind: str = ""
) -> QuerySet[Studio]:
    """Active studios by words in the name or sector, a field, a town (code or name)."""
    qs = Studio.objects.filter(is_active=True).select_related("town")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(sector__icontains=q) | Q(address__icontains=q))
    if town:
        qs = qs.filter(Q(town__code=town) | Q(town__name__icontains=town))
    if kind:
        qs = qs.filter(kind=kind)
    if field:
        # JSON containment is not on SQLite; the list is a city's (a few dozen studios).
        ids = [s.pk for s in qs if field in (s.fields or [])]
        qs = qs.filter(pk__in=ids)
    return qs.order_by("kind", "pk")


def studio_url(studio: Studio) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse("studios:studio_detail", kwargs={"slug": studio.slug})


def inbox_threads(*, user: Any) -> QuerySet[Thread]:
    """The threads a user answers or oversees, newest first: a member's own (and those
    sent to their studio as a whole), a head's whole studio, the office's all."""
    qs = Thread.objects.select_related("case", "studio", "member").order_by("-created_at", "-pk")
    if is_cppcc_office(user=user):
        return qs
    member = member_of(user=user)
    cond = Q(studio_id__in=[s.pk for s in led_studios(user=user)])
    if member is not None:
        cond |= Q(member=member) | Q(studio_id=member.studio_id, member__isnull=True)
    return qs.filter(cond)


def led_studios(*, user: Any) -> list[Studio]:
    """The studios `user` heads (as their head member or their unit's leader)."""
    member = member_of(user=user)
    cond = Q(unit_id__in=_led_units(user))
    if member is not None:
        cond |= Q(head=member)
    return list(Studio.objects.filter(cond))


def _led_units(user: Any) -> list[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    standing = user_standing(user)
    return [pk for pk, roles in standing.unit_roles.items() if Role.UNIT_LEADER in roles]


@dataclass
class Figures:
    label: str
    threads: int
    answered: int
    answered_on_time: int
    rated: int
    satisfied: int

    @property
    def on_time_rate(self) -> float:
        return self.answered_on_time / self.threads if self.threads else 0.0

    @property
    def satisfaction(self) -> float:
        return self.satisfied / self.rated if self.rated else 0.0


def thread_figures(*, by: str = "studio") -> list[Figures]:
    """Threads, answered, answered by the deadline, rated and satisfied (满意 or 基本满意),
    per studio or per member (a thread sent to a studio as a whole counts under "—"),
    in one grouped query."""
    label = "studio__name" if by == "studio" else "member__name"
    on_time = Q(first_reply_at__isnull=False) & (
        Q(case__due_at__isnull=True) | Q(first_reply_at__lte=F("case__due_at"))
    )
    rows = (
        Thread.objects.values(label)
        .annotate(
            threads=Count("pk"),
            answered=Count("pk", filter=Q(first_reply_at__isnull=False)),
            on_time=Count("pk", filter=on_time),
            rated=Count("pk", filter=~Q(case__rating="")),
            satisfied=Count("pk", filter=Q(case__rating__in=("satisfied", "basically"))),
        )
        .order_by(label)
    )
    return [
        Figures(
            r[label] or "—", r["threads"], r["answered"], r["on_time"], r["rated"], r["satisfied"]
        )
        for r in rows
    ]


@dataclass
class Tally:
    member: Member
    reports: int
    adoptions: dict[str, int]
    instructions: int
    score: int
    quota: int

    @property
    def below_quota(self) -> bool:
        return self.reports < self.quota

    @property
    def adoption_labels(self) -> list[tuple[str, int]]:
        """(level label, count) in the order of the levels."""
        return [
            (str(label), self.adoptions[v]) for v, label in Level.choices if v in self.adoptions
        ]


def report_tallies(*, year: int) -> list[Tally]:
    """Per member, a year's reports, adoptions by level, 批示 and score, with the quota
    (a joint report counts for each of its authors)."""
    rules = tally_rules(year=year)
    points = rules.level_points()
    members = list(Member.objects.filter(is_active=True).select_related("studio"))
    reports: dict[int, set[int]] = defaultdict(set)
    for member_id, report_id in Report.authors.through.objects.filter(
        report__year=year
    ).values_list("member_id", "report_id"):
        reports[member_id].add(report_id)
    adoptions: dict[int, list[str]] = defaultdict(list)
    for report_id, level in Adoption.objects.filter(report__year=year).values_list(
        "report_id", "level"
    ):
        adoptions[report_id].append(level)
    instructions: dict[int, int] = defaultdict(int)
    for report_id in Instruction.objects.filter(report__year=year).values_list(
        "report_id", flat=True
    ):
        instructions[report_id] += 1
    out = []
    for m in members:
        levels: dict[str, int] = defaultdict(int)
        n_instr = 0
        for rid in reports[m.pk]:
            for level in adoptions[rid]:
                levels[level] += 1
            n_instr += instructions[rid]
        score = sum(points[Level(lv)] * n for lv, n in levels.items())
        score += rules.points_instruction * n_instr
        quota = rules.quota_standing if m.standing else rules.quota_other
        out.append(Tally(m, len(reports[m.pk]), dict(levels), n_instr, score, quota))
    return sorted(out, key=lambda t: (-t.score, t.member.pk))


def sector_tallies(*, year: int) -> list[tuple[str, int, int]]:
    """(sector, reports, score) per 界别."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in report_tallies(year=year):
        acc[t.member.sector][0] += t.reports
        acc[t.member.sector][1] += t.score
    return sorted(((s, v[0], v[1]) for s, v in acc.items()), key=lambda r: -r[2])


def reports_of_thread(*, thread: Thread) -> list[Report]:
    return list(thread.reports.prefetch_related("adoptions", "instructions"))


def session_matrix(*, session: Any) -> tuple[list[Any], list[Any], Any]:
    """The participants, the statements and their vote matrix (1 / -1 / 0)."""
    import numpy as np

    from civicloop.studios.models import Vote

    participants = list(session.participants.order_by("pk"))
    statements = list(session.statements.order_by("pk"))
    row = {p.pk: i for i, p in enumerate(participants)}
    col = {s.pk: j for j, s in enumerate(statements)}
    matrix = np.zeros((len(participants), len(statements)), dtype=np.int8)
    for pid, sid, value in Vote.objects.filter(statement__session=session).values_list(
        "participant_id", "statement_id", "value"
    ):
        matrix[row[pid], col[sid]] = value
    return participants, statements, matrix
