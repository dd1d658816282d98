"""Admin for the directory: stations, deputies (phone kept out of lists), duty days and
the codes, with revoke and reissue actions that go through codes.py."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from civicloop.opinions.codes import code_issue, code_reissue, code_revoke
from civicloop.opinions.errors import OpinionError
from civicloop.opinions.models import Code, Deputy, DutyDay, Station

ADMIN_REVOKE_REASON = _("管理员在后台作废")


class DutyDayInline(admin.TabularInline):
    model = DutyDay
    extra = 1
    autocomplete_fields = ["deputy"]
    fields = ["date", "deputy", "station", "note"]
    ordering = ["-date"]


class StationDutyDayInline(DutyDayInline):
    fields = ["date", "deputy", "note"]


class DeputyDutyDayInline(DutyDayInline):
    fields = ["date", "station", "note"]
    autocomplete_fields = ["station"]


class CodeInline(admin.TabularInline):
    model = Code
    extra = 0
    can_delete = False
    fields = ["slug", "kind", "issued_at", "revoked_at", "revoked_reason"]
    readonly_fields = ["slug", "kind", "issued_at", "revoked_at", "revoked_reason"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["name", "town", "address", "opening_hours", "speciality", "is_active"]
    list_filter = ["is_active", "town"]
    search_fields = ["name", "address", "speciality", "town__name"]
    autocomplete_fields = ["unit"]
    inlines = [StationDutyDayInline, CodeInline]
    actions = ["issue_codes"]

    @admin.action(description=_("为所选联络站发放二维码（已有则保留）"))
    def issue_codes(self, request: HttpRequest, queryset: QuerySet[Station]) -> None:
        for station in queryset:
            code_issue(station=station)
        self.message_user(request, _("已完成。"), messages.SUCCESS)


@admin.register(Deputy)
class DeputyAdmin(admin.ModelAdmin):
    # The phone is private: edited on the form, never shown in a list or searched.
    list_display = ["name", "level", "constituency", "town", "station", "has_photo", "is_active"]
    list_filter = ["is_active", "level", "town"]
    search_fields = ["name", "constituency", "station__name"]
    autocomplete_fields = ["user", "station"]
    raw_id_fields = ["photo"]
    list_select_related = ["town", "station"]
    inlines = [DeputyDutyDayInline, CodeInline]
    actions = ["issue_codes"]

    @admin.display(boolean=True, description=_("照片"))
    def has_photo(self, obj: Deputy) -> bool:
        return obj.photo_id is not None

    @admin.action(description=_("为所选代表发放二维码（已有则保留）"))
    def issue_codes(self, request: HttpRequest, queryset: QuerySet[Deputy]) -> None:
        for deputy in queryset:
            code_issue(deputy=deputy)
        self.message_user(request, _("已完成。"), messages.SUCCESS)


@admin.register(DutyDay)
class DutyDayAdmin(admin.ModelAdmin):
    list_display = ["date", "deputy", "station", "note"]
    list_filter = ["station"]
    date_hierarchy = "date"
    autocomplete_fields = ["deputy", "station"]
    list_select_related = ["deputy", "station"]


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["slug", "kind", "holder", "issued_at", "revoked_at", "revoked_reason", "poster"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["slug", "deputy__name", "station__name"]
    list_select_related = ["deputy", "station"]
    readonly_fields = ["slug", "kind", "deputy", "station", "issued_at", "revoked_at"]
    fields = [*readonly_fields, "revoked_reason"]
    actions = ["revoke", "reissue"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Codes are issued through the deputy and station actions, never typed in.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A slug is never deleted: a printed poster must always resolve.
        return False

    @admin.display(description=_("持有人"))
    def holder(self, obj: Code) -> str:
        return str(obj.deputy or obj.station)

    @admin.display(description=_("海报"))
    def poster(self, obj: Code) -> str:
        if obj.revoked_at is not None:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">PDF</a>',
            reverse("opinions_public:poster_pdf", kwargs={"slug": obj.slug}),
        )

    @admin.action(description=_("作废所选二维码（扫码改为联系联络站）"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Code]) -> None:
        for code in queryset:
            code_revoke(code=code, reason=str(ADMIN_REVOKE_REASON))
        self.message_user(request, _("已作废。"), messages.SUCCESS)

    @admin.action(description=_("作废并重新发放（新码号）"))
    def reissue(self, request: HttpRequest, queryset: QuerySet[Code]) -> None:
        issued = 0
        for code in queryset.select_related("deputy", "station"):
            try:
                code_reissue(code=code, reason=str(ADMIN_REVOKE_REASON))
            except OpinionError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            issued += 1
        self.message_user(request, _("已重新发放 %(count)d 个二维码。") % {"count": issued})
