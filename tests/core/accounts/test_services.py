"""People: API keys, SMS codes, masking and encryption of personal data."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from civicloop.core.accounts.crypto import decrypt, encrypt, lookup_digest
from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.masking import mask_name, mask_phone
from civicloop.core.accounts.models import ApiKey, SmsCode, User
from civicloop.core.accounts.services import (
    api_key_authenticate,
    citizen_for_phone,
    sms_code_issue,
    sms_code_verify,
)

pytestmark = pytest.mark.django_db


def test_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("王建国") == "王**"
    assert mask_name("") == "" and mask_phone(None) == ""


def test_names_and_phones_are_encrypted_at_rest() -> None:
    user = User.objects.create(username="u1", full_name="王建国", phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT full_name, phone FROM accounts_user WHERE id = %s", [user.pk])
        name, phone = cursor.fetchone()
    assert "王建国" not in name and "13812345678" not in phone
    again = User.objects.get(pk=user.pk)
    assert again.full_name == "王建国" and again.masked_phone == "138****5678"
    assert User.objects.get(phone_digest=lookup_digest("13812345678")) == user
    assert decrypt(encrypt("温岭")) == "温岭"


def test_key_rotation_reads_old_data(settings) -> None:  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    old = settings.FIELD_ENCRYPTION_KEYS[0]
    token = encrypt("13812345678")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert decrypt(token) == "13812345678"


def test_create_api_key_prints_a_key_that_authenticates() -> None:
    out = StringIO()
    call_command("create_api_key", "open311-client", stdout=out)
    raw = out.getvalue().strip()
    key = api_key_authenticate(raw=raw)
    assert key is not None and key.name == "open311-client"
    assert raw not in ApiKey.objects.get().key_hash
    assert api_key_authenticate(raw=raw[:-1] + ("x" if raw[-1] != "x" else "y")) is None
    assert api_key_authenticate(raw="nonsense") is None


def test_sms_code_six_digits_once_and_rate_limited() -> None:
    phone, code = sms_code_issue(phone="13812345678", ip="127.0.0.1")
    assert len(code) == 6 and code.isdigit()
    with pytest.raises(AccountError):
        sms_code_issue(phone="13812345678", ip="127.0.0.1")  # within a minute
    with pytest.raises(AccountError):
        sms_code_verify(phone=phone, code="000000" if code != "000000" else "111111")
    assert sms_code_verify(phone=phone, code=code) == "13812345678"
    with pytest.raises(AccountError):
        sms_code_verify(phone=phone, code=code)  # used


def test_sms_code_expires_and_dies_after_five_wrong_tries() -> None:
    phone, code = sms_code_issue(phone="13900000000", ip=None)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(AccountError):
            sms_code_verify(phone=phone, code=wrong)
    with pytest.raises(AccountError, match="次数过多"):
        sms_code_verify(phone=phone, code=code)

    SmsCode.objects.all().delete()
    phone, code = sms_code_issue(phone="13900000001", ip=None)
    SmsCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(AccountError, match="过期"):
        sms_code_verify(phone=phone, code=code)


def test_bad_phone_is_refused_and_citizen_is_created_once() -> None:
    with pytest.raises(AccountError):
        sms_code_issue(phone="12345", ip=None)
    first = citizen_for_phone(phone="13812345678")
    assert citizen_for_phone(phone="13812345678") == first and first.is_citizen
