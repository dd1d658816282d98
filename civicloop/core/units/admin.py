"""Units in the admin, with their staff (memberships) inline; area grants of leaders."""

from __future__ import annotations

from django.contrib import admin

from civicloop.core.units.models import AreaGrant, Membership, Unit


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "area", "supervisor", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "=code"]
    list_select_related = ["area", "supervisor"]
    autocomplete_fields = ["area", "supervisor"]
    inlines = [MembershipInline]


@admin.register(AreaGrant)
class AreaGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "area", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "area__name"]
    list_select_related = ["user", "area"]
    autocomplete_fields = ["user", "area"]
