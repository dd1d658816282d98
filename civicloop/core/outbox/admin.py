"""Outbox in the admin: find a message by case number or key, see why it failed, and
send dead letters again (重新投递)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.outbox.services import outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "reference",
        "status",
        "attempts",
        "available_at",
        "sent_at",
        "created_at",
        "short_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("reference", "idempotency_key")
    date_hierarchy = "created_at"
    actions = ("retry_dead",)
    # Everything is read-only: state changes only through the services.
    readonly_fields = (
        "kind",
        "payload",
        "idempotency_key",
        "status",
        "attempts",
        "available_at",
        "locked_until",
        "last_error",
        "provider_id",
        "reference",
        "created_at",
        "sent_at",
    )

    @admin.display(description=_("最近错误"))
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:80]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        # The outbox is the record of what was sent; nothing is deleted by hand.
        return False

    @admin.action(description=_("重新投递"), permissions=["change"])
    def retry_dead(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        revived = sum(outbox_retry(message_id=pk) for pk in ids)
        skipped = len(ids) - revived
        self.message_user(
            request, _("已重新投递 %(n)d 条死信。") % {"n": revived}, messages.SUCCESS
        )
        if skipped:
            self.message_user(
                request,
                _("%(n)d 条不是死信，未处理。") % {"n": skipped},
                messages.WARNING,
            )
