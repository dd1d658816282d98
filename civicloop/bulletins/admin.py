"""The administrator's view of e线知政 / 学习园地: items and readings (read-mostly;
items are published from the module's own page, which checks files by content)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from civicloop.bulletins.models import Item, ReadRecord, Tag


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("title", "section", "category", "required", "published_at", "is_withdrawn")
    list_filter = ("section", "category", "required", "is_withdrawn")
    search_fields = ("title",)
    date_hierarchy = "published_at"
    fields = ("section", "category", "title", "summary", "required", "due_date", "is_withdrawn")
    readonly_fields = ("section", "category", "title", "summary")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ReadRecord)
class ReadRecordAdmin(admin.ModelAdmin):
    list_display = ("item", "user", "started_at", "finished_at", "seconds")
    list_filter = ("item__section",)
    raw_id_fields = ("item", "user")
    readonly_fields = ("item", "user", "started_at", "last_seen_at", "finished_at", "seconds")


admin.site.register(Tag)
