"""The outbox: every outgoing SMS, DingTalk message and webhook is first a row here.

The row is written in the same transaction as the state change that causes it, so
the two commit together or not at all. Workers deliver rows afterwards; a queue
message is only a hint to try now, and a periodic sweep finds whatever a lost hint
missed. The idempotency key travels with each attempt so a receiver can drop repeats.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    payload = models.JSONField(_("内容"), default=dict)
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
