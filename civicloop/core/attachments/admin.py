"""Attachments in the admin: to look at, never to add, edit or delete.

Rows are created only by the services (which check content); changing a row by hand
would break the link between `sha256` and the stored bytes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicloop.core.attachments.models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "original_name",
        "content_type",
        "size",
        "width",
        "height",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["kind", "content_type", "created_at"]
    search_fields = ["=id", "=sha256", "original_name"]
    date_hierarchy = "created_at"
    list_select_related = ["uploaded_by"]
    readonly_fields = [field.name for field in Attachment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
