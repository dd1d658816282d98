from __future__ import annotations

import pytest
from django.urls import reverse

from civicloop.core.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def _msg(key: str, status: str, reference: str = "WL-1") -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind="sms",
        payload={},
        idempotency_key=key,
        status=status,
        reference=reference,
        attempts=8 if status == Status.DEAD else 0,
    )


def test_changelist_filters_dead_letters_and_searches(admin_client):
    _msg("a", Status.DEAD, "WL-2025-0042")
    _msg("b", Status.SENT, "WL-2025-0043")
    url = reverse("admin:outbox_outboxmessage_changelist")
    page = admin_client.get(url, {"status__exact": "dead"}).content.decode()
    assert "死信" in page
    assert "WL-2025-0042" in page
    assert "WL-2025-0043" not in page
    page = admin_client.get(url, {"q": "0043"}).content.decode()
    assert "WL-2025-0043" in page and "WL-2025-0042" not in page
    page = admin_client.get(url, {"q": "a"}).status_code
    assert page == 200


def test_change_view_is_read_only(admin_client):
    msg = _msg("a", Status.DEAD)
    page = admin_client.get(reverse("admin:outbox_outboxmessage_change", args=[msg.pk]))
    assert page.status_code == 200
    assert b'name="payload"' not in page.content
    assert b'name="status"' not in page.content


def test_retry_action(admin_client, django_capture_on_commit_callbacks):
    dead = _msg("a", Status.DEAD)
    sent = _msg("b", Status.SENT)
    url = reverse("admin:outbox_outboxmessage_changelist")
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            url,
            {"action": "retry_dead", "_selected_action": [dead.pk, sent.pk]},
            follow=True,
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert "已重新投递 1 条死信" in body
    assert "1 条不是死信" in body
    dead.refresh_from_db()
    sent.refresh_from_db()
    assert (dead.status, dead.attempts) == (Status.PENDING, 0)
    assert sent.status == Status.SENT
