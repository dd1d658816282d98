"""A citizen's phone in tests: the loopback SMS gateway (FakeAliyunSms) as an inbox.

Tests that need a verification code read it where a citizen would, from the SMS the
gateway received, never from the outbox row (whose payload is encrypted and cleared
after the retention period). The `sms_inbox` fixture points the Aliyun backend at the
fake; reading the inbox first delivers the pending SMS through the real outbox path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from civicloop.notify.fakes import FakeAliyunSms


class SmsInbox:
    """What the fake gateway received, per phone, after delivering what is pending."""

    def __init__(self, gateway: FakeAliyunSms) -> None:
        self.gateway = gateway

    def deliver_pending(self) -> None:
        """Deliver every SMS the outbox holds for now (hints do not run in tests)."""
        from django.utils import timezone

        from civicloop.core.outbox.models import OutboxMessage
        from civicloop.core.outbox.services import outbox_deliver

        due = OutboxMessage.objects.filter(
            kind="sms", status=OutboxMessage.Status.PENDING, available_at__lte=timezone.now()
        ).order_by("id")
        for message_id in due.values_list("id", flat=True):
            outbox_deliver(message_id=message_id)

    def messages(self, phone: str) -> list[dict[str, Any]]:
        """The SMS `phone` received, oldest first (template_param holds the values)."""
        self.deliver_pending()
        return [m for m in self.gateway.received if m["phone"] == phone]

    def last_code(self, phone: str) -> str:
        """The verification code in the latest verification SMS to `phone`."""
        codes = [
            str(m["template_param"]["code"])
            for m in self.messages(phone)
            if "code" in m["template_param"]
        ]
        assert codes, f"no verification code was sent to {phone}"
        return codes[-1]


_active: list[SmsInbox] = []


def inbox() -> SmsInbox:
    """The running test's inbox, for helpers that are not fixtures themselves; the test
    must use the `sms_inbox` fixture (e.g. `pytest.mark.usefixtures("sms_inbox")`)."""
    assert _active, "this test needs the sms_inbox fixture"
    return _active[-1]


def last_code(phone: str) -> str:
    """The latest code sent to `phone` (see `inbox`)."""
    return inbox().last_code(phone)


@pytest.fixture
def sms_inbox(settings: Any) -> Iterator[SmsInbox]:
    """The loopback SMS gateway, with the Aliyun backend pointed at it for this test."""
    from civicloop.notify.fakes import FakeAliyunSms

    with FakeAliyunSms(access_key_id="LTAI-inbox", access_key_secret="secret-inbox") as gateway:
        settings.SMS_BACKEND = "aliyun"
        settings.ALIYUN_SMS_ENDPOINT = gateway.endpoint
        settings.ALIYUN_ACCESS_KEY_ID = "LTAI-inbox"
        settings.ALIYUN_ACCESS_KEY_SECRET = "secret-inbox"
        settings.ALIYUN_SMS_SIGN_NAME = "温岭市民意直达"
        inbox = SmsInbox(gateway)
        _active.append(inbox)
        try:
            yield inbox
        finally:
            _active.remove(inbox)
