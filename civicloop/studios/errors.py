"""The refusals of the studios module: one error base, its codes and messages."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class StudioErrorCode(StrEnum):
    MISSING = "missing"
    STUDIO = "studio"  # no such studio
    STUDIO_INVALID = "studio_invalid"  # a submission names no active studio
    NOT_PARTY = "not_party"  # not the citizen, the member or the studio's head
    FORBIDDEN = "forbidden"
    STATE = "state"
    TOO_LONG = "too_long"  # a report over the length limit (with the count)
    LEVEL = "level"  # an adoption level unknown or recorded already
    SPARSE = "sparse"  # a vote matrix too small or sparse to group
    STATEMENT_LONG = "statement_long"
    MEMBER = "member"  # no active member of this studio
    RULES = "rules"  # a points table or quota that is no whole number in range


MESSAGES = {
    StudioErrorCode.MISSING: _("请填写必填项。"),
    StudioErrorCode.STUDIO: _("没有这个委员工作室。"),
    StudioErrorCode.STUDIO_INVALID: _("请填写有效的委员工作室编号（见 /api/v1/studios）。"),
    StudioErrorCode.NOT_PARTY: _("只有协商双方可以在此留言。"),
    StudioErrorCode.FORBIDDEN: _("您无权进行此操作。"),
    StudioErrorCode.STATE: _("当前状态不允许此操作。"),
    StudioErrorCode.TOO_LONG: _("社情民意信息不超过%(limit)s字，当前%(count)s字。"),
    StudioErrorCode.LEVEL: _("该层级的采用已经记录过或不存在。"),
    StudioErrorCode.SPARSE: _(
        "投票数据太少或太稀疏（至少7人、3条观点、两成以上的表态），无法可靠地分组。"
    ),
    StudioErrorCode.STATEMENT_LONG: _("观点不超过%(limit)s字，当前%(count)s字。"),
    StudioErrorCode.MEMBER: _("只能选择本工作室在任的委员。"),
    StudioErrorCode.RULES: _("“%(label)s”应为0到%(limit)s之间的整数。"),
}

REFUSALS = {
    StudioErrorCode.STUDIO: Refusal.NOT_FOUND,
    StudioErrorCode.NOT_PARTY: Refusal.FORBIDDEN,
    StudioErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    StudioErrorCode.STATE: Refusal.CONFLICT,
    StudioErrorCode.LEVEL: Refusal.CONFLICT,
}


class StudioError(DomainError):
    """A refusal of the 政协委员工作室 module."""

    codes = StudioErrorCode
    messages = MESSAGES
    refusals = REFUSALS
