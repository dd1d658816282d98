"""Writes about people: API keys for integrations, and the citizen's SMS code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from uuid import uuid4

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.accounts.models import ApiKey, SmsCode, User
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many

API_KEY_PREFIX = "cl"
SMS_CODE_TTL = timedelta(minutes=5)
SMS_CODE_MAX_ATTEMPTS = 5
SMS_CODE_RESEND_AFTER = timedelta(seconds=60)
SMS_CODES_PER_PHONE_PER_DAY = 10
SMS_CODES_PER_IP_PER_HOUR = 20


def _hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_key_create(*, name: str) -> tuple[ApiKey, str]:
    """Create a key; returns it and the raw key, which is not stored and shown only once."""
    prefix = secrets.token_hex(4)
    raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(name=name.strip(), prefix=prefix, key_hash=_hash_secret(raw))
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


class SmsCodeRefused(Exception):
    """Why a code was not sent or not accepted; the message is for the user."""

    def __init__(self, message: object, *, retry_after: int = 0):
        self._message = message
        self.retry_after = retry_after
        super().__init__(str(message))

    @property
    def message(self) -> str:
        return str(self._message)


def _code_hash(phone_digest: str, code: str) -> str:
    return hashlib.sha256(f"{phone_digest}:{code}".encode()).hexdigest()


def check_mainland_mobile(phone: str) -> str:
    phone = phone.strip().replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if len(phone) != 11 or not phone.isdigit() or not phone.startswith("1"):
        raise SmsCodeRefused(_("请输入正确的11位手机号码。"))
    return phone


def sms_code_issue(*, phone: str, ip: str | None, purpose: str = "verify") -> tuple[str, str]:
    """Create a 6-digit code for the phone, within the rate limits (one a minute, ten a
    day per phone, twenty an hour per IP). Returns (phone, code); the caller sends the
    code through the outbox in the same transaction."""
    phone = check_mainland_mobile(phone)
    digest = lookup_digest(phone)
    now = timezone.now()
    recent = SmsCode.objects.filter(phone_digest=digest, created_at__gte=now - timedelta(days=1))
    last = recent.order_by("-created_at").first()
    if last is not None and now - last.created_at < SMS_CODE_RESEND_AFTER:
        wait = int((SMS_CODE_RESEND_AFTER - (now - last.created_at)).total_seconds()) + 1
        raise SmsCodeRefused(
            _("验证码已发送，请 %(wait)s 秒后再试。") % {"wait": wait}, retry_after=wait
        )
    if recent.count() >= SMS_CODES_PER_PHONE_PER_DAY:
        raise SmsCodeRefused(_("该号码今日获取验证码次数过多，请明天再试。"), retry_after=3600)
    if (
        ip
        and SmsCode.objects.filter(ip=ip, created_at__gte=now - timedelta(hours=1)).count()
        >= SMS_CODES_PER_IP_PER_HOUR
    ):
        raise SmsCodeRefused(_("请求过于频繁，请稍后再试。"), retry_after=600)
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
    refusal: SmsCodeRefused | None = None
    with transaction.atomic():
        row = (
            SmsCode.objects.select_for_update()
            .filter(phone_digest=digest, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            refusal = SmsCodeRefused(_("验证码已过期或未获取，请重新获取。"))
        elif row.attempts >= SMS_CODE_MAX_ATTEMPTS:
            refusal = SmsCodeRefused(_("验证码错误次数过多，请重新获取。"))
        elif not hmac.compare_digest(row.code_hash, _code_hash(digest, code.strip())):
            # The failed try must be counted, so it commits before the refusal is raised.
            SmsCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
            refusal = SmsCodeRefused(_("验证码不正确。"))
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
    message will go out. Returns the clean phone; raises SmsCodeRefused."""
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
