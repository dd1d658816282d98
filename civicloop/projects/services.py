"""Writes of 民生实事: proposals, screening, the secret ballot and its tally, delivery
(milestones, progress, delays), supervision visits and the year-end satisfaction vote.

The ballot's secrecy rests on three rules kept here:
1. a cast writes a `VoterRecord` (who) and a `Ballot` (what) in one transaction, and
   nothing else: no timeline entry, no log line, no outbox message names the voter;
2. a ballot carries a random key, a receipt hash and its choices, nothing more;
3. a ballot's choices are read back only through its receipt (`ballot_check`);
4. closing rewrites the ballots in random order in one transaction, so the database's
   own row traces (xmin, physical order, rowid) no longer follow the casting.
What stays: while a vote is open, someone with direct database access could pair a
ballot row with the voter row written in the same transaction; the platform's pages,
API, admin and queries never do."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.models import User
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.links import case_links_add
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit, clean_text, transition
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.core.ratelimit import RateLimitExceeded, rate_limit_hit
from civicloop.core.units.models import Unit
from civicloop.projects.errors import ProjectError, ProjectErrorCode
from civicloop.projects.hooks import FINDING, MILESTONE, PROJECT
from civicloop.projects.models import (
    Ballot,
    BallotKind,
    Candidate,
    CandidateSource,
    Cycle,
    CycleState,
    Delay,
    MajorityBase,
    Milestone,
    ProgressReport,
    RollEntry,
    SupervisionGroup,
    Visit,
    VoteMode,
    VoterRecord,
)
from civicloop.projects.selectors import (
    ballot_candidates,
    chosen_projects,
    department_of,
    deputies_current,
    is_deputy,
    is_lead_staff,
    is_office,
    may_supervise,
    office_unit,
)
from civicloop.projects.workflow import VIA

TITLE_MAX = 120
BODY_MAX = 2000
FOR, AGAINST, ABSTAIN = "for", "against", "abstain"
APPROVE_VALUES = (FOR, AGAINST, ABSTAIN)
SATISFACTION_VALUES = ("satisfied", "basically", "unsatisfied")
# A milestone falls due at the end of its date's office day.
MILESTONE_DUE_TIME = time(17, 30)


def _check_office(actor: Any) -> None:
    if not is_office(actor):
        raise ProjectError(ProjectErrorCode.FORBIDDEN)


def _check_state(cycle: Cycle, *states: str) -> None:
    if cycle.state not in states:
        raise ProjectError(ProjectErrorCode.STATE)


def _lock(cycle: Cycle) -> Cycle:
    return Cycle.objects.select_for_update().get(pk=cycle.pk)


def _step(case: Case, action: str, actor: User | None, **kwargs: Any) -> Case:
    """Take a step of this module's workflows on a core case; core's refusal is ours."""
    try:
        return transition(case=case, action=action, actor=actor, via=VIA, **kwargs)
    except CaseError as exc:
        raise ProjectError(ProjectErrorCode.CASE, exc.message, field=exc.field) from exc


# --------------------------------------------------------------------------- cycle


def cycle_create(
    *,
    year: int,
    title: str,
    actor: User | None,
    places: int = 10,
    mode: str = VoteMode.APPROVE,
    max_choices: int = 0,
    majority_base: str = MajorityBase.ROLL,
    quorum_percent: int = 50,
) -> Cycle:
    """Open a year's cycle in the collecting step. One cycle per year."""
    if actor is not None:
        _check_office(actor)
    if mode not in VoteMode.values or majority_base not in MajorityBase.values:
        raise ProjectError(ProjectErrorCode.INVALID, field="mode")
    if places < 1 or not 0 <= quorum_percent < 100:
        raise ProjectError(ProjectErrorCode.INVALID, field="places")
    if Cycle.objects.filter(year=year).exists():
        raise ProjectError(ProjectErrorCode.INVALID, _("该年度已有票决。"), field="year")
    return Cycle.objects.create(
        year=year,
        title=clean_text(title) or f"{year}年民生实事项目",
        places=places,
        mode=mode,
        max_choices=max_choices,
        majority_base=majority_base,
        quorum_percent=quorum_percent,
    )


def cycle_screening_start(*, cycle: Cycle, actor: User | None) -> Cycle:
    """End the collection: the public page stops taking proposals."""
    if actor is not None:
        _check_office(actor)
    with transaction.atomic():
        cycle = _lock(cycle)
        _check_state(cycle, CycleState.COLLECTING)
        cycle.state = CycleState.SCREENING
        cycle.save(update_fields=["state"])
    return cycle


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Proposal:
    title: str
    description: str
    source: str
    location: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    budget_wan: Decimal | None = None
    lead_unit: Unit | None = None
    timeline: str = ""


