"""Why a case operation was refused. Messages are shown to users, so they are translated."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class CaseErrorCode(StrEnum):
    UNKNOWN_ACTION = "unknown_action"
    INVALID_STATE = "invalid_state"
    FORBIDDEN = "forbidden"
    MISSING = "missing"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    # The platform cannot compute a deadline: an administrator must act (e.g. enter the
    # next year's public holidays). Not the user's fault; shown as such.
    CALENDAR = "calendar"


MESSAGES = {
    CaseErrorCode.UNKNOWN_ACTION: _("没有这个操作。"),
    CaseErrorCode.INVALID_STATE: _("事项当前状态下不能执行此操作，请刷新后重试。"),
    CaseErrorCode.FORBIDDEN: _("您没有权限执行此操作。"),
    CaseErrorCode.MISSING: _("请填写必填项。"),
    CaseErrorCode.INVALID: _("填写的内容有误。"),
    CaseErrorCode.DUPLICATE: _("重复提交。"),
    CaseErrorCode.CALENDAR: _("暂时无法计算办理期限，系统管理员已收到通知，请稍后再试。"),
}


REFUSALS = {
    CaseErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    CaseErrorCode.INVALID_STATE: Refusal.CONFLICT,
    CaseErrorCode.DUPLICATE: Refusal.CONFLICT,
    CaseErrorCode.CALENDAR: Refusal.UNAVAILABLE,
}


class CaseError(DomainError):
    """A refused case operation: `code` for programs, `message` for people."""

    codes = CaseErrorCode
    messages = MESSAGES
    refusals = REFUSALS
