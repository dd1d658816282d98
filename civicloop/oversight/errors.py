"""Why 督政议事 refused something: a topic, a meeting, a question, a vote, minutes."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class OversightErrorCode(StrEnum):
    MISSING = "missing"  # a required field is empty
    INVALID = "invalid"  # a field's value is wrong
    FORBIDDEN = "forbidden"  # the user may not do this
    NOT_FOUND = "not_found"
    WRONG_STATE = "wrong_state"  # the topic or meeting is not in a state that allows it
    NOT_PARTICIPANT = "not_participant"  # a deputy or department not at the meeting
    ALREADY_VOTED = "already_voted"
    NOT_ANSWERED = "not_answered"  # a vote or close before the answers are in
    NO_VOTES = "no_votes"  # a vote closed with a department nobody rated
    FILE = "file"  # a minutes file that cannot be accepted
    CASE = "case"  # core refused the case itself


MESSAGES = {
    OversightErrorCode.MISSING: _("请填写必填项。"),
    OversightErrorCode.INVALID: _("填写的内容有误。"),
    OversightErrorCode.FORBIDDEN: _("您没有权限进行此操作。"),
    OversightErrorCode.NOT_FOUND: _("没有找到该记录。"),
    OversightErrorCode.WRONG_STATE: _("当前状态下不能进行此操作。"),
    OversightErrorCode.NOT_PARTICIPANT: _("只有参加本次会议的代表和部门才能进行此操作。"),
    OversightErrorCode.ALREADY_VOTED: _("您已对该部门的答复进行过测评，不能重复测评。"),
    OversightErrorCode.NOT_ANSWERED: _("该部门的问题尚未全部答复。"),
    OversightErrorCode.NO_VOTES: _("有部门的答复还没有代表测评。"),
    OversightErrorCode.FILE: _("文件无法上传，请重新选择。"),
    OversightErrorCode.CASE: _("填写的内容有误。"),
}

REFUSALS = {
    OversightErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    OversightErrorCode.NOT_PARTICIPANT: Refusal.FORBIDDEN,
    OversightErrorCode.NOT_FOUND: Refusal.NOT_FOUND,
    OversightErrorCode.WRONG_STATE: Refusal.CONFLICT,
    OversightErrorCode.ALREADY_VOTED: Refusal.CONFLICT,
    OversightErrorCode.NOT_ANSWERED: Refusal.CONFLICT,
    OversightErrorCode.NO_VOTES: Refusal.CONFLICT,
}


class OversightError(DomainError):
    """A refusal of 督政议事: a sentence for the staff member, deputy or department, and
    the form field it concerns."""

    codes = OversightErrorCode
    messages = MESSAGES
    refusals = REFUSALS
