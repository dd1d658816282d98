"""SMS through the real Aliyun SDK against FakeAliyunSms, and the console backend."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from civicloop.notify import PermanentDeliveryError, TransientDeliveryError, deliver, sms
from civicloop.notify.fakes import FakeAliyunSms
from civicloop.notify.templates import TEMPLATES

PAYLOAD = {"phone": "13812345678", "template": "verify_code", "params": {"code": "683920"}}


def test_send_sms_through_the_sdk(aliyun: FakeAliyunSms) -> None:
    biz_id = deliver("sms", PAYLOAD, idempotency_key="outbox-1")
    assert biz_id == aliyun.received[0]["biz_id"]
    message = aliyun.received[0]
    assert message["phone"] == "13812345678"
    assert message["sign_name"] == "温岭市民意直达"
    assert message["template_code"] == TEMPLATES["verify_code"].code
    assert message["template_param"] == {"code": "683920"}
    assert message["out_id"] == "outbox-1"
    request = aliyun.requests[0]
    assert request.headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI-test,")


def test_chinese_params_survive_signing(aliyun: FakeAliyunSms) -> None:
    payload = {
        "phone": "+86 138-1234-5678",
        "template": "case_dispatched",
        "params": {"number": "MY-2026-000001", "department": "太平街道 锦园&东门+1"},
    }
    deliver("sms", payload, idempotency_key="outbox-2")
    assert aliyun.received[0]["template_param"] == payload["params"]
    assert aliyun.received[0]["phone"] == "13812345678"


def test_repeated_key_is_recorded_as_duplicate(aliyun: FakeAliyunSms) -> None:
    first = deliver("sms", PAYLOAD, idempotency_key="outbox-1")
    second = deliver("sms", PAYLOAD, idempotency_key="outbox-1")
    assert first == second
    assert len(aliyun.requests) == 2
    assert len(aliyun.received) == 1
    assert len(aliyun.duplicates) == 1
    assert aliyun.accepted_keys() == {"outbox-1": 2}


def test_wrong_secret_is_permanent(aliyun: FakeAliyunSms, settings: Any) -> None:
    settings.ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"
    with pytest.raises(PermanentDeliveryError, match="SignatureDoesNotMatch"):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")
    assert aliyun.received == []
    assert len(aliyun.requests) == 1


def test_unknown_key_id_is_permanent(aliyun: FakeAliyunSms, settings: Any) -> None:
    settings.ALIYUN_ACCESS_KEY_ID = "LTAI-other"
    with pytest.raises(PermanentDeliveryError, match="InvalidAccessKeyId"):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")


def test_outage_503_is_transient_then_recovers(aliyun: FakeAliyunSms) -> None:
    aliyun.fail_next(1, 503)
    with pytest.raises(TransientDeliveryError, match="503"):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")
    assert deliver("sms", PAYLOAD, idempotency_key="outbox-1")
    assert aliyun.accepted_keys() == {"outbox-1": 1}


def test_throttle_code_is_transient(aliyun: FakeAliyunSms) -> None:
    aliyun.reject_next(1, "isv.BUSINESS_LIMIT_CONTROL")
    with pytest.raises(TransientDeliveryError, match="BUSINESS_LIMIT_CONTROL"):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")


def test_other_business_codes_are_permanent(aliyun: FakeAliyunSms) -> None:
    aliyun.reject_next(1, "isv.MOBILE_NUMBER_ILLEGAL")
    with pytest.raises(PermanentDeliveryError, match="MOBILE_NUMBER_ILLEGAL"):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")


def test_unapproved_template_code_is_permanent(settings: Any) -> None:
    with FakeAliyunSms(access_key_id="ak", access_key_secret="sk", template_codes=set()) as fake:
        settings.SMS_BACKEND = "aliyun"
        settings.ALIYUN_SMS_ENDPOINT = fake.endpoint
        settings.ALIYUN_ACCESS_KEY_ID = "ak"
        settings.ALIYUN_ACCESS_KEY_SECRET = "sk"
        with pytest.raises(PermanentDeliveryError, match="SMS_TEMPLATE_ILLEGAL"):
            deliver("sms", PAYLOAD, idempotency_key="outbox-1")


def test_slow_provider_times_out_as_transient(
    aliyun: FakeAliyunSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms, "READ_TIMEOUT_MS", 300)
    aliyun.delay_seconds = 1.5
    with pytest.raises(TransientDeliveryError):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")


def test_connection_refused_is_transient(settings: Any) -> None:
    fake = FakeAliyunSms().start()
    endpoint = fake.endpoint
    fake.stop()
    settings.SMS_BACKEND = "aliyun"
    settings.ALIYUN_SMS_ENDPOINT = endpoint
    settings.ALIYUN_ACCESS_KEY_ID = "ak"
    settings.ALIYUN_ACCESS_KEY_SECRET = "sk"
    with pytest.raises(TransientDeliveryError):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")


@pytest.mark.parametrize(
    "payload",
    [
        {**PAYLOAD, "phone": "1381234567"},
        {**PAYLOAD, "phone": "02512345678"},
        {**PAYLOAD, "template": "nope"},
        {**PAYLOAD, "params": {}},
        {**PAYLOAD, "params": {"code": "1" * 36}},
    ],
)
def test_bad_payload_is_permanent_before_sending(
    aliyun: FakeAliyunSms, payload: dict[str, Any]
) -> None:
    with pytest.raises(PermanentDeliveryError):
        deliver("sms", payload, idempotency_key="outbox-1")
    assert aliyun.requests == []


def test_missing_access_key_is_permanent(settings: Any) -> None:
    settings.SMS_BACKEND = "aliyun"
    settings.ALIYUN_ACCESS_KEY_ID = ""
    with pytest.raises(PermanentDeliveryError, match="ALIYUN_ACCESS_KEY"):
        deliver("sms", PAYLOAD, idempotency_key="outbox-1")


def test_console_backend_logs_rendered_text(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SMS_BACKEND = "console"
    settings.ALIYUN_SMS_SIGN_NAME = "温岭市民意直达"
    with caplog.at_level(logging.INFO, logger="civicloop.notify"):
        message_id = deliver("sms", PAYLOAD, idempotency_key="outbox-1")
    assert message_id.startswith("console-sms-")
    assert "【温岭市民意直达】您的验证码为683920，5分钟内有效，请勿泄露。" in caplog.text
    # The phone appears masked in logs, never in full.
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("dysmsapi.aliyuncs.com", ("dysmsapi.aliyuncs.com", "https")),
        ("127.0.0.1:8080", ("127.0.0.1:8080", "http")),
        ("localhost:8080", ("localhost:8080", "http")),
        ("[::1]:8080", ("[::1]:8080", "http")),
        ("http://sms.internal:80", ("sms.internal:80", "http")),
        ("https://127.0.0.1:443/", ("127.0.0.1:443", "https")),
    ],
)
def test_endpoint_protocol(endpoint: str, expected: tuple[str, str]) -> None:
    assert sms.endpoint_and_protocol(endpoint) == expected