def _check_proposal(p: Proposal) -> tuple[str, str]:
    title = clean_text(p.title)
    description = clean_text(p.description)
    if not title:
        raise ProjectError(ProjectErrorCode.MISSING, _("请填写项目名称。"), field="title")
    if not description:
        raise ProjectError(ProjectErrorCode.MISSING, _("请填写项目内容。"), field="description")
    if len(title) > TITLE_MAX:
        raise ProjectError(ProjectErrorCode.INVALID, _("项目名称不超过120字。"), field="title")
    if len(description) > BODY_MAX:
        raise ProjectError(
            ProjectErrorCode.INVALID, _("项目内容不超过2000字。"), field="description"
        )
    if p.source not in CandidateSource.values:
        raise ProjectError(ProjectErrorCode.INVALID, field="source")
    if p.budget_wan is not None and p.budget_wan < 0:
        raise ProjectError(ProjectErrorCode.INVALID, _("预算不能为负数。"), field="budget_wan")
    return title, description


def candidate_propose(
    *,
    cycle: Cycle,
    proposal: Proposal,
    actor: User | None,
    from_cases: Sequence[Case] = (),
    ip: str | None = None,
    now: datetime | None = None,
) -> Candidate:
    """Add a candidate: a core case on the "project" channel owned by the office, and
    the candidate row, together. Public proposals (no actor) are limited per client
    address and hour. `from_cases` (promoted from opinions or suggestions) are linked to
    the candidate's case both ways.

    Refuses when the cycle no longer collects (the office may still add during
    screening), when a field is missing or wrong, or over the limit."""
    now = now or timezone.now()
    title, description = _check_proposal(proposal)
    staff = actor is not None and is_office(actor)
    if staff:
        _check_state(cycle, CycleState.COLLECTING, CycleState.SCREENING)
    else:
        _check_state(cycle, CycleState.COLLECTING)
    if proposal.source == CandidateSource.PROMOTED and not staff:
        raise ProjectError(ProjectErrorCode.FORBIDDEN)
    if proposal.source == CandidateSource.DEPARTMENT and not (staff or department_of(actor)):
        raise ProjectError(ProjectErrorCode.FORBIDDEN)
    if proposal.source == CandidateSource.DEPUTY and not (staff or is_deputy(actor)):
        raise ProjectError(ProjectErrorCode.FORBIDDEN)
    if ip and not staff:
        try:
            rate_limit_hit(
                scope="projects-propose",
                ident=ip,
                limit=int(settings.PROJECTS_PROPOSALS_PER_IP_PER_HOUR),
                window=3600,
            )
        except RateLimitExceeded as exc:
            raise ProjectError(ProjectErrorCode.RATE_LIMITED, retry_after=exc.retry_after) from None
    office = office_unit()
    body = description
    if proposal.location:
        body = f"{description}\n\n{_('地点')}：{clean_text(proposal.location)}"
    with transaction.atomic():
        try:
            case = case_submit(
                draft=CaseDraft(
                    channel=PROJECT.code,
                    title=title,
                    body=body,
                    area=office.area,
                    owner_unit=office,
                    submitter=actor,
                    contact_name=proposal.contact_name,
                    contact_phone=proposal.contact_phone,
                    source=proposal.source,
                    data={"cycle": cycle.year},
                ),
                now=now,
            )
        except CaseError as exc:
            raise ProjectError(ProjectErrorCode.CASE, exc.message, field=exc.field) from exc
        candidate = Candidate.objects.create(
            cycle=cycle,
            case=case,
            title=title,
            description=description,
            source=proposal.source,
            budget_wan=proposal.budget_wan,
            lead_unit=proposal.lead_unit,
            timeline=clean_text(proposal.timeline)[:120],
        )
        if from_cases:
            case_links_add(
                sources=list(from_cases),
                target=case,
                actor=actor,
                note=str(_("转为民生实事候选项目")),
                now=now,
            )
    return candidate


def candidate_update(
    *,
    candidate: Candidate,
    actor: User | None,
    budget_wan: Decimal | None,
    lead_unit: Unit | None,
    timeline: str,
) -> Candidate:
    """The office completes a candidate in screening: budget, lead unit, timeline."""
    if actor is not None:
        _check_office(actor)
    _check_state(candidate.cycle, CycleState.COLLECTING, CycleState.SCREENING)
    if budget_wan is not None and budget_wan < 0:
        raise ProjectError(ProjectErrorCode.INVALID, _("预算不能为负数。"), field="budget_wan")
    candidate.budget_wan = budget_wan
    candidate.lead_unit = lead_unit
    candidate.timeline = clean_text(timeline)[:120]
    candidate.save(update_fields=["budget_wan", "lead_unit", "timeline"])
    return candidate


