"""Why 民生实事 refused something: a proposal, a screening step, a vote, a receipt,
a progress report."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class ProjectErrorCode(StrEnum):
    MISSING = "missing"  # a required field is empty
    INVALID = "invalid"  # a field's value is wrong
    STATE = "state"  # the cycle (or project) is not at the step that allows it
    NOT_DEPUTY = "not_deputy"  # only deputies on the voter roll vote
    ALREADY_VOTED = "already_voted"
    FORBIDDEN = "forbidden"  # the user may not do this
    NOT_FOUND = "not_found"
    RECEIPT = "receipt"  # no ballot has this receipt
    RATE_LIMITED = "rate_limited"
    FILE = "file"  # a photo that cannot be accepted
    CASE = "case"  # core refused the case step


MESSAGES = {
    ProjectErrorCode.MISSING: _("请填写必填项。"),
    ProjectErrorCode.INVALID: _("填写的内容有误。"),
    ProjectErrorCode.STATE: _("当前阶段不能进行此操作。"),
    ProjectErrorCode.NOT_DEPUTY: _("只有列入本次票决名单的人大代表才能投票。"),
    ProjectErrorCode.ALREADY_VOTED: _("您已经投过票，不能重复投票。"),
    ProjectErrorCode.FORBIDDEN: _("您没有权限进行此操作。"),
    ProjectErrorCode.NOT_FOUND: _("找不到该项目。"),
    ProjectErrorCode.RECEIPT: _("没有找到与该回执码对应的选票，请核对回执码。"),
    ProjectErrorCode.RATE_LIMITED: _("提交过于频繁，请稍后再试。"),
    ProjectErrorCode.FILE: _("文件无法上传，请重新选择。"),
    ProjectErrorCode.CASE: _("填写的内容有误。"),
}

REFUSALS = {
    ProjectErrorCode.STATE: Refusal.CONFLICT,
    ProjectErrorCode.ALREADY_VOTED: Refusal.CONFLICT,
    ProjectErrorCode.NOT_DEPUTY: Refusal.FORBIDDEN,
    ProjectErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    ProjectErrorCode.NOT_FOUND: Refusal.NOT_FOUND,
    ProjectErrorCode.RECEIPT: Refusal.NOT_FOUND,
    ProjectErrorCode.RATE_LIMITED: Refusal.RATE_LIMITED,
}


class ProjectError(DomainError):
    """A refusal of 民生实事: a sentence for the person, the field it concerns."""

    codes = ProjectErrorCode
    messages = MESSAGES
    refusals = REFUSALS
