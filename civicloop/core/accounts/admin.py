"""People in the admin. Names and phones are encrypted at rest and shown masked in lists;
SMS codes, API keys and the personal-data access log are read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm, UsernameField
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.models import ApiKey, PersonalDataAccess, SmsCode, User
from civicloop.core.accounts.services import account_login_unlock
from civicloop.core.units.models import Membership


class CivicUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"username": UsernameField}


class CivicUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "full_name", "phone")
        field_classes = {"username": UsernameField}


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = CivicUserChangeForm
    add_form = CivicUserCreationForm
    list_display = [
        "username",
        "masked_full_name",
        "masked_phone_number",
        "is_citizen",
        "is_staff",
        "is_active",
        "last_login",
        "login_locked_at",
    ]
    list_filter = ["is_citizen", "is_staff", "is_superuser", "is_active"]
    actions = ["unlock_sign_in"]
    readonly_fields = ["login_failures", "login_failed_at", "login_locked_at"]
    # Encrypted fields cannot be searched in the database; search by username or ID.
    search_fields = ["username", "dingtalk_userid"]
    ordering = ["username"]
    inlines = [UserMembershipInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("full_name", "phone", "is_citizen", "dingtalk_userid")}),
        (
            _("权限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
        (_("登录限制"), {"fields": ("login_failures", "login_failed_at", "login_locked_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "phone", "password1", "password2"),
            },
        ),
    )

    @admin.display(description=_("姓名"))
    def masked_full_name(self, obj: User) -> str:
        return obj.masked_name

    @admin.display(description=_("手机号"))
    def masked_phone_number(self, obj: User) -> str:
        return obj.masked_phone

    @admin.action(description=_("解除登录锁定"))
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Lift the per-account sign-in lock (`accounts.login_limits`) of the chosen people."""
        unlocked = 0
        for user in queryset:
            try:
                account_login_unlock(user=user, actor=request.user)  # type: ignore[arg-type]
            except AccountError as refused:
                self.message_user(request, refused.message, level=messages.ERROR)
                return
            unlocked += 1
        self.message_user(request, _("已解除 %(count)d 个账号的登录锁定。") % {"count": unlocked})


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept by the services: to look at, never to add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SmsCode)
class SmsCodeAdmin(ReadOnlyAdmin):
    list_display = ["id", "purpose", "created_at", "expires_at", "attempts", "used_at", "ip"]
    list_filter = ["purpose"]
    date_hierarchy = "created_at"
    exclude = ["code_hash"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created by `manage.py create_api_key` (the key is shown once); here they
    can only be looked at and switched off."""

    list_display = [
        "name",
        "prefix",
        "is_active",
        "can_read_full_records",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["is_active", "can_read_full_records"]
    search_fields = ["name", "=prefix"]
    fields = ["name", "prefix", "is_active", "can_read_full_records", "created_at", "last_used_at"]
    readonly_fields = ["name", "prefix", "can_read_full_records", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "api_key", "object_type", "object_id", "fields", "purpose"]
    list_filter = ["object_type"]
    search_fields = ["=object_id", "user__username"]
    date_hierarchy = "at"
    list_select_related = ["user", "api_key"]
