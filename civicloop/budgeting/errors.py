"""Why 参与式预算 refused something: a process step, a proposal, a frame import, a panel
draw, a questionnaire answer. One base (`BudgetError`) for the whole domain; the ballot
and congress part adds its codes in `ballot_errors.BallotError`, a subclass."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal, Text


class BudgetErrorCode(StrEnum):
    MISSING = "budget_missing"  # a required field is empty
    INVALID = "budget_invalid"  # a field's value is wrong
    PHASE = "budget_phase"  # the process is not in the phase that allows it
    FORBIDDEN = "budget_forbidden"  # the user may not do this
    NOT_FOUND = "budget_process_not_found"  # no such process, project, member
    FRAME = "budget_frame"  # a sampling frame file with bad lines (all refused)
    QUOTA = "budget_quota"  # quotas that no panel of this size can meet
    DRAW = "budget_draw"  # a draw that cannot be made (no frame, seed reused, no reason)
    TICKET = "budget_ticket"  # a panel member's link that is not (or no longer) valid
    ANSWERED = "budget_answered"  # a questionnaire already answered
    RATE_LIMITED = "budget_rate_limited"


MESSAGES = {
    BudgetErrorCode.MISSING: _("请填写必填项。"),
    BudgetErrorCode.INVALID: _("填写的内容有误。"),
    BudgetErrorCode.PHASE: _("参与式预算当前阶段不能进行此操作。"),
    BudgetErrorCode.FORBIDDEN: _("您没有权限进行此操作。"),
    BudgetErrorCode.NOT_FOUND: _("找不到该参与式预算流程。"),
    BudgetErrorCode.FRAME: _("抽样框文件有错误，未导入任何一行。"),
    BudgetErrorCode.QUOTA: _("配额无法满足。"),
    BudgetErrorCode.DRAW: _("无法抽样。"),
    BudgetErrorCode.TICKET: _("代表链接无效或已过期。"),
    BudgetErrorCode.ANSWERED: _("您已经填写过这份问卷。"),
    BudgetErrorCode.RATE_LIMITED: _("提交过于频繁，请稍后再试。"),
}

REFUSALS = {
    BudgetErrorCode.PHASE: Refusal.CONFLICT,
    BudgetErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    BudgetErrorCode.NOT_FOUND: Refusal.NOT_FOUND,
    BudgetErrorCode.QUOTA: Refusal.UNPROCESSABLE,
    BudgetErrorCode.DRAW: Refusal.CONFLICT,
    BudgetErrorCode.TICKET: Refusal.NOT_FOUND,
    BudgetErrorCode.ANSWERED: Refusal.CONFLICT,
    BudgetErrorCode.RATE_LIMITED: Refusal.RATE_LIMITED,
}


class BudgetError(DomainError):
    """A refusal of 参与式预算: a sentence for the person, the field it concerns."""

    # Typed as the base's, so the ballot part's subclass may set its own enum.
    codes: ClassVar[type[StrEnum]] = BudgetErrorCode
    messages: ClassVar[Mapping[Any, Text]] = MESSAGES
    refusals: ClassVar[Mapping[Any, Refusal]] = REFUSALS
