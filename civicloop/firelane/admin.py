"""生命通道 in the admin: sites with their cameras, cameras with their lanes (and a link
to draw them on the picture), exemptions, and read-only records of what the cameras
sent and what the intake refused.

Deliberately absent: the vehicle registry mirror (VehicleRecord) and the owners found
for stays (Owner) — personal data, loaded by `import_registry` and read only by the
services that need it. Registry imports are listed read-only, as progress records."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.masking import mask_plate
from civicloop.firelane.lanes import LaneError, check_lane_polygon
from civicloop.firelane.models import (
    Camera,
    Exemption,
    IntakeRefusal,
    Lane,
    RegistryImport,
    Sighting,
    Site,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the system: visible to whoever may view them, never edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --------------------------------------------------------------------------- sites


class SiteCameraInline(admin.TabularInline):
    model = Camera
    extra = 0
    fields = ["serial", "name", "vendor", "status", "last_seen_at", "lanes_link"]
    readonly_fields = ["last_seen_at", "lanes_link"]
    show_change_link = True

    @admin.display(description=_("消防车通道"))
    def lanes_link(self, obj: Camera) -> str:
        return _lanes_link(obj)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "area",
        "unit",
        "warn_after_s",
        "notice_after_s",
        "gap_s",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "address"]
    list_select_related = ["area", "unit"]
    autocomplete_fields = ["area", "unit", "enforcement_unit"]
    inlines = [SiteCameraInline]


# --------------------------------------------------------------------------- cameras, lanes


def _lanes_link(camera: Camera) -> str:
    if camera.pk is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>',
        reverse("firelane:lane_editor", kwargs={"serial": camera.serial}),
        _("画消防车通道"),
    )


class LaneForm(forms.ModelForm):
    class Meta:
        model = Lane
        fields = ["name", "polygon"]

    def clean_polygon(self) -> list[list[float]]:
        # The same rules as the picture editor: a lane decides which cars are warned.
        try:
            return check_lane_polygon(polygon=self.cleaned_data.get("polygon"))
        except LaneError as err:
            raise forms.ValidationError(err.message, code=str(err.code)) from None


class LaneInline(admin.TabularInline):
    model = Lane
    form = LaneForm
    extra = 0
    fields = ["name", "polygon"]


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["serial", "name", "site", "vendor", "status", "last_seen_at", "lanes_link"]
    list_filter = ["vendor", "status", "site"]
    search_fields = ["serial", "name"]
    list_select_related = ["site"]
    readonly_fields = ["last_seen_at", "lanes_link"]
    fields = [
        "site",
        "serial",
        "name",
        "vendor",
        "status",
        "last_seen_at",
        "ip_allowlist",
        "clock_offset_s",
        "heartbeat_interval_s",
        "image_width",
        "image_height",
        "lanes_link",
    ]
    inlines = [LaneInline]

    @admin.display(description=_("消防车通道"))
    def lanes_link(self, obj: Camera) -> str:
        return _lanes_link(obj)


# --------------------------------------------------------------------------- exemptions


@admin.register(Exemption)
class ExemptionAdmin(admin.ModelAdmin):
    # Exempt vehicles are fire engines, ambulances and registered service vehicles: the
    # administrator who keeps this list needs the full plate to keep it right.
    list_display = ["kind", "plate", "site", "valid_from", "valid_until", "hours", "note"]
    list_filter = ["kind", "site"]
    search_fields = ["plate", "note"]
    list_select_related = ["site"]

    @admin.display(description=_("每日时段"))
    def hours(self, obj: Exemption) -> str:
        if obj.daily_start and obj.daily_end:
            return f"{obj.daily_start:%H:%M}–{obj.daily_end:%H:%M}"
        return "—"


# --------------------------------------------------------------------------- records


@admin.register(Sighting)
class SightingAdmin(ReadOnlyAdmin):
    """What the cameras sent. Plates are masked here, as everywhere outside the review
    of a case: the admin is not where one follows a car."""

    list_display = ["camera", "taken_at", "masked_plate", "plate_check", "lane", "flags"]
    list_filter = ["plate_check", "source", "camera__site"]
    list_select_related = ["camera", "lane"]
    ordering = ["-taken_at"]
    # The table grows by every camera event: an exact count of millions of rows on each
    # page load is not worth its cost.
    show_full_result_count = False
    fields = (
        "camera",
        "source",
        "event_key",
        "camera_time",
        "taken_at",
        "received_at",
        "masked_plate",
        "masked_camera_plate",
        "color",
        "confidence",
        "camera_confidence",
        "plate_check",
        "lane",
        "stay",
        "box",
        "flags",
        "scene_sha256",
        "crop_sha256",
    )
    readonly_fields = fields

    @admin.display(description=_("车牌"), ordering="plate")
    def masked_plate(self, obj: Sighting) -> str:
        return mask_plate(obj.plate) or "—"

    @admin.display(description=_("摄像机车牌"))
    def masked_camera_plate(self, obj: Sighting) -> str:
        return mask_plate(obj.camera_plate) or "—"


@admin.register(IntakeRefusal)
class IntakeRefusalAdmin(ReadOnlyAdmin):
    list_display = [
        "refusal_day",
        "refusal_source",
        "refusal_reason",
        "refusal_serial",
        "refusal_count",
        "refusal_last_at",
    ]
    list_filter = ["source", "reason"]
    search_fields = ["=serial"]
    ordering = ["-day", "-count"]
    readonly_fields = (
        "day",
        "source",
        "reason",
        "serial",
        "count",
        "last_at",
        "last_detail",
    )
    fields = readonly_fields

    # The model has no verbose names; the columns get theirs here.
    @admin.display(description=_("日期"), ordering="day")
    def refusal_day(self, obj: IntakeRefusal) -> Any:
        return obj.day

    @admin.display(description=_("来源"), ordering="source")
    def refusal_source(self, obj: IntakeRefusal) -> str:
        return obj.source

    @admin.display(description=_("原因"), ordering="reason")
    def refusal_reason(self, obj: IntakeRefusal) -> str:
        return obj.reason

    @admin.display(description=_("声称的序列号"), ordering="serial")
    def refusal_serial(self, obj: IntakeRefusal) -> str:
        return obj.serial or "—"

    @admin.display(description=_("次数"), ordering="count")
    def refusal_count(self, obj: IntakeRefusal) -> int:
        return obj.count

    @admin.display(description=_("最后一次"), ordering="last_at")
    def refusal_last_at(self, obj: IntakeRefusal) -> Any:
        return obj.last_at


@admin.register(RegistryImport)
class RegistryImportAdmin(ReadOnlyAdmin):
    """Progress of registry imports. The rows themselves are never shown here."""

    list_display = [
        "import_file",
        "import_state",
        "import_rows_done",
        "import_rows_bad",
        "import_rows_duplicate",
        "import_started_at",
        "import_finished_at",
    ]
    list_filter = ["state"]
    ordering = ["-started_at"]
    fields = (
        "file_name",
        "file_size",
        "file_sha256",
        "state",
        "bytes_done",
        "rows_done",
        "rows_bad",
        "bad_reasons",
        "rows_duplicate",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description=_("文件"), ordering="file_name")
    def import_file(self, obj: RegistryImport) -> str:
        return obj.file_name

    @admin.display(description=_("状态"), ordering="state")
    def import_state(self, obj: RegistryImport) -> str:
        return str(obj.get_state_display())

    @admin.display(description=_("已导入行数"), ordering="rows_done")
    def import_rows_done(self, obj: RegistryImport) -> int:
        return obj.rows_done

    @admin.display(description=_("有误行数"), ordering="rows_bad")
    def import_rows_bad(self, obj: RegistryImport) -> int:
        return obj.rows_bad

    @admin.display(description=_("重复行数"), ordering="rows_duplicate")
    def import_rows_duplicate(self, obj: RegistryImport) -> int:
        return obj.rows_duplicate

    @admin.display(description=_("开始时间"), ordering="started_at")
    def import_started_at(self, obj: RegistryImport) -> Any:
        return obj.started_at

    @admin.display(description=_("完成时间"), ordering="finished_at")
    def import_finished_at(self, obj: RegistryImport) -> Any:
        return obj.finished_at