def candidate_shortlist(
    *, candidate: Candidate, actor: User | None, now: datetime | None = None
) -> Candidate:
    """Put a candidate on the ballot paper. It needs its budget, lead unit and timeline."""
    if actor is not None:
        _check_office(actor)
    _check_state(candidate.cycle, CycleState.COLLECTING, CycleState.SCREENING)
    if candidate.shortlisted:
        return candidate
    if candidate.budget_wan is None or candidate.lead_unit_id is None or not candidate.timeline:
        raise ProjectError(
            ProjectErrorCode.MISSING, _("列入候选前请填写预算、牵头单位和实施周期。")
        )
    with transaction.atomic():
        _step(candidate.case, "shortlist", actor, now=now)
        candidate.shortlisted = True
        candidate.save(update_fields=["shortlisted"])
    return candidate


def candidate_unshortlist(
    *, candidate: Candidate, actor: User | None, now: datetime | None = None
) -> Candidate:
    if actor is not None:
        _check_office(actor)
    _check_state(candidate.cycle, CycleState.COLLECTING, CycleState.SCREENING)
    if not candidate.shortlisted:
        return candidate
    with transaction.atomic():
        _step(candidate.case, "unshortlist", actor, now=now)
        candidate.shortlisted = False
        candidate.save(update_fields=["shortlisted"])
    return candidate


def candidate_screen_out(
    *, candidate: Candidate, actor: User | None, reason: str, now: datetime | None = None
) -> Candidate:
    """Leave a proposal off the shortlist, with the reason the proposer will read."""
    if actor is not None:
        _check_office(actor)
    _check_state(candidate.cycle, CycleState.COLLECTING, CycleState.SCREENING)
    if not clean_text(reason):
        raise ProjectError(ProjectErrorCode.MISSING, _("请填写不列入的原因。"), field="reason")
    _step(candidate.case, "screen_out", actor, note=reason, now=now)
    return candidate


# --------------------------------------------------------------------------- the ballot


def _tell_deputies(*, cycle: Cycle, kind: str, user_ids: Sequence[int]) -> None:
    """A DingTalk work notice to the deputies on a new roll, in the caller's transaction
    (outbox): the vote is open, and where to vote. One message per cycle and vote."""
    userids = sorted(
        set(
            User.objects.filter(pk__in=user_ids)
            .exclude(dingtalk_userid="")
            .values_list("dingtalk_userid", flat=True)
        )
    )
    if not userids:
        return
    path = "satisfaction" if kind == BallotKind.SATISFACTION else "ballot"
    title = (
        _("民生实事项目满意度测评已开始")
        if kind == BallotKind.SATISFACTION
        else _("民生实事项目票决已开始")
    )
    text = f"**{cycle.title}**\n\n{title}：{settings.SITE_URL}/projects/{cycle.year}/{path}/"
    outbox_enqueue_many(
        drafts=[
            OutboxDraft(
                "dingtalk_work",
                {"userids": userids, "title": str(title), "text": text},
                f"projects:{cycle.year}:{kind}:open",
            )
        ]
    )


def voting_open(*, cycle: Cycle, actor: User | None, now: datetime | None = None) -> Cycle:
    """Open the secret ballot: fix the voter roll (every current deputy) and the ballot
    paper (the shortlist, numbered). Refuses without more candidates than places (差额)
    or without deputies."""
    if actor is not None:
        _check_office(actor)
    now = now or timezone.now()
    with transaction.atomic():
        cycle = _lock(cycle)
        _check_state(cycle, CycleState.COLLECTING, CycleState.SCREENING)
        shortlist = list(Candidate.objects.filter(cycle=cycle, shortlisted=True).order_by("pk"))
        if len(shortlist) <= cycle.places:
            raise ProjectError(
                ProjectErrorCode.STATE,
                _("差额票决：候选项目数须多于确定项目数（%(places)d 个）。"),
                places=cycle.places,
            )
        deputies = list(deputies_current().values_list("pk", flat=True))
        if not deputies:
            raise ProjectError(ProjectErrorCode.STATE, _("没有可参加票决的人大代表。"))
        RollEntry.objects.bulk_create(
            [RollEntry(cycle=cycle, kind=BallotKind.SELECTION, user_id=pk) for pk in deputies]
        )
        for number, candidate in enumerate(shortlist, start=1):
            candidate.ballot_number = number
        Candidate.objects.bulk_update(shortlist, ["ballot_number"])
        _tell_deputies(cycle=cycle, kind=BallotKind.SELECTION, user_ids=deputies)
        cycle.state = CycleState.VOTING
        cycle.roll_size = len(deputies)
        cycle.voting_opened_at = now
        cycle.save(update_fields=["state", "roll_size", "voting_opened_at"])
    return cycle


