"""Why the 民意 channel refused something: an opinion, an SMS code on its pages, a
citizen's rating, a code (二维码) operation."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class OpinionErrorCode(StrEnum):
    MISSING = "missing"  # a required field is empty
    INVALID = "invalid"  # a field's value is wrong
    FORM_EXPIRED = "form_expired"  # the form's submission key is missing or not this phone's
    PHONE = "phone"  # not a mainland mobile number
    SMS_CODE = "sms_code"  # the SMS code is missing, wrong or expired
    FILE = "file"  # a photo or voice note that cannot be accepted
    RATE_LIMITED = "rate_limited"  # too many submissions or codes
    NOT_CLOSED = "not_closed"  # rated before it is closed
    ALREADY_RATED = "already_rated"
    MISMATCH = "mismatch"  # a case number and a phone that do not belong together
    CASE = "case"  # core refused the case itself
    REVOKE_REASON = "revoke_reason"  # a code revoked without a reason


MESSAGES = {
    OpinionErrorCode.MISSING: _("请填写必填项。"),
    OpinionErrorCode.INVALID: _("填写的内容有误。"),
    OpinionErrorCode.FORM_EXPIRED: _("表单已失效，请刷新页面后重新填写。"),
    OpinionErrorCode.PHONE: _("请输入正确的11位手机号码。"),
    OpinionErrorCode.SMS_CODE: _("请先获取并填写短信验证码。"),
    OpinionErrorCode.FILE: _("文件无法上传，请重新选择。"),
    OpinionErrorCode.RATE_LIMITED: _("提交过于频繁，请稍后再试。"),
    OpinionErrorCode.NOT_CLOSED: _("事项办结后才能评价。"),
    OpinionErrorCode.ALREADY_RATED: _("您已评价过此事项，谢谢。"),
    OpinionErrorCode.MISMATCH: _("编号与手机号不匹配。"),
    OpinionErrorCode.CASE: _("填写的内容有误。"),
    OpinionErrorCode.REVOKE_REASON: _("请填写作废原因"),
}

REFUSALS = {
    OpinionErrorCode.RATE_LIMITED: Refusal.RATE_LIMITED,
    OpinionErrorCode.NOT_CLOSED: Refusal.CONFLICT,
    OpinionErrorCode.ALREADY_RATED: Refusal.CONFLICT,
}


class OpinionError(DomainError):
    """A refusal of the 民意 channel: a sentence for the citizen (or clerk), the form
    field it concerns, and `retry_after` seconds for a limit."""

    codes = OpinionErrorCode
    messages = MESSAGES
    refusals = REFUSALS
