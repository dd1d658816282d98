"""DingTalk robot and work notices against FakeDingTalk, and the console backend."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from civicloop.notify import PermanentDeliveryError, TransientDeliveryError, deliver, dingtalk
from civicloop.notify.fakes import FakeDingTalk

ROBOT = {
    "title": "消防通道占用",
    "text": "### 锦园小区东门\n浙J·D12345 已占用 25 分钟",
    "at_mobiles": ["13812345678"],
}
NOTICE = {"userids": ["zhangsan", "lisi"], "title": "新工单", "text": "**WL-000123** 待签收"}


# DingTalk's "自定义机器人安全设置 · 加签"
# (https://open.dingtalk.com/document/robots/customize-robot-security-settings):
# string to sign = timestamp + "\n" + secret, HmacSHA256 keyed by the secret, Base64, then
# urlEncode (UTF-8). Its example secret is "this is secret"; 1577262236757 is the example
# timestamp of its robot documentation. DingTalk prints no resulting sign (its sample code
# uses the current time), so the expected value below was computed once, by hand, with
# Python's hmac/hashlib/base64 from that rule; the same value appears in other public
# implementations' tests of this rule.
DINGTALK_DOC_SECRET = "this is secret"
DINGTALK_DOC_TIMESTAMP = 1577262236757
DINGTALK_DOC_SIGN = "hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D"


def test_robot_sign_matches_the_known_answer_for_dingtalks_example() -> None:
    # Given DingTalk's example secret and timestamp, when we sign, then we get the vector.
    assert dingtalk.robot_sign(DINGTALK_DOC_SECRET, DINGTALK_DOC_TIMESTAMP) == DINGTALK_DOC_SIGN
    url = dingtalk.signed_robot_url(
        "https://oapi.dingtalk.com/robot/send?access_token=XXXXXX",
        DINGTALK_DOC_SECRET,
        DINGTALK_DOC_TIMESTAMP,
    )
    assert url == (
        "https://oapi.dingtalk.com/robot/send?access_token=XXXXXX"
        f"&timestamp={DINGTALK_DOC_TIMESTAMP}&sign={DINGTALK_DOC_SIGN}"
    )


def test_robot_message_is_signed_and_accepted(ding: FakeDingTalk) -> None:
    message_id = deliver("dingtalk_robot", ROBOT, idempotency_key="outbox-7")
    assert message_id == "dingtalk-robot:outbox-7"
    [message] = ding.received
    assert message["msgtype"] == "markdown"
    assert message["title"] == "消防通道占用"
    assert message["at_mobiles"] == ["13812345678"]
    # DingTalk only rings the @-ed phones that are also named in the text.
    assert message["text"].endswith("@13812345678")
    assert message["idempotency_key"] == "outbox-7"


def test_robot_wrong_secret_is_refused(ding: FakeDingTalk, settings: Any) -> None:
    settings.DINGTALK_ROBOT_SECRET = "SECwrong"
    with pytest.raises(PermanentDeliveryError, match="310000"):
        deliver("dingtalk_robot", ROBOT, idempotency_key="outbox-7")
    assert ding.received == []


def test_robot_payload_overrides_url_and_secret(settings: Any) -> None:
    with FakeDingTalk(robot_access_token="other", robot_secret="SECother") as other:
        settings.DINGTALK_BACKEND = "dingtalk"
        settings.DINGTALK_ROBOT_URL = "http://127.0.0.1:9/unused"
        payload = {**ROBOT, "webhook_url": other.robot_url, "secret": "SECother"}
        deliver("dingtalk_robot", payload, idempotency_key="outbox-8")
        assert len(other.received) == 1


def test_fake_refuses_stale_robot_timestamp(ding: FakeDingTalk) -> None:
    stale = int(time.time() * 1000) - 3_601_000
    url = dingtalk.signed_robot_url(ding.robot_url, ding.robot_secret, stale)
    answer = dingtalk._post_json(url, {"msgtype": "markdown"}, "k")
    assert answer["errcode"] == 310000


def test_robot_throttled_is_transient(ding: FakeDingTalk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        ding, "_robot", lambda request: (200, {"errcode": 130101, "errmsg": "send too fast"})
    )
    with pytest.raises(TransientDeliveryError, match="130101"):
        deliver("dingtalk_robot", ROBOT, idempotency_key="outbox-7")


def test_robot_outage_is_transient(ding: FakeDingTalk) -> None:
    ding.fail_next(1, 502)
    with pytest.raises(TransientDeliveryError, match="502"):
        deliver("dingtalk_robot", ROBOT, idempotency_key="outbox-7")


def test_work_notice_fetches_token_and_sends(ding: FakeDingTalk) -> None:
    task_id = deliver("dingtalk_work", NOTICE, idempotency_key="outbox-9")
    [message] = ding.received
    assert task_id == str(message["task_id"])
    assert message["userids"] == ["zhangsan", "lisi"]
    assert message["agent_id"] == "1000001"
    assert message["title"] == "新工单"
    assert ding.tokens_issued == 1


def test_work_notice_token_is_cached(ding: FakeDingTalk) -> None:
    deliver("dingtalk_work", NOTICE, idempotency_key="outbox-1")
    deliver("dingtalk_work", NOTICE, idempotency_key="outbox-2")
    assert ding.tokens_issued == 1
    assert [r.path for r in ding.requests].count("/gettoken") == 1


def test_work_notice_refreshes_expired_token_once(ding: FakeDingTalk) -> None:
    deliver("dingtalk_work", NOTICE, idempotency_key="outbox-1")
    ding.expire_tokens()
    deliver("dingtalk_work", NOTICE, idempotency_key="outbox-2")
    assert ding.tokens_issued == 2
    assert ding.accepted_keys() == {"outbox-1": 1, "outbox-2": 1}


def test_token_cache_respects_expires_in_margin(ding: FakeDingTalk) -> None:
    # A token whose life is shorter than the margin is never reused.
    ding.token_ttl = dingtalk.TOKEN_MARGIN_SECONDS
    deliver("dingtalk_work", NOTICE, idempotency_key="outbox-1")
    deliver("dingtalk_work", NOTICE, idempotency_key="outbox-2")
    assert ding.tokens_issued == 2


def test_work_notice_bad_app_secret_is_permanent(ding: FakeDingTalk, settings: Any) -> None:
    settings.DINGTALK_APP_SECRET = "wrong"
    with pytest.raises(PermanentDeliveryError, match="40089"):
        deliver("dingtalk_work", NOTICE, idempotency_key="outbox-1")


def test_work_notice_rate_limit_is_transient(
    ding: FakeDingTalk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        ding, "_asyncsend", lambda request: (200, {"errcode": 90018, "errmsg": "限流"})
    )
    with pytest.raises(TransientDeliveryError, match="90018"):
        deliver("dingtalk_work", NOTICE, idempotency_key="outbox-1")


def test_work_notice_persistent_token_failure_is_permanent(
    ding: FakeDingTalk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        ding,
        "_asyncsend",
        lambda request: (200, {"errcode": 40014, "errmsg": "不合法的access_token"}),
    )
    with pytest.raises(PermanentDeliveryError, match="40014"):
        deliver("dingtalk_work", NOTICE, idempotency_key="outbox-1")
    # One refresh, not a loop.
    assert ding.tokens_issued == 2


def test_work_notice_timeout_is_transient(
    ding: FakeDingTalk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dingtalk, "TIMEOUT", (1.0, 0.3))
    ding.delay_seconds = 1.5
    with pytest.raises(TransientDeliveryError):
        deliver("dingtalk_work", NOTICE, idempotency_key="outbox-1")


@pytest.mark.parametrize(
    "payload",
    [
        {**NOTICE, "userids": []},
        {**NOTICE, "title": ""},
        {**NOTICE, "userids": [f"u{i}" for i in range(101)]},
    ],
)
def test_bad_work_notice_is_permanent(ding: FakeDingTalk, payload: dict[str, Any]) -> None:
    with pytest.raises(PermanentDeliveryError):
        deliver("dingtalk_work", payload, idempotency_key="outbox-1")
    assert ding.requests == []


def test_console_backend_logs(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.DINGTALK_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="civicloop.notify"):
        assert deliver("dingtalk_robot", ROBOT, idempotency_key="k1") == "console-robot:k1"
        assert deliver("dingtalk_work", NOTICE, idempotency_key="k2") == "console-notice:k2"
    assert "消防通道占用" in caplog.text
    assert "新工单" in caplog.text


def test_unknown_backend_is_refused(settings: Any) -> None:
    settings.DINGTALK_BACKEND = "dingding"
    with pytest.raises(PermanentDeliveryError, match="DINGTALK_BACKEND"):
        deliver("dingtalk_robot", ROBOT, idempotency_key="k1")
