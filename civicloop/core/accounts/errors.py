"""Why a citizen's SMS code was not sent or not accepted; why a staff password sign-in
was refused by the account's own limit, or its lock not lifted."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from civicloop.core.errors import DomainError, Refusal


class AccountErrorCode(StrEnum):
    INVALID_PHONE = "invalid_phone"
    RESEND_TOO_SOON = "resend_too_soon"
    PHONE_DAILY_LIMIT = "phone_daily_limit"
    RATE_LIMITED = "rate_limited"
    CODE_EXPIRED = "code_expired"
    CODE_LOCKED = "code_locked"
    CODE_WRONG = "code_wrong"
    LOGIN_WAIT = "login_wait"  # too many failed sign-ins to the account: wait
    LOGIN_LOCKED = "login_locked"  # the account is locked until someone unlocks it
    UNLOCK_FORBIDDEN = "unlock_forbidden"  # only an admin or the unit leader unlocks


MESSAGES = {
    AccountErrorCode.INVALID_PHONE: _("请输入正确的11位手机号码。"),
    AccountErrorCode.RESEND_TOO_SOON: _("验证码已发送，请 %(wait)s 秒后再试。"),
    AccountErrorCode.PHONE_DAILY_LIMIT: _("该号码今日获取验证码次数过多，请明天再试。"),
    AccountErrorCode.RATE_LIMITED: _("请求过于频繁，请稍后再试。"),
    AccountErrorCode.CODE_EXPIRED: _("验证码已过期或未获取，请重新获取。"),
    AccountErrorCode.CODE_LOCKED: _("验证码错误次数过多，请重新获取。"),
    AccountErrorCode.CODE_WRONG: _("验证码不正确。"),
    AccountErrorCode.LOGIN_WAIT: _("该账号密码错误次数过多，请 %(wait)s 秒后再试。"),
    AccountErrorCode.LOGIN_LOCKED: _(
        "该账号因密码错误次数过多已锁定，请联系管理员或本单位负责人解锁。"
    ),
    AccountErrorCode.UNLOCK_FORBIDDEN: _("只有管理员或该人员所在单位的负责人可以解锁。"),
}

REFUSALS = {
    AccountErrorCode.RESEND_TOO_SOON: Refusal.RATE_LIMITED,
    AccountErrorCode.PHONE_DAILY_LIMIT: Refusal.RATE_LIMITED,
    AccountErrorCode.RATE_LIMITED: Refusal.RATE_LIMITED,
    AccountErrorCode.LOGIN_WAIT: Refusal.RATE_LIMITED,
    AccountErrorCode.LOGIN_LOCKED: Refusal.FORBIDDEN,
    AccountErrorCode.UNLOCK_FORBIDDEN: Refusal.FORBIDDEN,
}


class AccountError(DomainError):
    """A refused SMS code: not sent (a bad number, a limit; then `retry_after` seconds) or
    not accepted (expired, wrong, too many tries)."""

    codes = AccountErrorCode
    messages = MESSAGES
    refusals = REFUSALS
