"""Why the 代表建议 module refused something: a draft, a co-signature, a review, an
assignment, an answer, an evaluation."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class SuggestionErrorCode(StrEnum):
    MISSING = "missing"  # a required field is empty
    INVALID = "invalid"  # a field's value is wrong
    NOT_DEPUTY = "not_deputy"  # only a deputy may draft, co-sign or evaluate
    FORBIDDEN = "forbidden"  # not this person's step
    STATE = "state"  # not in a state that allows it
    COSIGNERS_PENDING = "cosigners_pending"  # submitted before every co-signer answered
    NO_LEAD = "no_lead"  # assigned without a lead unit
    UNIT_TWICE = "unit_twice"  # a unit both lead and assisting, or twice
    NO_CATEGORY = "no_category"  # answered without a category A/B/C
    NO_CONTACT = "no_contact"  # answered before contacting the deputy
    VIEWS_PENDING = "views_pending"  # answered before the assisting units' views came
    ALREADY = "already"  # done once already (a co-signature, views, an evaluation)
    OPINION = "opinion"  # an opinion the deputy may not see, or unknown
    CASE = "case"  # core refused the case step itself


MESSAGES = {
    SuggestionErrorCode.MISSING: _("请填写必填项。"),
    SuggestionErrorCode.INVALID: _("填写的内容有误。"),
    SuggestionErrorCode.NOT_DEPUTY: _("只有人大代表可以进行此操作。"),
    SuggestionErrorCode.FORBIDDEN: _("您无权进行此操作。"),
    SuggestionErrorCode.STATE: _("建议当前的状态不允许此操作。"),
    SuggestionErrorCode.COSIGNERS_PENDING: _("还有附议代表尚未确认，请等待确认或移除后再提交。"),
    SuggestionErrorCode.NO_LEAD: _("交办时必须指定一个主办单位。"),
    SuggestionErrorCode.UNIT_TWICE: _("同一单位不能重复交办（主办单位不能同时作为协办单位）。"),
    SuggestionErrorCode.NO_CATEGORY: _("书面答复必须选择答复类别（A/B/C）。"),
    SuggestionErrorCode.NO_CONTACT: _("答复前请先与领衔代表沟通并记录沟通情况。"),
    SuggestionErrorCode.VIEWS_PENDING: _("还有协办单位未提交协办意见，暂不能答复。"),
    SuggestionErrorCode.ALREADY: _("已经办理过，不能重复提交。"),
    SuggestionErrorCode.OPINION: _("所选民意事项不存在或您无权查看。"),
    SuggestionErrorCode.CASE: _("填写的内容有误。"),
}

REFUSALS = {
    SuggestionErrorCode.NOT_DEPUTY: Refusal.FORBIDDEN,
    SuggestionErrorCode.FORBIDDEN: Refusal.FORBIDDEN,
    SuggestionErrorCode.STATE: Refusal.CONFLICT,
    SuggestionErrorCode.COSIGNERS_PENDING: Refusal.CONFLICT,
    SuggestionErrorCode.VIEWS_PENDING: Refusal.CONFLICT,
    SuggestionErrorCode.NO_CONTACT: Refusal.CONFLICT,
    SuggestionErrorCode.ALREADY: Refusal.CONFLICT,
}


class SuggestionError(DomainError):
    """A refusal of the 代表建议 module: a sentence for the deputy or clerk, and the form
    field it concerns."""

    codes = SuggestionErrorCode
    messages = MESSAGES
    refusals = REFUSALS