def _receipt_new() -> str:
    """An 80-bit receipt a deputy can copy or write down: XXXX-XXXX-XXXX-XXXX."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def receipt_hash(receipt: str) -> str:
    normal = "".join(ch for ch in receipt.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode("ascii", "ignore")).hexdigest()


def _clean_choices(cycle: Cycle, kind: str, choices: Mapping[str, Any]) -> dict[str, Any]:
    """The ballot's choices as stored, or ProjectError naming what is wrong."""
    if kind == BallotKind.SATISFACTION:
        ids = [str(pk) for pk in chosen_projects(cycle=cycle).values_list("pk", flat=True)]
        values: tuple[str, ...] = SATISFACTION_VALUES
    else:
        ids = [str(pk) for pk in ballot_candidates(cycle=cycle).values_list("pk", flat=True)]
        values = APPROVE_VALUES
    if kind == BallotKind.SELECTION and cycle.mode == VoteMode.K_OF_N:
        picked = choices.get("chosen", [])
        if not isinstance(picked, list | tuple | set):
            raise ProjectError(ProjectErrorCode.INVALID, field="choices")
        picked_ids = sorted({str(p) for p in picked})
        if any(p not in ids for p in picked_ids):
            raise ProjectError(ProjectErrorCode.INVALID, _("选票上没有该项目。"), field="choices")
        if len(picked_ids) > cycle.choose_at_most:
            raise ProjectError(
                ProjectErrorCode.INVALID,
                _("最多可选 %(count)d 项。"),
                field="choices",
                count=cycle.choose_at_most,
            )
        return {"chosen": picked_ids}
    given = {str(k): v for k, v in choices.items()}
    if set(given) - set(ids):
        raise ProjectError(ProjectErrorCode.INVALID, _("选票上没有该项目。"), field="choices")
    missing = [pk for pk in ids if given.get(pk) not in values]
    if missing:
        raise ProjectError(
            ProjectErrorCode.MISSING, _("请对每个项目作出选择后再提交。"), field="choices"
        )
    return {pk: given[pk] for pk in ids}


def ballot_cast(
    *,
    cycle: Cycle,
    user: User,
    choices: Mapping[str, Any],
    kind: str = BallotKind.SELECTION,
    now: datetime | None = None,
) -> str:
    """Cast a deputy's secret ballot; returns the receipt, shown once and never stored.

    Guarantees: only a deputy on this vote's roll, only while it is open, only once
    (the unique VoterRecord row refuses a second cast even when two arrive at the same
    moment); the VoterRecord and the Ballot commit together or not at all, and the
    Ballot holds no user, no time and a random key."""
    now = now or timezone.now()
    open_state = CycleState.EVALUATING if kind == BallotKind.SATISFACTION else CycleState.VOTING
    receipt = _receipt_new()
    try:
        with transaction.atomic():
            # The cycle row is the lock that orders casts against closing.
            locked = _lock(cycle)
            _check_state(locked, open_state)
            if not RollEntry.objects.filter(cycle=locked, kind=kind, user=user).exists():
                raise ProjectError(ProjectErrorCode.NOT_DEPUTY)
            clean = _clean_choices(locked, kind, choices)
            if VoterRecord.objects.filter(cycle=locked, kind=kind, user=user).exists():
                raise ProjectError(ProjectErrorCode.ALREADY_VOTED)
            VoterRecord.objects.create(cycle=locked, kind=kind, user=user, voted_at=now)
            Ballot.objects.create(
                cycle=locked, kind=kind, receipt_hash=receipt_hash(receipt), choices=clean
            )
    except IntegrityError:
        raise ProjectError(ProjectErrorCode.ALREADY_VOTED) from None
    return receipt


@dataclass(frozen=True)
class BallotView:
    """A ballot read back by its receipt: what it says, in the ballot paper's words."""

    cycle: Cycle
    kind: str
    lines: list[tuple[str, str]]


_VALUE_LABELS = {
    FOR: _("赞成"),
    AGAINST: _("反对"),
    ABSTAIN: _("弃权"),
    "satisfied": _("满意"),
    "basically": _("基本满意"),
    "unsatisfied": _("不满意"),
}


