"""Encrypt the outbox payload at rest and keep clear audit columns beside it.

The JSON column is replaced by a Fernet-encrypted text column (EncryptedJSONField):
a new column is added, every row's payload is copied into it encrypted, the old
column is dropped and the new one takes its name. The same copy runs backwards on
reversal, so no payload is lost either way.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import civicloop.core.accounts.crypto
from civicloop.core.outbox.models import outbox_audit_labels

BATCH = 500


def seal(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("outbox", "OutboxMessage")
    for row in model.objects.only("id", "kind", "payload").iterator(chunk_size=BATCH):
        payload = row.payload if isinstance(row.payload, dict) else {}
        row.payload_sealed = payload
        row.template, row.recipient = outbox_audit_labels(kind=row.kind, payload=payload)
        row.save(update_fields=["payload_sealed", "template", "recipient"])


def unseal(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("outbox", "OutboxMessage")
    for row in model.objects.only("id", "payload_sealed").iterator(chunk_size=BATCH):
        row.payload = row.payload_sealed or {}
        row.save(update_fields=["payload"])


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="template",
            field=models.CharField(
                blank=True, db_index=True, default="", max_length=100, verbose_name="模板"
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="recipient",
            field=models.CharField(
                blank=True, default="", max_length=200, verbose_name="收件人（脱敏）"
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="payload_cleared_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="内容清除时间"),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="payload_sealed",
            field=civicloop.core.accounts.crypto.EncryptedJSONField(
                blank=True, default=dict, null=True, verbose_name="内容"
            ),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
        migrations.RemoveField(model_name="outboxmessage", name="payload"),
        migrations.RenameField(
            model_name="outboxmessage", old_name="payload_sealed", new_name="payload"
        ),
    ]
