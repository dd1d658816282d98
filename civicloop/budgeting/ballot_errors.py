"""Why a ballot, an outcome or a congress step was refused (helper B's part of the budgeting
domain; a subclass of the domain's base so ``except BudgetError`` catches these too)."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.budgeting.errors import BudgetError
from civicloop.core.errors import Refusal


class BallotErrorCode(StrEnum):
    RULES = (
        "ballot_rules"  # a ballot breaks the rules of its vote (too many, over points, over budget)
    )
    UNKNOWN_RULE = "unknown_rule"  # an outcome rule that does not exist
    ALREADY_VOTED = "already_voted"  # one voter, one ballot
    CLOSED = "ballot_closed"  # the vote is not open
    NOT_VERIFIED = "not_verified"  # no valid SMS code or panel ticket
    FORBIDDEN = "ballot_forbidden"  # not this person's step
    MOTION = "motion"  # a budget amendment motion not in a state that allows it
    SIGNATURES = "signatures"  # a motion without the required number of deputies' signatures
    INVALID = "ballot_invalid"  # a field's value is wrong
    NOT_FOUND = "budget_not_found"  # no such process (or ballot), or not yet public


MESSAGES = {
    BallotErrorCode.RULES: _("选票不符合投票规则。"),
    BallotErrorCode.UNKNOWN_RULE: _("未知的计票规则。"),
    BallotErrorCode.ALREADY_VOTED: _("您已经投过票了，每人只能投一次。"),
    BallotErrorCode.CLOSED: _("投票未开放。"),
    BallotErrorCode.NOT_VERIFIED: _("身份未验证：请输入短信验证码或抽选代表凭证。"),
    BallotErrorCode.FORBIDDEN: _("您无权进行此操作。"),
    BallotErrorCode.MOTION: _("预算修正议案当前的状态不允许此操作。"),
    BallotErrorCode.SIGNATURES: _("预算修正议案联名代表人数不足。"),
    BallotErrorCode.INVALID: _("填写的内容有误。"),
    BallotErrorCode.NOT_FOUND: _("未找到该预算流程或其投票。"),
}


class BallotError(BudgetError):
    codes = BallotErrorCode
    messages = MESSAGES
    refusals = {
        BallotErrorCode.UNKNOWN_RULE: Refusal.INVALID,
        BallotErrorCode.ALREADY_VOTED: Refusal.CONFLICT,
        BallotErrorCode.CLOSED: Refusal.CONFLICT,
        BallotErrorCode.NOT_VERIFIED: Refusal.UNAUTHORIZED,
        BallotErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
        BallotErrorCode.MOTION: Refusal.CONFLICT,
        BallotErrorCode.SIGNATURES: Refusal.UNPROCESSABLE,
        BallotErrorCode.RULES: Refusal.UNPROCESSABLE,
        BallotErrorCode.NOT_FOUND: Refusal.NOT_FOUND,
    }