def ballot_check(*, receipt: str, ip: str | None = None) -> BallotView:
    """The ballot whose receipt this is, so its holder sees it was counted as cast.
    Never says who cast it. Limited per client address."""
    if ip:
        try:
            rate_limit_hit(
                scope="projects-receipt",
                ident=ip,
                limit=int(settings.PROJECTS_RECEIPT_CHECKS_PER_IP_PER_HOUR),
                window=3600,
            )
        except RateLimitExceeded as exc:
            raise ProjectError(ProjectErrorCode.RATE_LIMITED, retry_after=exc.retry_after) from None
    if not clean_text(receipt):
        raise ProjectError(ProjectErrorCode.MISSING, _("请输入回执码。"), field="receipt")
    ballot = (
        Ballot.objects.select_related("cycle").filter(receipt_hash=receipt_hash(receipt)).first()
    )
    if ballot is None:
        raise ProjectError(ProjectErrorCode.RECEIPT, field="receipt")
    titles = dict(Candidate.objects.filter(cycle=ballot.cycle).values_list("pk", "title"))
    lines: list[tuple[str, str]] = []
    if "chosen" in ballot.choices:
        picked = set(ballot.choices["chosen"])
        for pk, title in sorted(titles.items()):
            if str(pk) in picked:
                lines.append((title, str(_("选择"))))
        if not lines:
            lines.append((str(_("（空白票）")), ""))
    else:
        for pk, value in ballot.choices.items():
            lines.append((titles.get(int(pk), "?"), str(_VALUE_LABELS.get(value, value))))
    return BallotView(cycle=ballot.cycle, kind=ballot.kind, lines=lines)


@dataclass(frozen=True)
class Tally:
    for_: dict[int, int]
    against: dict[int, int]
    abstain: dict[int, int]


def _tally(cycle: Cycle, candidates: list[Candidate], ballots: list[dict[str, Any]]) -> Tally:
    ids = [c.pk for c in candidates]
    for_ = dict.fromkeys(ids, 0)
    against = dict.fromkeys(ids, 0)
    abstain = dict.fromkeys(ids, 0)
    for choices in ballots:
        if cycle.mode == VoteMode.K_OF_N:
            picked = {int(p) for p in choices.get("chosen", [])}
            for pk in ids:
                if pk in picked:
                    for_[pk] += 1
                else:
                    abstain[pk] += 1
            continue
        for pk in ids:
            value = choices.get(str(pk), ABSTAIN)
            {FOR: for_, AGAINST: against}.get(value, abstain)[pk] += 1
    return Tally(for_=for_, against=against, abstain=abstain)


def _choose(cycle: Cycle, candidates: list[Candidate], tally: Tally, voters: int) -> list[int]:
    """By the year's rule: those in favour from more than half of all deputies (or of
    the voters), then the first `places` by votes for. A tie across the last place
    chooses none of the tied (the rules then call for another vote on them)."""
    base = cycle.roll_size if cycle.majority_base == MajorityBase.ROLL else voters
    passing = [c.pk for c in candidates if tally.for_[c.pk] * 2 > base]
    passing.sort(key=lambda pk: -tally.for_[pk])
    if len(passing) <= cycle.places:
        return passing
    cut = tally.for_[passing[cycle.places - 1]]
    if tally.for_[passing[cycle.places]] == cut:
        return [pk for pk in passing if tally.for_[pk] > cut]
    return passing[: cycle.places]


def _ballots_rewrite(*, cycle: Cycle, kind: str) -> None:
    """Write a closed vote's ballots again, all in this one transaction and in the order
    of their receipt hashes (random): the database's own traces of when each row was
    written (PostgreSQL's xmin and physical position, SQLite's rowid), which followed the
    order and transactions of casting, then say nothing of who cast which."""
    rows = list(Ballot.objects.filter(cycle=cycle, kind=kind).order_by("receipt_hash"))
    Ballot.objects.filter(cycle=cycle, kind=kind).delete()
    Ballot.objects.bulk_create(
        [
            Ballot(id=b.id, cycle=cycle, kind=kind, receipt_hash=b.receipt_hash, choices=b.choices)
            for b in rows
        ]
    )


