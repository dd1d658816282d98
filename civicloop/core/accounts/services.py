"""Writes about people: API keys for integrations, and the citizen's SMS code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from uuid import uuid4

from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.accounts.errors import AccountError, AccountErrorCode
from civicloop.core.accounts.models import ApiKey, SmsCode, User
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.core.ratelimit import RateLimit, RateLimitExceeded, rate_limits_hit
from civicloop.notify.phones import mainland_mobile

API_KEY_PREFIX = "cl"
SMS_CODE_TTL = timedelta(minutes=5)
SMS_CODE_MAX_ATTEMPTS = 5
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
