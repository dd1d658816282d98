"""The budget in the town's people's congress (新河 model): services.

draft published → motions signed by deputies → tabled → debated and voted → revised budget
reissued (adopted motions applied) → execution reviewed per line by the 财经小组.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from civicloop.budgeting.ballot_errors import BallotError, BallotErrorCode
from civicloop.budgeting.congress_models import (
    BUDGET_MOTION_MIN_SIGNERS,
    AmendmentMotion,
    BudgetDraft,
    BudgetLine,
    ExecutionReview,
    MotionSignature,
)
from civicloop.budgeting.models import BudgetProcess
from civicloop.core.units.selectors import user_standing

DEPUTY_ROLE = "deputy"  # core role code of a people's deputy (declared by the modules that need it)


def is_deputy(user: Any) -> bool:
    standing = user_standing(user)
    return any(DEPUTY_ROLE in roles for roles in standing.unit_roles.values())


def _deputy_check(user: Any) -> None:
    if not is_deputy(user):
        raise BallotError(BallotErrorCode.FORBIDDEN, _("只有人大代表可以提出或联名预算修正议案。"))


def draft_publish(
    *, process: BudgetProcess, lines: Sequence[tuple[str, str, int]], note: str = ""
) -> BudgetDraft:
    """Publish the government's draft budget (version 1) with its lines (code, title, amount in yuan)."""
    if process.drafts.exists():
        raise BallotError(BallotErrorCode.MOTION, _("预算草案已经发布。"))
    if not lines:
        raise BallotError(BallotErrorCode.INVALID, _("预算草案至少要有一个科目。"))
    with transaction.atomic():
        draft = BudgetDraft.objects.create(
            process=process,
            version=1,
            kind=BudgetDraft.Kind.DRAFT,
            note=note,
            published_at=timezone.now(),
        )
        BudgetLine.objects.bulk_create(
            [
                BudgetLine(draft=draft, code=code, title=title, amount=amount)
                for code, title, amount in lines
            ]
        )
    return draft


def motion_draft(
    *, line: BudgetLine, proposer: Any, title: str, delta: int, reason: str
) -> AmendmentMotion:
    """A deputy's budget amendment motion on one line of the current draft; the proposer signs first."""
    _deputy_check(proposer)
    if delta == 0:
        raise BallotError(BallotErrorCode.INVALID, _("调整金额不能为零。"), field="delta")
    if line.amount + delta < 0:
        raise BallotError(BallotErrorCode.INVALID, _("核减后金额不能为负。"), field="delta")
    if not reason.strip():
        raise BallotError(BallotErrorCode.INVALID, _("请写明修正理由。"), field="reason")
    with transaction.atomic():
        motion = AmendmentMotion.objects.create(
            process=line.draft.process,
            line=line,
            title=title,
            delta=delta,
            reason=reason,
            proposer=proposer,
        )
        MotionSignature.objects.create(motion=motion, deputy=proposer)
    return motion


def motion_sign(*, motion: AmendmentMotion, deputy: Any) -> MotionSignature:
    """A deputy co-signs a motion that is still collecting signatures; once only."""
    _deputy_check(deputy)
    if motion.state != AmendmentMotion.State.SIGNING:
        raise BallotError(BallotErrorCode.MOTION)
    try:
        with transaction.atomic():
            return MotionSignature.objects.create(motion=motion, deputy=deputy)
    except IntegrityError:
        raise BallotError(BallotErrorCode.MOTION, _("您已联名该议案。")) from None


def motion_table(*, motion: AmendmentMotion) -> AmendmentMotion:
    """Submit the motion to the session: needs ``BUDGET_MOTION_MIN_SIGNERS`` deputies' signatures."""
    if motion.state != AmendmentMotion.State.SIGNING:
        raise BallotError(BallotErrorCode.MOTION)
    signed = motion.signatures.count()
    if signed < BUDGET_MOTION_MIN_SIGNERS:
        raise BallotError(
            BallotErrorCode.SIGNATURES,
            _("联名代表 %(n)d 人，不足 %(min)d 人。")
            % {"n": signed, "min": BUDGET_MOTION_MIN_SIGNERS},
        )
    motion.state = AmendmentMotion.State.TABLED
    motion.save(update_fields=["state"])
    return motion


def motion_vote_record(
    *,
    motion: AmendmentMotion,
    votes_for: int,
    votes_against: int,
    votes_abstain: int,
    debate_note: str,
    present: int,
) -> AmendmentMotion:
    """Record the debate and the vote; adopted with more than half of the deputies present
    voting for (地方组织法: decisions by a majority of all deputies present are the usual rule for
    town congresses)."""
    if motion.state != AmendmentMotion.State.TABLED:
        raise BallotError(BallotErrorCode.MOTION)
    if (
        min(votes_for, votes_against, votes_abstain) < 0
        or votes_for + votes_against + votes_abstain > present
    ):
        raise BallotError(BallotErrorCode.INVALID, _("票数之和不能超过出席代表人数。"))
    motion.votes_for, motion.votes_against, motion.votes_abstain = (
        votes_for,
        votes_against,
        votes_abstain,
    )
    motion.debate_note = debate_note
    motion.state = (
        AmendmentMotion.State.ADOPTED if votes_for * 2 > present else AmendmentMotion.State.REJECTED
    )
    motion.decided_at = timezone.now()
    motion.save()
    return motion


def budget_revise(*, process: BudgetProcess, note: str = "") -> BudgetDraft:
    """Reissue the budget: a new version whose lines are the latest draft's with every adopted
    motion applied. Motions still pending block it, so nothing is silently left out."""
    latest = process.drafts.order_by("-version").first()
    if latest is None:
        raise BallotError(BallotErrorCode.MOTION, _("还没有预算草案。"))
    pending = process.motions.filter(
        state__in=[AmendmentMotion.State.SIGNING, AmendmentMotion.State.TABLED], line__draft=latest
    )
    if pending.filter(state=AmendmentMotion.State.TABLED).exists():
        raise BallotError(BallotErrorCode.MOTION, _("还有已提交的议案未表决。"))
    adopted = {
        m.line_id: m.delta
        for m in process.motions.filter(state=AmendmentMotion.State.ADOPTED, line__draft=latest)
    }
    with transaction.atomic():
        version = (process.drafts.aggregate(v=Max("version"))["v"] or 0) + 1
        revised = BudgetDraft.objects.create(
            process=process,
            version=version,
            kind=BudgetDraft.Kind.REVISED,
            note=note,
            published_at=timezone.now(),
        )
        BudgetLine.objects.bulk_create(
            [
                BudgetLine(
                    draft=revised,
                    code=line.code,
                    title=line.title,
                    amount=line.amount + adopted.get(line.pk, 0),
                    project=line.project,
                )
                for line in latest.lines.all()
            ]
        )
    return revised


def execution_review(
    *, line: BudgetLine, reviewer: Any, reviewed_on: date, spent: int, progress: int, finding: str
) -> ExecutionReview:
    """The 财经小组's review of one line of the adopted budget between sessions."""
    if not 0 <= progress <= 100:
        raise BallotError(BallotErrorCode.INVALID, _("进度应在 0–100 之间。"), field="progress")
    if spent < 0:
        raise BallotError(BallotErrorCode.INVALID, _("支出不能为负。"), field="spent")
    return ExecutionReview.objects.create(
        line=line,
        reviewer=reviewer,
        reviewed_on=reviewed_on,
        spent=spent,
        progress=progress,
        finding=finding,
    )
