"""People: staff and citizens, the phone-code check for citizens, API keys for
integrations, and the log of every staff read of unmasked personal data."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import EncryptedTextField, lookup_digest
from civicloop.core.accounts.masking import mask_name, mask_phone


class User(AbstractUser):
    """A staff member or a verified citizen.

    Names and phones are encrypted at rest; `phone_digest` finds a citizen by phone.
    Staff roles are held per unit through `units.Membership`; `is_city_leader` marks a
    leader who sees every area in the cockpit.
    """

    # AbstractUser's first/last name are unused: a Chinese name is one field, encrypted.
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    full_name = EncryptedTextField(_("姓名"), blank=True, default="")
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_digest = models.CharField(max_length=64, blank=True, default="", db_index=True)
    is_citizen = models.BooleanField(_("群众账号"), default=False)
    dingtalk_userid = models.CharField(_("浙政钉用户ID"), max_length=64, blank=True, default="")
    # Password sign-in failures counted per account across every address and browser
    # not known to the account (`accounts.login_limits`): reset by a success from such a
    # browser; `login_locked_at` is lifted only by an admin or the person's unit leader.
    login_failures = models.PositiveIntegerField(_("连续登录失败次数"), default=0)
    login_failed_at = models.DateTimeField(_("最近登录失败时间"), null=True, blank=True)
    login_locked_at = models.DateTimeField(_("登录锁定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def save(self, *args: object, **kwargs: object) -> None:
        self.phone_digest = lookup_digest(self.phone) if self.phone else ""
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def masked_name(self) -> str:
        return mask_name(self.full_name) or self.username

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def __str__(self) -> str:
        return self.masked_name


class PersonalDataAccess(models.Model):
    """One row each time a staff member is shown a record's personal data unmasked."""

    # Who read it: a staff member, or an integration's API key (Open311 full records).
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    api_key = models.ForeignKey(
        "ApiKey", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    fields = models.CharField(max_length=200)
    purpose = models.CharField(max_length=200, blank=True, default="")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} ({self.fields})"


class SmsCode(models.Model):
    """A 6-digit code sent to a phone; only its hash is kept, it expires and it can be
    tried a few times only."""

    phone_digest = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=128)
    purpose = models.CharField(max_length=32, default="login")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # A right code typed into one form (its submission key) is bound to it, not yet used:
    # it is used up in the transaction that stores what the form sent (`sms_code_consume`),
    # so a crash before that commit leaves the code good, and the same form may be sent
    # again (a photo refused) without a new code.
    bound_to = models.CharField(max_length=64, blank=True, default="")
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class ApiKey(models.Model):
    """A key for an integration (Open311 api_key, API bearer token). Only a hash is kept;
    the key itself is shown once, by `manage.py create_api_key`."""

    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=128)
    is_active = models.BooleanField(_("启用"), default=True)
    # Reads whole records through Open311 (text, exact place) beyond what each channel
    # publishes; every such read is logged in PersonalDataAccess.
    can_read_full_records = models.BooleanField(_("可读取完整记录"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
