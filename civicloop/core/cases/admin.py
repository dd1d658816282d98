"""Cases in the admin: to find and look at. State changes only through the workflow
(`transition`); the timeline is append-only and hash-chained, so it is never edited here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicloop.core.cases.models import Case, CaseStep, TimelineEntry


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TimelineEntryInline(_ReadOnlyInline):
    model = TimelineEntry
    fields = (
        "seq",
        "created_at",
        "action",
        "from_state",
        "to_state",
        "actor_label",
        "unit",
        "note",
        "hash",
    )
    readonly_fields = fields
    ordering = ["seq"]


class CaseStepInline(_ReadOnlyInline):
    model = CaseStep
    fields = (
        "seq",
        "state",
        "unit",
        "started_by",
        "started_at",
        "due_at",
        "ended_at",
        "ended_by",
        "overdue",
    )
    readonly_fields = fields
    ordering = ["seq"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "channel", "state", "holder_unit", "due_at", "created_at"]
    list_filter = ["channel", "state", "grade", "anonymous"]
    search_fields = ["=number", "title"]
    date_hierarchy = "created_at"
    list_select_related = ["holder_unit"]
    inlines = [CaseStepInline, TimelineEntryInline]
    exclude = ["contact_name", "contact_phone", "contact_phone_digest", "submission_key"]
    readonly_fields = [
        "number",
        "channel",
        "workflow",
        "state",
        "owner_unit",
        "holder_unit",
        "holder_user",
        "due_at",
        "grade",
        "rating",
        "rating_comment",
        "round",
        "result",
        "merged_into",
        "submitter",
        "area",
        "area_path",
        "source",
        "data",
        "anonymous",
        "closed_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