def voting_close(*, cycle: Cycle, actor: User | None, now: datetime | None = None) -> Cycle:
    """Close the ballot. Without a quorum (more than `quorum_percent` of the roll), the
    cycle is closed, nothing is published and the reason is stated. Otherwise the
    ballots are tallied, the candidates chosen by the rule, each candidate's case takes
    its step (chosen / not chosen, with its figures), and the result is published."""
    if actor is not None:
        _check_office(actor)
    now = now or timezone.now()
    with transaction.atomic():
        cycle = _lock(cycle)
        _check_state(cycle, CycleState.VOTING)
        _ballots_rewrite(cycle=cycle, kind=BallotKind.SELECTION)
        voters = VoterRecord.objects.filter(cycle=cycle, kind=BallotKind.SELECTION).count()
        cycle.voters_count = voters
        cycle.voting_closed_at = now
        if voters * 100 <= cycle.roll_size * cycle.quorum_percent:
            cycle.state = CycleState.CLOSED
            cycle.outcome_note = str(
                _(
                    "应到代表 %(roll)d 人，实到投票 %(voters)d 人，未超过代表总数的"
                    " %(percent)d%%，不足法定人数，本次票决无效，不公布结果。"
                )
                % {"roll": cycle.roll_size, "voters": voters, "percent": cycle.quorum_percent}
            )
            cycle.save(update_fields=["state", "voters_count", "voting_closed_at", "outcome_note"])
            return cycle
        candidates = list(ballot_candidates(cycle=cycle).select_related("case"))
        ballots = list(
            Ballot.objects.filter(cycle=cycle, kind=BallotKind.SELECTION).values_list(
                "choices", flat=True
            )
        )
        tally = _tally(cycle, candidates, ballots)
        chosen = _choose(cycle, candidates, tally, voters)
        ranking = sorted(candidates, key=lambda c: (-tally.for_[c.pk], c.ballot_number or 0))
        for rank, c in enumerate(ranking, start=1):
            c.votes_for = tally.for_[c.pk]
            c.votes_against = tally.against[c.pk]
            c.votes_abstain = tally.abstain[c.pk]
            c.chosen = c.pk in chosen
            c.rank = rank
            figures = {"for": c.votes_for, "against": c.votes_against, "abstain": c.votes_abstain}
            _step(c.case, "chosen" if c.chosen else "not_chosen", actor, data=figures, now=now)
        Candidate.objects.bulk_update(
            candidates, ["votes_for", "votes_against", "votes_abstain", "chosen", "rank"]
        )
        cycle.state = CycleState.PUBLISHED
        cycle.outcome_note = str(
            _("应到代表 %(roll)d 人，实到投票 %(voters)d 人，票决有效，%(chosen)d 个项目当选。")
            % {"roll": cycle.roll_size, "voters": voters, "chosen": len(chosen)}
        )
        cycle.save(update_fields=["state", "voters_count", "voting_closed_at", "outcome_note"])
    return cycle


# --------------------------------------------------------------------------- delivery


def delivery_start(*, cycle: Cycle, actor: User | None) -> Cycle:
    if actor is not None:
        _check_office(actor)
    with transaction.atomic():
        cycle = _lock(cycle)
        _check_state(cycle, CycleState.PUBLISHED)
        cycle.state = CycleState.DELIVERY
        cycle.save(update_fields=["state"])
    return cycle


def _check_delivery(project: Candidate) -> None:
    if not project.chosen:
        raise ProjectError(ProjectErrorCode.STATE, _("只有票决当选的项目才能实施。"))
    _check_state(project.cycle, CycleState.PUBLISHED, CycleState.DELIVERY, CycleState.EVALUATING)


def milestone_add(
    *,
    project: Candidate,
    title: str,
    due_date: date,
    actor: User | None,
    now: datetime | None = None,
) -> Milestone:
    """A delivery milestone: a core case owned by the lead unit, due on the date, linked
    from the project's case."""
    if actor is not None and not (is_office(actor) or is_lead_staff(actor, project)):
        raise ProjectError(ProjectErrorCode.FORBIDDEN)
    _check_delivery(project)
    title = clean_text(title)
    if not title:
        raise ProjectError(ProjectErrorCode.MISSING, _("请填写节点名称。"), field="title")
    now = now or timezone.now()
    lead = project.lead_unit
    if lead is None:
        raise ProjectError(ProjectErrorCode.MISSING, _("项目尚无牵头单位。"))
    due = timezone.make_aware(datetime.combine(due_date, MILESTONE_DUE_TIME))
    with transaction.atomic():
        try:
            case = case_submit(
                draft=CaseDraft(
                    channel=MILESTONE.code,
                    title=f"{project.title}：{title}"[:200],
                    body=f"{project.title}\n{title}",
                    area=lead.area,
                    owner_unit=lead,
                    submitter=actor,
                    source="projects",
                    data={"project": project.pk},
                    due_at=due,
                ),
                now=now,
            )
        except CaseError as exc:
            raise ProjectError(ProjectErrorCode.CASE, exc.message, field=exc.field) from exc
        milestone = Milestone.objects.create(
            project=project, case=case, title=title, due_date=due_date
        )
        case_links_add(sources=[project.case], target=case, actor=actor, now=now)
    return milestone


