"""Personal data in the outbox: encrypted at rest, cleared after the retention period,
masked in the admin, and every unmasked read logged (issue 10, item 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from civicloop import notify
from civicloop.core.accounts.models import PersonalDataAccess
from civicloop.core.outbox import tasks
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.outbox.services import (
    OutboxDraft,
    outbox_deliver,
    outbox_enqueue,
    outbox_enqueue_many,
    outbox_payload_purge,
)

Status = OutboxMessage.Status
pytestmark = pytest.mark.django_db

PHONE = "13912345678"
CODE = "480213"
MASKED = "139****5678"
SMS = {"phone": PHONE, "template": "verify_code", "params": {"code": CODE}}


def raw_row(message_id: int) -> dict[str, Any]:
    """The row as the database holds it, past the model's decryption."""
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [message_id])
        columns = [c[0] for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def sent_row(key: str, *, sent_days_ago: float, status: str = Status.SENT) -> OutboxMessage:
    message = outbox_enqueue(kind="sms", payload=SMS | {"key": key}, idempotency_key=key)
    sent_at = timezone.now() - timedelta(days=sent_days_ago)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=status, sent_at=sent_at if status == Status.SENT else None, provider_id=f"biz-{key}"
    )
    return OutboxMessage.objects.get(pk=message.pk)


# --------------------------------------------------------------------------- at rest


def test_the_phone_and_code_are_not_in_the_database_in_clear() -> None:
    message = outbox_enqueue(kind="sms", payload=SMS, idempotency_key="code-1")

    row = raw_row(message.pk)

    stored = str(row["payload"])
    assert PHONE not in stored and CODE not in stored and "verify_code" not in stored
    assert PHONE not in str(row.values())
    assert (row["template"], row["recipient"]) == ("verify_code", MASKED)
    assert OutboxMessage.objects.get(pk=message.pk).payload == SMS


def test_a_bulk_enqueue_is_encrypted_and_keeps_the_audit_columns() -> None:
    work = {"userids": ["ding-a", "ding-b"], "title": "新事项待受理", "text": f"致电 {PHONE}"}
    outbox_enqueue_many(
        drafts=[
            OutboxDraft("sms", SMS, "bulk-sms", "WL-1"),
            OutboxDraft("dingtalk_work", work, "bulk-ding", "WL-1"),
            OutboxDraft("webhook", {"url": "https://hooks.example.org/x?t=s3cret"}, "bulk-hook"),
        ]
    )

    rows = {m.idempotency_key: m for m in OutboxMessage.objects.all()}
    assert (rows["bulk-sms"].template, rows["bulk-sms"].recipient) == ("verify_code", MASKED)
    assert (rows["bulk-ding"].template, rows["bulk-ding"].recipient) == (
        "新事项待受理",
        "ding-a,ding-b",
    )
    assert rows["bulk-hook"].recipient == "hooks.example.org"
    for message in rows.values():
        assert PHONE not in str(raw_row(message.pk).values())
        assert "s3cret" not in str(raw_row(message.pk).values())
    assert rows["bulk-ding"].payload == work


def test_delivery_reads_the_decrypted_payload(fake_deliver: Any) -> None:
    message = outbox_enqueue(kind="sms", payload=SMS, idempotency_key="deliver-1")

    assert outbox_deliver(message_id=message.pk) is True

    assert fake_deliver.calls == [("sms", SMS, "deliver-1")]


