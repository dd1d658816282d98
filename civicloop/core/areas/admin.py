"""Areas in the admin: the four-level tree, searchable by name and code."""

from __future__ import annotations

from django.contrib import admin

from civicloop.core.areas.models import Area


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "level", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["name", "=code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    ordering = ["path"]
