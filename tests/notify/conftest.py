"""Fixtures for civicloop.notify: started fakes, and settings pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from civicloop.notify import dingtalk
from civicloop.notify.fakes import FakeAliyunSms, FakeDingTalk, FakeWebhookReceiver

WEBHOOK_SECRET = "whsec-test-0123456789"


@pytest.fixture
def aliyun(settings: Any) -> Iterator[FakeAliyunSms]:
    with FakeAliyunSms(access_key_id="LTAI-test", access_key_secret="secret-test") as fake:
        settings.SMS_BACKEND = "aliyun"
        settings.ALIYUN_SMS_ENDPOINT = fake.endpoint
        settings.ALIYUN_ACCESS_KEY_ID = "LTAI-test"
        settings.ALIYUN_ACCESS_KEY_SECRET = "secret-test"
        settings.ALIYUN_SMS_SIGN_NAME = "温岭市民意直达"
        yield fake


@pytest.fixture
def ding(settings: Any) -> Iterator[FakeDingTalk]:
    dingtalk.token_cache.clear()
    with FakeDingTalk() as fake:
        settings.DINGTALK_BACKEND = "dingtalk"
        settings.DINGTALK_ROBOT_URL = fake.robot_url
        settings.DINGTALK_ROBOT_SECRET = fake.robot_secret
        settings.DINGTALK_API_BASE = fake.url
        settings.DINGTALK_APP_KEY = fake.app_key
        settings.DINGTALK_APP_SECRET = fake.app_secret
        settings.DINGTALK_AGENT_ID = fake.agent_id
        yield fake
    dingtalk.token_cache.clear()


@pytest.fixture
def receiver(settings: Any) -> Iterator[FakeWebhookReceiver]:
    settings.WEBHOOK_SIGNING_SECRET = WEBHOOK_SECRET
    with FakeWebhookReceiver(secret=WEBHOOK_SECRET) as fake:
        yield fake