def test_a_refusal_quoting_the_phone_is_kept_masked(fake_deliver: Any) -> None:
    def refuse(kind: str, payload: dict[str, Any], key: str) -> None:
        raise notify.PermanentDeliveryError(f"Aliyun refused {payload['phone']!r}")

    fake_deliver.behaviour = refuse
    message = outbox_enqueue(kind="sms", payload=SMS, idempotency_key="refused-1")

    assert outbox_deliver(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.status == Status.DEAD
    assert PHONE not in message.last_error and MASKED in message.last_error


# --------------------------------------------------------------------------- retention


def test_retention_clears_exactly_the_payloads_of_old_sent_messages() -> None:
    old = sent_row("old", sent_days_ago=8)
    recent = sent_row("recent", sent_days_ago=6)
    pending = sent_row("pending", sent_days_ago=30, status=Status.PENDING)
    dead = sent_row("dead", sent_days_ago=30, status=Status.DEAD)

    assert outbox_payload_purge() == 1

    old.refresh_from_db()
    assert old.payload == {} and old.payload_cleared_at is not None
    assert raw_row(old.pk)["payload"] is None
    # What an audit needs stays.
    assert (old.template, old.recipient, old.provider_id) == ("verify_code", MASKED, "biz-old")
    assert old.sent_at is not None and old.status == Status.SENT
    for kept in (recent, pending, dead):
        kept.refresh_from_db()
        assert kept.payload["phone"] == PHONE and kept.payload_cleared_at is None


def test_retention_is_idempotent_and_follows_the_setting(settings: Any) -> None:
    sent_row("two-days", sent_days_ago=2)
    assert outbox_payload_purge() == 0
    settings.OUTBOX_PAYLOAD_RETENTION_DAYS = 1

    assert outbox_payload_purge() == 1
    cleared_at = OutboxMessage.objects.get().payload_cleared_at
    assert outbox_payload_purge() == 0
    assert OutboxMessage.objects.get().payload_cleared_at == cleared_at


def test_retention_is_scheduled_for_beat_and_the_embedded_scheduler() -> None:
    sent_row("old", sent_days_ago=8)
    entries = [
        spec
        for spec in settings.CELERY_BEAT_SCHEDULE.values()
        if spec["task"] == "civicloop.core.outbox.tasks.outbox_payload_purge"
    ]
    # At least daily (it runs hourly: an embedded scheduler restarted daily must reach it).
    assert len(entries) == 1 and float(entries[0]["schedule"]) <= 86400
    assert tasks.outbox_payload_purge.name == entries[0]["task"]

    assert tasks.outbox_payload_purge() == 1


def test_the_default_retention_is_seven_days() -> None:
    assert settings.OUTBOX_PAYLOAD_RETENTION_DAYS == 7


# --------------------------------------------------------------------------- admin


def test_the_admin_shows_the_template_and_masked_recipient_only(admin_client: Any) -> None:
    message = outbox_enqueue(kind="sms", payload=SMS, idempotency_key="admin-1", reference="WL-9")

    listing = admin_client.get(reverse("admin:outbox_outboxmessage_changelist"))
    detail = admin_client.get(reverse("admin:outbox_outboxmessage_change", args=[message.pk]))

    for page in (listing, detail):
        body = page.content.decode()
        assert page.status_code == 200
        assert "verify_code" in body and MASKED in body
        assert PHONE not in body and CODE not in body
    assert not PersonalDataAccess.objects.exists()


def test_revealing_the_payload_in_the_admin_is_logged(admin_client: Any, admin_user: Any) -> None:
    message = outbox_enqueue(kind="sms", payload=SMS, idempotency_key="admin-2")
    url = reverse("admin:outbox_outboxmessage_reveal", args=[message.pk])

    assert admin_client.get(url).status_code == 405  # a link followed by a crawler shows nothing
    assert not PersonalDataAccess.objects.exists()
    page = admin_client.post(url)

    assert page.status_code == 200
    body = page.content.decode()
    assert PHONE in body and CODE in body
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.object_type, access.object_id, access.fields) == (
        admin_user,
        "outbox",
        str(message.pk),
        "payload",
    )


def test_a_cleared_payload_is_shown_as_cleared(admin_client: Any) -> None:
    old = sent_row("old", sent_days_ago=8)
    outbox_payload_purge()

    detail = admin_client.get(reverse("admin:outbox_outboxmessage_change", args=[old.pk]))

    assert "已按保留期限清除" in detail.content.decode()
    assert reverse("admin:outbox_outboxmessage_reveal", args=[old.pk]) not in (
        detail.content.decode()
    )


# --------------------------------------------------------------------------- migration


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_without_losing_them() -> None:
    before, after = ("outbox", "0001_initial"), ("outbox", "0002_payload_encrypted")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old_model = executor.loader.project_state([before]).apps.get_model(
            "outbox", "OutboxMessage"
        )
        row = old_model.objects.create(kind="sms", payload=SMS, idempotency_key="legacy-1")
        assert PHONE in str(raw_row(row.pk)["payload"])  # in clear before

        executor = MigrationExecutor(connection)
        executor.migrate([after])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    stored = raw_row(row.pk)
    assert PHONE not in str(stored["payload"]) and CODE not in str(stored["payload"])
    migrated = OutboxMessage.objects.get(pk=row.pk)
    assert migrated.payload == SMS
    assert (migrated.template, migrated.recipient) == ("verify_code", MASKED)
