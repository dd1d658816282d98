"""The fakes themselves: lifecycle, recording, fault injection, concurrency."""

from __future__ import annotations

import concurrent.futures
import socket
from typing import Any

import requests

from civicloop.notify import deliver
from civicloop.notify.fakes import FakeAliyunSms, FakeDingTalk, FakeWebhookReceiver


def test_start_returns_self_and_stop_frees_the_port() -> None:
    fake = FakeWebhookReceiver(secret="s")
    assert fake.start() is fake
    port = fake.port
    assert fake.url == f"http://127.0.0.1:{port}"
    assert fake.endpoint == f"127.0.0.1:{port}"
    fake.stop()
    fake.stop()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_fail_next_counts_down() -> None:
    with FakeDingTalk() as fake:
        fake.fail_next(2, 503)
        statuses = [requests.get(f"{fake.url}/gettoken", timeout=5).status_code for _ in range(3)]
        assert statuses == [503, 503, 200]
        assert len(fake.requests) == 3


def test_unsigned_aliyun_request_is_refused() -> None:
    with FakeAliyunSms() as fake:
        response = requests.post(f"{fake.url}/?PhoneNumbers=13812345678", timeout=5)
        assert response.status_code == 400
        assert response.json()["Code"] == "IncompleteSignature"
        assert fake.received == []


def test_concurrent_sends_are_all_recorded(aliyun: FakeAliyunSms, settings: Any) -> None:
    payload = {"phone": "13812345678", "template": "verify_code", "params": {"code": "1234"}}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        keys = [f"k{i % 10}" for i in range(40)]
        list(pool.map(lambda key: deliver("sms", payload, idempotency_key=key), keys))
    assert len(aliyun.requests) == 40
    assert len(aliyun.received) == 10
    assert len(aliyun.duplicates) == 30
    assert sum(aliyun.accepted_keys().values()) == 40