def project_deliver(
    *, project: Candidate, actor: User | None, note: str, now: datetime | None = None
) -> Candidate:
    """The office records a chosen project as completed (its case closes with the note
    as its result). Refused while a milestone is still open."""
    if actor is not None:
        _check_office(actor)
    _check_delivery(project)
    if Milestone.objects.filter(project=project, case__state="in_progress").exists():
        raise ProjectError(ProjectErrorCode.STATE, _("还有未完成的实施节点。"))
    with transaction.atomic():
        _step(project.case, "delivered", actor, note=note, now=now)
        Candidate.objects.filter(pk=project.pk).update(progress_percent=100)
    project.progress_percent = 100
    return project


def _check_lead(actor: User | None, project: Candidate) -> None:
    if actor is not None and not is_lead_staff(actor, project):
        raise ProjectError(ProjectErrorCode.FORBIDDEN, _("只有牵头单位可以报送进度。"))


def _photos(uploads: Sequence[UploadedFile], actor: User | None) -> list[Any]:
    try:
        return attachments_create_batch(uploads=uploads, uploaded_by=actor)
    except AttachmentError as exc:
        raise ProjectError(ProjectErrorCode.FILE, exc.message, field="photos") from exc


def progress_report(
    *,
    milestone: Milestone,
    actor: User | None,
    percent: int,
    spent_wan: Decimal,
    note: str,
    photos: Sequence[UploadedFile] = (),
    now: datetime | None = None,
) -> ProgressReport:
    """The lead unit reports the project's progress on an open milestone: percent done,
    money spent so far, what was done, photos (checked by content). Written on the
    milestone's timeline (with the photos) and on the project."""
    project = milestone.project
    _check_lead(actor, project)
    _check_delivery(project)
    if not 0 <= percent <= 100:
        raise ProjectError(ProjectErrorCode.INVALID, _("进度应在0到100之间。"), field="percent")
    if spent_wan < 0:
        raise ProjectError(ProjectErrorCode.INVALID, _("投资额不能为负数。"), field="spent_wan")
    if not clean_text(note):
        raise ProjectError(ProjectErrorCode.MISSING, _("请填写进展情况。"), field="note")
    now = now or timezone.now()
    stored = _photos(photos, actor)
    with transaction.atomic():
        _step(
            milestone.case,
            "progress",
            actor,
            note=note,
            attachments=stored,
            data={"percent": percent, "spent_wan": str(spent_wan)},
            now=now,
        )
        report = ProgressReport.objects.create(
            project=project,
            milestone=milestone,
            percent=percent,
            spent_wan=spent_wan,
            note=clean_text(note),
            created_by=actor,
            created_at=now,
        )
        report.photos.set(stored)
        Candidate.objects.filter(pk=project.pk).update(
            progress_percent=percent, spent_wan=spent_wan
        )
    project.progress_percent, project.spent_wan = percent, spent_wan
    return report


def delay_report(
    *,
    milestone: Milestone,
    actor: User | None,
    reason: str,
    expected_date: date,
    now: datetime | None = None,
) -> Delay:
    """The lead unit reports that a milestone will be late, why and until when. The
    milestone's deadline stands (a late milestone stays a red light on the cockpit)."""
    project = milestone.project
    _check_lead(actor, project)
    _check_delivery(project)
    if not clean_text(reason):
        raise ProjectError(ProjectErrorCode.MISSING, _("请填写延期原因。"), field="reason")
    if expected_date <= milestone.due_date:
        raise ProjectError(
            ProjectErrorCode.INVALID, _("预计完成日期应晚于计划日期。"), field="expected_date"
        )
    now = now or timezone.now()
    with transaction.atomic():
        _step(
            milestone.case,
            "delay",
            actor,
            note=reason,
            data={"expected_date": expected_date.isoformat()},
            now=now,
        )
        return Delay.objects.create(
            project=project,
            milestone=milestone,
            reason=clean_text(reason),
            expected_date=expected_date,
            created_by=actor,
            created_at=now,
        )


def milestone_complete(
    *,
    milestone: Milestone,
    actor: User | None,
    note: str,
    photos: Sequence[UploadedFile] = (),
    now: datetime | None = None,
) -> Milestone:
    _check_lead(actor, milestone.project)
    now = now or timezone.now()
    stored = _photos(photos, actor)
    with transaction.atomic():
        _step(milestone.case, "complete", actor, note=note, attachments=stored, now=now)
        milestone.done_at = now
        milestone.save(update_fields=["done_at"])
    return milestone


