"""Outbox in the admin: find a message by case number or key, see why it failed, and
send dead letters again (重新投递).

The payload (phone, verification code, notice link) is never shown in the list or the
detail page: they show the template and the masked recipient. The full payload is shown
only on request (a POST from the detail page), and each such read is logged as a
PersonalDataAccess row.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.outbox.services import outbox_payload_reveal, outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "template",
        "recipient",
        "reference",
        "status",
        "attempts",
        "available_at",
        "sent_at",
        "provider_id",
        "created_at",
        "short_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("reference", "idempotency_key", "template")
    date_hierarchy = "created_at"
    actions = ("retry_dead",)
    change_form_template = "admin/outbox/outboxmessage/change_form.html"
    # Everything is read-only: state changes only through the services. The payload is
    # not a field here: see payload_state and the reveal view.
    fields = readonly_fields = (
        "kind",
        "template",
        "recipient",
        "payload_state",
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
        "payload_cleared_at",
    )

    @admin.display(description=_("最近错误"))
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:80]

    @admin.display(description=_("内容"))
    def payload_state(self, obj: OutboxMessage) -> str:
        if obj.payload_cleared_at is not None:
            return str(_("已按保留期限清除"))
        # The button under the fields (change_form.html) posts to the reveal view.
        return str(_("已加密；查看完整内容将被记录"))

    def get_urls(self) -> list[URLPattern]:
        reveal = path(
            "<int:message_id>/reveal/",
            self.admin_site.admin_view(self.reveal_view),
            name="outbox_outboxmessage_reveal",
        )
        return [reveal, *super().get_urls()]

    def reveal_view(self, request: HttpRequest, message_id: int) -> HttpResponse:
        """Show one message's full payload and log the read (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = get_object_or_404(OutboxMessage, pk=message_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        payload = outbox_payload_reveal(
            message_id=obj.pk, user=request.user, purpose="admin outbox reveal"
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("待发消息 #%(id)s 的完整内容") % {"id": obj.pk},
            "payload": payload,
        }
        return TemplateResponse(request, "admin/outbox/outboxmessage/reveal.html", context)

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
