"""Fire-lane SMS go out under the fire service's own sign (FIRELANE_SMS_SIGN), the other
templates under the deployment's (ALIYUN_SMS_SIGN_NAME): a sign per template
(SmsTemplate.sign_setting, civicloop/notify/sms.py)."""

from __future__ import annotations

from typing import Any

import pytest

from civicloop.notify import sms


@pytest.fixture
def signs(settings: Any) -> Any:
    settings.ALIYUN_SMS_SIGN_NAME = "温岭市民意直达"
    settings.FIRELANE_SMS_SIGN = "温岭消防"
    return settings


def test_each_template_has_its_sign(signs: Any) -> None:
    assert sms.sign_name_for("firelane_warning") == "温岭消防"
    assert sms.sign_name_for("firelane_notice") == "温岭消防"
    assert sms.sign_name_for("verify_code") == "温岭市民意直达"
    # An unset module sign falls back to the deployment's.
    signs.FIRELANE_SMS_SIGN = ""
    assert sms.sign_name_for("firelane_warning") == "温岭市民意直达"


def test_the_warning_is_sent_under_the_fire_services_sign(
    signs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    signs.SMS_BACKEND = "console"
    with caplog.at_level("INFO", logger="civicloop.notify.sms"):
        sms.send(
            {
                "phone": "13900001111",
                "template": "firelane_warning",
                "params": {"plate": "浙J12345", "site": "锦园"},
            },
            idempotency_key="t-1",
        )
        sms.send(
            {"phone": "13900001111", "template": "verify_code", "params": {"code": "123456"}},
            idempotency_key="t-2",
        )
    assert "【温岭消防】车牌浙J12345" in caplog.text
    assert "【温岭市民意直达】您的验证码" in caplog.text


def test_aliyun_is_asked_with_the_templates_sign(signs: Any) -> None:
    from civicloop.notify.fakes import FakeAliyunSms

    with FakeAliyunSms(access_key_id="LTAI-test", access_key_secret="secret-test") as fake:
        signs.SMS_BACKEND = "aliyun"
        signs.ALIYUN_SMS_ENDPOINT = fake.endpoint
        signs.ALIYUN_ACCESS_KEY_ID = "LTAI-test"
        signs.ALIYUN_ACCESS_KEY_SECRET = "secret-test"
        sms.send(
            {
                "phone": "13900001111",
                "template": "firelane_warning",
                "params": {"plate": "浙J12345", "site": "锦园"},
            },
            idempotency_key="t-3",
        )
        assert [m["sign_name"] for m in fake.received] == ["温岭消防"]