def group_create(
    *,
    project: Candidate,
    name: str,
    leader: User | None,
    members: Sequence[User],
    actor: User | None,
) -> SupervisionGroup:
    """A deputies' supervision group for a chosen project (members must be deputies)."""
    if actor is not None:
        _check_office(actor)
    _check_delivery(project)
    deputy_ids = set(deputies_current().values_list("pk", flat=True))
    people = list(members) + ([leader] if leader else [])
    if not people or any(p.pk not in deputy_ids for p in people):
        raise ProjectError(
            ProjectErrorCode.INVALID, _("监督小组成员须为人大代表。"), field="members"
        )
    with transaction.atomic():
        group = SupervisionGroup.objects.create(
            project=project, name=clean_text(name) or f"{project.title}监督小组", leader=leader
        )
        group.members.set({p.pk for p in people})
    return group


def visit_record(
    *,
    group: SupervisionGroup,
    actor: User | None,
    visited_on: date,
    summary: str,
    findings: Sequence[str] = (),
    now: datetime | None = None,
) -> Visit:
    """A supervision visit with its findings: each finding becomes a case for the lead
    unit (channel "project_finding", the generic loop) linked from the project's case."""
    project = group.project
    if actor is not None and not may_supervise(actor, project):
        raise ProjectError(ProjectErrorCode.FORBIDDEN)
    _check_delivery(project)
    if not clean_text(summary):
        raise ProjectError(ProjectErrorCode.MISSING, _("请填写视察情况。"), field="summary")
    now = now or timezone.now()
    lead = project.lead_unit
    with transaction.atomic():
        visit = Visit.objects.create(
            group=group,
            visited_on=visited_on,
            summary=clean_text(summary),
            created_by=actor,
            created_at=now,
        )
        for text in (clean_text(f) for f in findings):
            if not text:
                continue
            try:
                case = case_submit(
                    draft=CaseDraft(
                        channel=FINDING.code,
                        title=f"{project.title}：{text[:40]}",
                        body=text,
                        area=lead.area if lead else None,
                        owner_unit=lead,
                        submitter=actor,
                        source="projects",
                        data={"project": project.pk, "visit": visit.pk},
                    ),
                    now=now,
                )
            except CaseError as exc:
                raise ProjectError(ProjectErrorCode.CASE, exc.message, field="findings") from exc
            visit.findings.create(case=case)
            case_links_add(
                sources=[project.case],
                target=case,
                actor=actor,
                note=str(_("代表视察发现问题")),
                now=now,
            )
    return visit


# --------------------------------------------------------------------------- satisfaction


def evaluation_open(*, cycle: Cycle, actor: User | None) -> Cycle:
    """Open the year-end satisfaction vote of the deputies on the chosen projects."""
    if actor is not None:
        _check_office(actor)
    with transaction.atomic():
        cycle = _lock(cycle)
        _check_state(cycle, CycleState.DELIVERY, CycleState.PUBLISHED)
        deputies = list(deputies_current().values_list("pk", flat=True))
        if not deputies:
            raise ProjectError(ProjectErrorCode.STATE, _("没有可参加测评的人大代表。"))
        RollEntry.objects.bulk_create(
            [RollEntry(cycle=cycle, kind=BallotKind.SATISFACTION, user_id=pk) for pk in deputies]
        )
        _tell_deputies(cycle=cycle, kind=BallotKind.SATISFACTION, user_ids=deputies)
        cycle.state = CycleState.EVALUATING
        cycle.evaluation_roll_size = len(deputies)
        cycle.save(update_fields=["state", "evaluation_roll_size"])
    return cycle


def evaluation_close(*, cycle: Cycle, actor: User | None) -> Cycle:
    """Count the satisfaction ballots and publish 满意 / 基本满意 / 不满意 per project."""
    if actor is not None:
        _check_office(actor)
    with transaction.atomic():
        cycle = _lock(cycle)
        _check_state(cycle, CycleState.EVALUATING)
        _ballots_rewrite(cycle=cycle, kind=BallotKind.SATISFACTION)
        projects = list(chosen_projects(cycle=cycle))
        counts = {p.pk: dict.fromkeys(SATISFACTION_VALUES, 0) for p in projects}
        ballots = Ballot.objects.filter(cycle=cycle, kind=BallotKind.SATISFACTION)
        for choices in ballots.values_list("choices", flat=True):
            for pk, value in choices.items():
                if int(pk) in counts and value in SATISFACTION_VALUES:
                    counts[int(pk)][value] += 1
        for p in projects:
            p.satisfied = counts[p.pk]["satisfied"]
            p.basically = counts[p.pk]["basically"]
            p.unsatisfied = counts[p.pk]["unsatisfied"]
        Candidate.objects.bulk_update(projects, ["satisfied", "basically", "unsatisfied"])
        cycle.evaluation_voters_count = VoterRecord.objects.filter(
            cycle=cycle, kind=BallotKind.SATISFACTION
        ).count()
        cycle.state = CycleState.EVALUATED
        cycle.save(update_fields=["state", "evaluation_voters_count"])
    return cycle
