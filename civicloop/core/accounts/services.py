"""Writes about people: API keys for integrations, the citizen's SMS code, and the
per-account limit on staff password sign-in (see `accounts.login_limits`)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from datetime import datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.accounts.errors import AccountError, AccountErrorCode
from civicloop.core.accounts.models import ApiKey, SmsCode, User
from civicloop.core.accounts.roles import Role
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.core.ratelimit import RateLimit, RateLimitExceeded, rate_limits_hit
from civicloop.core.units.models import Membership
from civicloop.notify.phones import mainland_mobile

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "cl"
SMS_CODE_TTL = timedelta(minutes=5)
SMS_CODE_MAX_ATTEMPTS = 5
# How long a right code bound to a form (sms_code_bind) stays good for that form: a form
# refused for a bad photo can be sent again without a new code, never for a second record.
SMS_CODE_BOUND_TTL = timedelta(minutes=30)
# How often a phone may be sent a code, and from one client address; counted in the
# one rate limiter (`core.ratelimit`), where check and count are one atomic step.
SMS_CODE_RESEND_AFTER_SECONDS = 60
SMS_CODES_PER_PHONE_PER_DAY = 10
SMS_CODES_PER_IP_PER_HOUR = 20


def _hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_key_create(*, name: str, can_read_full_records: bool = False) -> tuple[ApiKey, str]:
    """Create a key; returns it and the raw key, which is not stored and shown only once.
    `can_read_full_records`: the key reads whole records through Open311 (logged)."""
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        key_hash=_hash_secret(raw),
        can_read_full_records=can_read_full_records,
    )
    return key, raw


def api_key_authenticate(*, raw: str | None) -> ApiKey | None:
    """The active key matching `raw`, or None. Constant-time comparison of the hash."""
    if not raw:
        return None
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = ApiKey.objects.filter(prefix=parts[1], is_active=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _hash_secret(raw.strip())):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def _code_hash(phone_digest: str, code: str) -> str:
    return hashlib.sha256(f"{phone_digest}:{code}".encode()).hexdigest()


def check_mainland_mobile(phone: str) -> str:
    """The 11-digit mainland mobile number `phone` spells (the platform's one rule,
    `notify.phones.mainland_mobile`); AccountError when it is not one."""
    number = mainland_mobile(phone)
    if number is None:
        raise AccountError(AccountErrorCode.INVALID_PHONE, field="phone")
    return number


def _check_sms_code_limits(*, phone_digest: str, ip: str | None) -> None:
    """Count one code against every limit, all or none (AccountError on the first that
    is full). Counting is the check, so concurrent requests cannot all slip through."""
    limits = [
        RateLimit("sms-code-resend", phone_digest, 1, SMS_CODE_RESEND_AFTER_SECONDS),
        RateLimit("sms-code-phone", phone_digest, SMS_CODES_PER_PHONE_PER_DAY, 24 * 3600),
    ]
    if ip:
        limits.append(RateLimit("sms-code-ip", ip, SMS_CODES_PER_IP_PER_HOUR, 3600))
    try:
        rate_limits_hit(limits)
    except RateLimitExceeded as exc:
        code = {
            "sms-code-resend": AccountErrorCode.RESEND_TOO_SOON,
            "sms-code-phone": AccountErrorCode.PHONE_DAILY_LIMIT,
        }.get(exc.scope, AccountErrorCode.RATE_LIMITED)
        raise AccountError(
            code, field="phone", retry_after=exc.retry_after, wait=exc.retry_after
        ) from None


def sms_code_issue(*, phone: str, ip: str | None, purpose: str = "verify") -> tuple[str, str]:
    """Create a 6-digit code for the phone, within the rate limits (one a minute, ten a
    day per phone, twenty an hour per client address). Returns (phone, code); the caller
    sends the code through the outbox in the same transaction."""
    phone = check_mainland_mobile(phone)
    digest = lookup_digest(phone)
    now = timezone.now()
    _check_sms_code_limits(phone_digest=digest, ip=ip)
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        phone_digest=digest,
        code_hash=_code_hash(digest, code),
        purpose=purpose,
        expires_at=now + SMS_CODE_TTL,
        ip=ip,
    )
    return phone, code


def sms_code_verify(*, phone: str, code: str, purpose: str = "verify") -> str:
    """Accept the newest unexpired code for the phone once; returns the clean phone.
    Each wrong try counts; after five the code is dead."""
    return _sms_code_accept(phone=phone, code=code, purpose=purpose, bind="")


def sms_code_bind(*, phone: str, code: str, purpose: str, bind: str) -> str:
    """Check the code like sms_code_verify (a wrong try counts and commits, whatever the
    caller does next) but do not use it up: bind it to `bind` (a form's submission key),
    for sms_code_consume to use up in the transaction that stores what the form sent.
    Returns the clean phone; raises AccountError."""
    if not bind:
        raise ValueError("sms_code_bind needs the key of the form it binds the code to")
    return _sms_code_accept(phone=phone, code=code, purpose=purpose, bind=bind)


def sms_code_consume(*, phone: str, purpose: str, bind: str, now: datetime | None = None) -> None:
    """Use up the code bound to `bind` for this phone (sms_code_bind), within the caller's
    transaction: if that transaction rolls back (a refused file, a crash) the code stays
    good for the same form. A bound code stays good for SMS_CODE_BOUND_TTL after it was
    checked. Raises AccountError (CODE_EXPIRED) when no unused code is bound to `bind`,
    e.g. when a concurrent request of the same form used it first."""
    now = now or timezone.now()
    used = SmsCode.objects.filter(
        phone_digest=lookup_digest(check_mainland_mobile(phone)),
        purpose=purpose,
        bound_to=bind,
        used_at__isnull=True,
        verified_at__gt=now - SMS_CODE_BOUND_TTL,
    ).update(used_at=now)
    if not used:
        raise AccountError(AccountErrorCode.CODE_EXPIRED, field="code")


def _sms_code_accept(*, phone: str, code: str, purpose: str, bind: str) -> str:
    """Check the newest unexpired code for the phone: use it up now (no `bind`) or bind
    it to `bind`. A wrong try is counted in its own committed transaction."""
    phone = check_mainland_mobile(phone)
    digest = lookup_digest(phone)
    now = timezone.now()
    refusal: AccountError | None = None
    with transaction.atomic():
        row = (
            SmsCode.objects.select_for_update()
            .filter(phone_digest=digest, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            refusal = AccountError(AccountErrorCode.CODE_EXPIRED, field="code")
        elif row.attempts >= SMS_CODE_MAX_ATTEMPTS:
            refusal = AccountError(AccountErrorCode.CODE_LOCKED, field="code")
        elif not hmac.compare_digest(row.code_hash, _code_hash(digest, code.strip())):
            # The failed try must be counted, so it commits before the refusal is raised.
            SmsCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
            refusal = AccountError(AccountErrorCode.CODE_WRONG, field="code")
        elif bind:
            SmsCode.objects.filter(pk=row.pk).update(bound_to=bind, verified_at=now)
        else:
            SmsCode.objects.filter(pk=row.pk).update(used_at=now)
    if refusal is not None:
        raise refusal
    return phone


def citizen_for_phone(*, phone: str) -> User:
    """The citizen account for a verified phone, created on first use."""
    digest = lookup_digest(phone)
    user = User.objects.filter(phone_digest=digest, is_citizen=True).first()
    if user is None:
        user = User(username=f"citizen-{digest[:16]}", is_citizen=True, phone=phone)
        user.set_unusable_password()
        user.save()
    return user


def sms_code_send(*, phone: str, ip: str | None, purpose: str = "verify") -> str:
    """Issue a code within the limits of sms_code_issue and write its SMS (template
    verify_code) to the outbox in the same transaction, so a code exists only if its
    message will go out. Returns the clean phone; raises AccountError."""
    with transaction.atomic():
        clean, code = sms_code_issue(phone=phone, ip=ip, purpose=purpose)
        outbox_enqueue_many(
            drafts=[
                OutboxDraft(
                    "sms",
                    {"phone": clean, "template": "verify_code", "params": {"code": code}},
                    # One message per issued code; the key holds no code.
                    f"sms-code:{uuid4().hex}",
                )
            ]
        )
    return clean


# --------------------------------------------------------------------------- sign-in limit

# The first wait once an account is slowed down; each further failure doubles it.
ACCOUNT_LOGIN_FIRST_WAIT_SECONDS = 30


def account_login_wait(*, failures: int) -> int:
    """Seconds to wait after the last failure before the next try, after `failures`
    failures in a row: none below settings.ACCOUNT_LOGIN_SLOW_AFTER, then 30 s doubling
    with each failure up to settings.ACCOUNT_LOGIN_MAX_WAIT."""
    slow_after = int(settings.ACCOUNT_LOGIN_SLOW_AFTER)
    if failures < slow_after:
        return 0
    doublings = min(failures - slow_after, 32)
    return min(
        ACCOUNT_LOGIN_FIRST_WAIT_SECONDS * 2**doublings, int(settings.ACCOUNT_LOGIN_MAX_WAIT)
    )


def account_login_attempt(*, user: User, now: datetime | None = None) -> None:
    """Count one password try against the account before the password is checked
    (a success then resets the count: account_login_succeeded). Raises AccountError:
    LOGIN_LOCKED when the account is locked, or is locked now because it reached
    settings.ACCOUNT_LOGIN_LOCK_AFTER failures in a row; LOGIN_WAIT (retry_after) while
    the wait after the last failure runs. A refused try is not counted, and counting is
    one conditional update, so parallel tries cannot slip through one opening."""
    now = now or timezone.now()
    current = User.objects.filter(pk=user.pk).values(
        "login_failures", "login_failed_at", "login_locked_at"
    )[0]
    failures = current["login_failures"]
    if current["login_locked_at"] is not None:
        raise AccountError(AccountErrorCode.LOGIN_LOCKED)
    if failures >= int(settings.ACCOUNT_LOGIN_LOCK_AFTER):
        User.objects.filter(pk=user.pk, login_locked_at__isnull=True).update(login_locked_at=now)
        logger.warning("sign-in locked for user %s after %d failures", user.pk, failures)
        raise AccountError(AccountErrorCode.LOGIN_LOCKED)
    wait = account_login_wait(failures=failures)
    last = current["login_failed_at"]
    if wait and last is not None and now < last + timedelta(seconds=wait):
        left = math.ceil((last + timedelta(seconds=wait) - now).total_seconds())
        raise AccountError(AccountErrorCode.LOGIN_WAIT, retry_after=left, wait=left)
    counted = User.objects.filter(
        pk=user.pk, login_failures=failures, login_locked_at__isnull=True
    ).update(login_failures=failures + 1, login_failed_at=now)
    if not counted:  # another try took this opening
        wait = max(account_login_wait(failures=failures + 1), 1)
        raise AccountError(AccountErrorCode.LOGIN_WAIT, retry_after=wait, wait=wait)


def account_login_succeeded(*, user: User) -> None:
    """The password was right: the failures in a row start again from none."""
    User.objects.filter(pk=user.pk).exclude(login_failures=0).update(
        login_failures=0, login_failed_at=None
    )


def check_account_unlock_allowed(*, user: User, actor: User) -> None:
    """AccountError (UNLOCK_FORBIDDEN) unless `actor` may lift `user`'s sign-in lock:
    an admin (superuser or the admin role), or a leader of a unit `user` works in."""
    if actor.is_superuser or Membership.objects.filter(user=actor, role=Role.ADMIN).exists():
        return
    led = Membership.objects.filter(user=actor, role=Role.UNIT_LEADER).values("unit_id")
    if actor.pk != user.pk and Membership.objects.filter(user=user, unit_id__in=led).exists():
        return
    raise AccountError(AccountErrorCode.UNLOCK_FORBIDDEN)


def account_login_unlock(*, user: User, actor: User) -> None:
    """Lift `user`'s sign-in lock and clear the failures in a row, when `actor` may
    (check_account_unlock_allowed); logged with who lifted it."""
    check_account_unlock_allowed(user=user, actor=actor)
    User.objects.filter(pk=user.pk).update(
        login_failures=0, login_failed_at=None, login_locked_at=None
    )
    logger.warning("sign-in lock of user %s lifted by user %s", user.pk, actor.pk)
