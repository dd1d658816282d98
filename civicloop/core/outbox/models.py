"""The outbox: every outgoing SMS, DingTalk message and webhook is first a row here.

The row is written in the same transaction as the state change that causes it, so
the two commit together or not at all. Workers deliver rows afterwards; a queue
message is only a hint to try now, and a periodic sweep finds whatever a lost hint
missed. The idempotency key travels with each attempt so a receiver can drop repeats.

The payload holds personal data (phones, verification codes, notice links), so it is
encrypted at rest like other contact data, and a retention sweep clears it once a row
has been sent for OUTBOX_PAYLOAD_RETENTION_DAYS. What an audit needs stays in clear
columns: the template, the masked recipient, the times and the provider's message id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import EncryptedJSONField
from civicloop.core.accounts.masking import mask_phone

TEMPLATE_MAX = 100
RECIPIENT_MAX = 200


def outbox_audit_labels(*, kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """(template, masked recipient) of a payload: what may be kept in clear for an audit.

    The template is the SMS template name or the DingTalk title; the recipient is the
    phone masked (138****5678), the staff DingTalk ids, or only the host of a webhook.
    Never a full phone number, never a parameter (codes, links).
    """
    if not isinstance(payload, dict):
        return "", ""
    if kind == "sms":
        template = str(payload.get("template") or "")
        recipient = mask_phone(str(payload.get("phone") or ""))
    elif kind == "dingtalk_work":
        template = str(payload.get("title") or "")
        # DingTalk user ids are staff accounts, not a citizen's contact data.
        recipient = ",".join(str(u) for u in payload.get("userids") or [])
    elif kind == "dingtalk_robot":
        template = str(payload.get("title") or "")
        mobiles = [mask_phone(str(m)) for m in payload.get("at_mobiles") or []]
        recipient = ",".join(["robot", *mobiles])
    elif kind == "webhook":
        template = str(payload.get("event") or "")
        recipient = urlsplit(str(payload.get("url") or "")).hostname or ""
    else:
        template, recipient = "", ""
    return template[:TEMPLATE_MAX], recipient[:RECIPIENT_MAX]


class OutboxMessage(models.Model):
    """One notification to deliver, with its delivery state.

    Life cycle: pending -> sending (leased by one worker until `locked_until`) ->
    sent, or back to pending with a later `available_at` after a transient failure,
    or dead after a permanent failure or too many attempts. A dead letter is revived
    only by an administrator (`outbox_retry`).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        DEAD = "dead", _("死信")

    kind = models.CharField(_("类型"), max_length=32)
    # Encrypted (Fernet, FIELD_ENCRYPTION_KEY): it holds the phone, codes and links.
    # Not filterable: filter on `template`, `reference` or `idempotency_key` instead.
    payload = EncryptedJSONField(_("内容"), null=True, blank=True, default=dict)
    template = models.CharField(
        _("模板"), max_length=TEMPLATE_MAX, blank=True, default="", db_index=True
    )
    recipient = models.CharField(
        _("收件人（脱敏）"), max_length=RECIPIENT_MAX, blank=True, default=""
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=200, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # Attempts started (counted when a worker claims the row). It doubles as a fencing
    # token: a worker whose lease expired cannot overwrite the state of a newer attempt.
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    available_at = models.DateTimeField(_("可发送时间"), default=timezone.now)
    locked_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True, default="")
    provider_id = models.CharField(_("服务商消息ID"), max_length=200, blank=True, default="")
    reference = models.CharField(
        _("业务编号"), max_length=64, blank=True, default="", db_index=True
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    payload_cleared_at = models.DateTimeField(_("内容清除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ["-id"]
        indexes = [
            # The sweep's query: due pending rows and expired leases, by status then time.
            models.Index(fields=["status", "available_at"], name="outbox_status_avail_idx"),
            models.Index(fields=["status", "locked_until"], name="outbox_status_lock_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference or self.idempotency_key} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A row written with save() (get_or_create) gets its clear audit columns from its
        # payload here; outbox_enqueue_many fills them for its bulk insert.
        if self.payload and not (self.template or self.recipient):
            self.template, self.recipient = outbox_audit_labels(
                kind=self.kind, payload=self.payload
            )
        super().save(*args, **kwargs)
