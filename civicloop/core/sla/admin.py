"""Admin for the working-day calendar (日历 → 年份): administrators add a year when
the State Council publishes its holiday arrangement."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicloop.core.sla.checks import calendar_warning
from civicloop.core.sla.models import CalendarDay, CalendarYear
from civicloop.core.sla.services import deadlines_recompute_on_commit
from civicloop.core.sla.working_days import calendar_changed


class CalendarDayFormSet(BaseInlineFormSet):
    """Rejects dates outside the year being edited, on the offending row."""

    def clean(self) -> None:
        super().clean()
        year = getattr(self.instance, "year", None)
        if year is None:
            return
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            day = form.cleaned_data.get("date")
            if day is not None and day.year != year:
                form.add_error(
                    "date",
                    ValidationError(
                        gettext("日期 %(date)s 不在 %(year)s 年内") % {"date": day, "year": year}
                    ),
                )


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    formset = CalendarDayFormSet
    fields = ("date", "is_workday", "name")
    ordering = ("date",)
    extra = 3


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = (
        "year",
        "is_published",
        "source",
        "holiday_count",
        "workday_count",
        "updated_at",
    )
    list_filter = ("is_published", "source")
    fields = ("year", "is_published", "source", "note", "updated_at")
    inlines = (CalendarDayInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The year is the primary key: changing it would copy the row, not rename it.
        return ("year", "updated_at") if obj is not None else ("updated_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarYear]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _holidays=Count("days", filter=Q(days__is_workday=False)),
                _workdays=Count("days", filter=Q(days__is_workday=True)),
            )
        )

    @admin.display(description=_("放假天数"), ordering="_holidays")
    def holiday_count(self, obj: Any) -> int:
        return int(getattr(obj, "_holidays", 0))

    @admin.display(description=_("调休上班天数"), ordering="_workdays")
    def workday_count(self, obj: Any) -> int:
        return int(getattr(obj, "_workdays", 0))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The row signals already invalidate; this also covers an edit with no row saved.
        calendar_changed()
        if form.instance.is_published:
            deadlines_recompute_on_commit()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        warning = calendar_warning()
        if warning and request.method == "GET":
            messages.warning(request, warning)
        return super().changelist_view(request, extra_context)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        super().delete_queryset(request, queryset)
        calendar_changed()
