"""Handling units (departments, town offices, village committees, grid workers,
liaison stations) and the staff who act for them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.accounts.roles import Role, role_choices

# Office hours of most Wenling government offices; a unit may set its own.
DEFAULT_OFFICE_HOURS = [["08:30", "12:00"], ["14:00", "17:30"]]


class UnitKind(models.TextChoices):
    """Core's kinds of unit; modules add theirs (代表联络站, 物业 ...) in their ModuleSpec."""

    DEPARTMENT = "department", _("市级部门")
    TOWN_OFFICE = "town_office", _("镇（街道）")
    VILLAGE_COMMITTEE = "village_committee", _("村（居）委会")
    GRID = "grid", _("网格")


def unit_kind_choices() -> list[tuple[str, Any]]:
    """Core's kinds and those of the enabled modules, in that order (labels stay lazy)."""
    return [*UnitKind.choices, *((k.code, k.label) for k in registry.unit_kinds())]


class Unit(models.Model):
    """A unit that can hold a case. `supervisor` is where an escalation goes."""

    code = models.CharField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=unit_kind_choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="units")
    supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised",
        verbose_name=_("上级/监督单位"),
    )
    office_hours = models.JSONField(
        _("办公时间"),
        default=list,
        blank=True,
        help_text=_('如 [["08:30","12:00"],["14:00","17:30"]]；留空使用默认办公时间'),
    )
    dingtalk_chat_webhook = models.URLField(_("钉钉群机器人地址"), blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("办理单位")
        verbose_name_plural = _("办理单位")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def get_office_hours(self) -> list[list[str]]:
        return self.office_hours or DEFAULT_OFFICE_HOURS


class Membership(models.Model):
    """A person's role in a unit. A person may hold roles in several units."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=20, choices=role_choices)

    class Meta:
        verbose_name = _("单位人员")
        verbose_name_plural = _("单位人员")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_role_display()}"


class AreaGrant(models.Model):
    """Oversight of an area subtree (a city leader over the city, a town leader over a town)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="area_grants"
    )
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("角色"), max_length=20, choices=role_choices, default=Role.LEADER)

    class Meta:
        verbose_name = _("区域授权")
        verbose_name_plural = _("区域授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "area", "role"], name="unique_area_grant")
        ]

    def __str__(self) -> str:
        return f"{self.area} · {self.get_role_display()}"
