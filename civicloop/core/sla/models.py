"""The working-day calendar: one row per known year plus the exceptions to the
weekday rule (public holidays and 调休 make-up workdays).

Rule: Monday–Friday are workdays and Saturday/Sunday are not, unless a
`CalendarDay` of a published `CalendarYear` says otherwise. A year without a
published `CalendarYear` is unknown and computations touching it fail loudly.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

SOURCE_CHINESE_CALENDAR = "chinese_calendar"
SOURCE_ADMIN = "admin"


class CalendarSource(models.TextChoices):
    CHINESE_CALENDAR = SOURCE_CHINESE_CALENDAR, _("chinese-calendar 库")
    ADMIN = SOURCE_ADMIN, _("管理员录入")


class CalendarYear(models.Model):
    """A year whose holiday arrangement (国务院办公厅通知) is in the table.

    Only years with `is_published` set are used; an unpublished row is a draft.
    """

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    is_published = models.BooleanField(
        _("已发布（全年完整）"),
        default=False,
        help_text=_("勾选表示该年全部节假日和调休上班日已录入，可用于计算办理期限"),
    )
    source = models.CharField(
        _("来源"), max_length=20, choices=CalendarSource.choices, default=CalendarSource.ADMIN
    )
    note = models.TextField(_("备注"), blank=True, default="")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("年份")
        verbose_name_plural = _("年份")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}"


class CalendarDay(models.Model):
    """An exception to the weekday rule: a holiday (is_workday=False) or a
    make-up workday (is_workday=True). Its date always lies in its year."""

    date = models.DateField(_("日期"), unique=True)
    year = models.ForeignKey(
        CalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("年份")
    )
    is_workday = models.BooleanField(
        _("上班"), default=False, help_text=_("勾选表示调休上班日；不勾选表示放假")
    )
    name = models.CharField(_("名称"), max_length=50, blank=True, default="")

    class Meta:
        verbose_name = _("节假日/调休")
        verbose_name_plural = _("节假日/调休")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("放假")
        return f"{self.date.isoformat()} {self.name} ({kind})"

    def clean(self) -> None:
        super().clean()
        if self.date and self.year_id is not None and self.date.year != self.year_id:
            raise ValidationError(
                {
                    "date": _("日期 %(date)s 不在 %(year)s 年内")
                    % {"date": self.date, "year": self.year_id}
                }
            )
