"""People's deputies (人大代表), liaison stations (联络站), their duty days and their QR codes.

A station is also a core handling unit (Unit of kind "station"): opinions sent through
its code, or through the code of a deputy based there, are cases owned by that unit.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import EncryptedTextField


def new_slug() -> str:
    """A short, unguessable, URL-safe code slug (what the printed QR code encodes)."""
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")


class Station(models.Model):
    unit = models.OneToOneField(
        "units.Unit", on_delete=models.PROTECT, related_name="station", verbose_name=_("对应单位")
    )
    name = models.CharField(_("名称"), max_length=100)
    town = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在镇（街道）")
    )
    address = models.CharField(_("地址"), max_length=200)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    opening_hours = models.CharField(_("开放时间"), max_length=200, blank=True, default="")
    speciality = models.CharField(
        _("特色"), max_length=200, blank=True, default="", help_text=_("如：调解室、共享法庭")
    )
    intro = models.TextField(_("简介"), blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("代表联络站")
        verbose_name_plural = _("代表联络站")
        ordering = ["town__code", "name"]

    def __str__(self) -> str:
        return self.name


class DeputyLevel(models.TextChoices):
    NATIONAL = "national", _("全国人大代表")
    PROVINCIAL = "provincial", _("省人大代表")
    TAIZHOU = "taizhou", _("台州市人大代表")
    WENLING = "wenling", _("温岭市人大代表")
    TOWN = "town", _("镇人大代表")


class Deputy(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deputy",
        verbose_name=_("登录账号"),
    )
    name = models.CharField(_("姓名"), max_length=50)
    level = models.CharField(_("代表层级"), max_length=16, choices=DeputyLevel.choices)
    constituency = models.CharField(_("选区"), max_length=100, blank=True, default="")
    town = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在镇（街道）")
    )
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="deputies", verbose_name=_("所在联络站")
    )
    photo = models.ForeignKey(
        "attachments.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("照片"),
    )
    profile = models.TextField(_("简介"), blank=True, default="")
    # Private: never shown publicly nor in the API.
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    is_active = models.BooleanField(_("在任"), default=True)

    class Meta:
        verbose_name = _("人大代表")
        verbose_name_plural = _("人大代表")
        ordering = ["station__town__code", "name"]

    def __str__(self) -> str:
        return self.name


class DutyDay(models.Model):
    """A deputy's reception day at a station (进站接待日)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="duty_days")
    deputy = models.ForeignKey(Deputy, on_delete=models.CASCADE, related_name="duty_days")
    date = models.DateField(_("日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("进站接待日")
        verbose_name_plural = _("进站接待日")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["station", "deputy", "date"], name="unique_duty_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.deputy}"


class CodeKind(models.TextChoices):
    DEPUTY = "deputy", _("代表码")
    STATION = "station", _("联络站码")


class Code(models.Model):
    """One issued QR code. The code encodes SITE_URL/q/<slug>/; a slug is never reused
    or deleted, so a printed poster always resolves. Revoking a deputy's code sends what
    comes through it to the deputy's station; reissuing gives a new slug."""

    kind = models.CharField(_("类型"), max_length=16, choices=CodeKind.choices)
    slug = models.CharField(_("码"), max_length=16, unique=True, default=new_slug, editable=False)
    deputy = models.ForeignKey(
        Deputy, null=True, blank=True, on_delete=models.PROTECT, related_name="codes"
    )
    station = models.ForeignKey(
        Station, null=True, blank=True, on_delete=models.PROTECT, related_name="codes"
    )
    issued_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("作废原因"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("二维码")
        verbose_name_plural = _("二维码")
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="deputy", deputy__isnull=False, station__isnull=True)
                    | models.Q(kind="station", station__isnull=False, deputy__isnull=True)
                ),
                name="code_names_its_holder",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.slug}"
