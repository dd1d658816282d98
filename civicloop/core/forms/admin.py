"""Applications, their form versions and workflow definitions in the admin.

What is immutable stays so here: a form version is uploaded (a new version), never
edited; a workflow definition is saved through `workflow_definition_save` (checked by
the engine's own validate(), a change is the next version). Submissions are listed
without their answers (personal data: the case pages show them to who may see them).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.models import User
from civicloop.core.cases.workflow import GENERIC_LOOP
from civicloop.core.forms.errors import FormError
from civicloop.core.forms.models import Application, FormVersion, Submission, WorkflowDefinition
from civicloop.core.forms.workflow_data import (
    application_code_check,
    template_from_definition,
    workflow_choices,
    workflow_code_check,
    workflow_definition_export,
    workflow_definition_parse,
    workflow_definition_save,
)

# The largest XLSForm accepted from the admin (a form of a few hundred questions is
# far smaller).
XLSFORM_MAX_BYTES = 5 * 1024 * 1024


def _error_text(err: FormError) -> str:
    """A refusal as shown on a field: its message, led by where it is when the message
    does not say it already."""
    if err.where and err.where not in err.message:
        return f"{err.where}：{err.message}"
    return err.message


def _download_url(version: FormVersion) -> str:
    return reverse("admin:forms_formversion_source", args=[version.pk])


# --------------------------------------------------------------------------- applications


class ApplicationAdminForm(forms.ModelForm):
    workflow = forms.ChoiceField(label=_("流程模板"))
    xlsform = forms.FileField(
        label=_("上传新的表单版本（XLSForm）"),
        required=False,
        help_text=_("上传 .xlsx 文件，保存后成为当前表单版本；旧的提交仍按其版本显示。"),
    )

    class Meta:
        model = Application
        fields = (
            "code",
            "name",
            "name_en",
            "description",
            "enabled",
            "towns",
            "number_prefix",
            "workflow",
            "owner_rule",
            "owner_unit_kinds",
            "owner_units",
            "submitters",
            "submit_units",
            "public",
            "show_in_menu",
            "show_on_station",
            "show_in_cockpit",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = workflow_choices()
        current = self.instance.workflow if self.instance.pk else ""
        if current and current not in {code for code, _label in choices}:
            choices.append((current, current))
        workflow_field = self.fields["workflow"]
        assert isinstance(workflow_field, forms.ChoiceField)
        workflow_field.choices = choices
        if not self.instance.pk:
            workflow_field.initial = GENERIC_LOOP.code

    def clean_code(self) -> str:
        code = self.cleaned_data.get("code", "")
        if not self.instance.pk:
            try:
                application_code_check(code)
            except FormError as err:
                raise forms.ValidationError(_error_text(err)) from None
        return code

    def clean_xlsform(self) -> Any:
        upload = self.cleaned_data.get("xlsform")
        if not upload:
            return None
        if upload.size > XLSFORM_MAX_BYTES:
            raise forms.ValidationError(_("文件过大。"))
        data = upload.read()
        # Checked here, so pyxform's refusal shows on this field; imported on save.
        from civicloop.core.forms.convert import convert_xlsform

        try:
            convert_xlsform(data, upload.name)
        except FormError as err:
            raise forms.ValidationError(_error_text(err)) from None
        return (data, upload.name)


class FormVersionInline(admin.TabularInline):
    model = FormVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("version", "title", "source_name", "uploaded_by", "created_at", "download")
    readonly_fields = fields
    ordering = ["-version"]

    @admin.display(description=_("原文件"))
    def download(self, obj: FormVersion) -> str:
        if not obj.pk:
            return ""
        return format_html('<a href="{}">{}</a>', _download_url(obj), _("下载"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    form = ApplicationAdminForm
    list_display = (
        "code",
        "name",
        "enabled",
        "public",
        "workflow",
        "form_version",
        "submission_count",
    )
    list_filter = ("enabled", "public")
    search_fields = ("code", "name")
    filter_horizontal = ("towns", "owner_units", "submit_units")
    readonly_fields = ("current_form", "created_at", "updated_at")
    inlines = [FormVersionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return (
            super()
            .get_queryset(request)
            .select_related("current_form")
            .annotate(submission_total=Count("submissions"))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The code is the channel code of its cases: fixed once cases may exist.
        fields = tuple(super().get_readonly_fields(request, obj))
        return ("code", *fields) if obj is not None else fields

    @admin.display(description=_("当前表单版本"), ordering="current_form__version")
    def form_version(self, obj: Application) -> str:
        return f"v{obj.current_form.version}" if obj.current_form is not None else "—"

    @admin.display(description=_("提交数"), ordering="submission_total")
    def submission_count(self, obj: Application) -> int:
        return int(getattr(obj, "submission_total", 0))

    def save_model(self, request: HttpRequest, obj: Application, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        upload = form.cleaned_data.get("xlsform")
        if not upload:
            return
        from civicloop.core.forms.services import application_import_xlsform

        data, filename = upload
        actor = request.user if isinstance(request.user, User) else None
        _app, version, created = application_import_xlsform(
            code=obj.code, data=data, filename=filename, actor=actor
        )
        obj.current_form = version
        if created:
            messages.success(request, _("已上传表单版本 v%(n)s。") % {"n": version.version})
        else:
            messages.info(request, _("与当前表单版本相同，未新增版本。"))


# --------------------------------------------------------------------------- form versions


@admin.register(FormVersion)
class FormVersionAdmin(admin.ModelAdmin):
    list_display = ("application", "version", "title", "source_name", "created_at", "download")
    list_filter = ("application",)
    list_select_related = ("application",)
    ordering = ("application__code", "-version")
    fields = (
        "application",
        "version",
        "title",
        "form_id",
        "xlsform_version",
        "source_name",
        "sha256",
        "uploaded_by",
        "created_at",
        "download",
        "definition",
    )
    readonly_fields = fields

    @admin.display(description=_("原文件"))
    def download(self, obj: FormVersion) -> str:
        return format_html('<a href="{}">{}</a>', _download_url(obj), _("下载"))

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/source/",
                self.admin_site.admin_view(self.source_view),
                name="forms_formversion_source",
            ),
            *super().get_urls(),
        ]

    def source_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The XLSForm file as uploaded."""
        version = get_object_or_404(FormVersion, pk=pk)
        if not self.has_view_permission(request, version):
            return HttpResponse(status=403)
        name = version.source_name or f"{version.application.code}-v{version.version}.xlsx"
        response = HttpResponse(
            bytes(version.source),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
        return response

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


# --------------------------------------------------------------------------- workflows


def _pretty(definition: Any) -> str:
    return json.dumps(definition, ensure_ascii=False, indent=2)


class WorkflowDefinitionAdminForm(forms.ModelForm):
    definition = forms.CharField(
        label=_("定义（JSON）"),
        widget=forms.Textarea(attrs={"rows": 40, "cols": 100, "style": "font-family: monospace"}),
        help_text=_(
            "状态、操作、办理人、所需输入、效果与时限；格式见 civicloop/core/forms/workflow_data.py。"
            "保存即为新版本，已开始的事项仍按原版本办理。"
        ),
    )

    class Meta:
        model = WorkflowDefinition
        fields = ("code", "label", "definition")

    def clean_definition(self) -> Any:
        try:
            return workflow_definition_parse(self.cleaned_data.get("definition", ""))
        except FormError as err:
            raise forms.ValidationError(_error_text(err)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code, definition = cleaned.get("code"), cleaned.get("definition")
        if code:
            try:
                workflow_code_check(code)
            except FormError as err:
                self.add_error("code", _error_text(err))
                return cleaned
        if code and definition is not None:
            try:
                template_from_definition(f"{code}@0", definition, label=cleaned.get("label", ""))
            except FormError as err:
                self.add_error("definition", _error_text(err))
        return cleaned


@admin.register(WorkflowDefinition)
class WorkflowDefinitionAdmin(admin.ModelAdmin):
    form = WorkflowDefinitionAdminForm
    list_display = ("code", "version", "label", "created_by", "created_at")
    list_filter = ("code",)
    search_fields = ("code", "label")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """Start from a version of the same code (`?from=<id>`: "edit" saves the next
        version) or from the generic closed loop."""
        source = request.GET.get("from", "")
        row = WorkflowDefinition.objects.filter(pk=source).first() if source.isdigit() else None
        if row is not None:
            return {"code": row.code, "label": row.label, "definition": _pretty(row.definition)}
        return {"definition": _pretty(workflow_definition_export(GENERIC_LOOP))}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("code", "label", "definition")
        return ("code", "version", "label", "template_code", "pretty", "new_version")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("code", "version", "label", "template_code", "pretty", "new_version")

    @admin.display(description=_("模板编码"))
    def template_code(self, obj: WorkflowDefinition) -> str:
        return obj.template_code

    @admin.display(description=_("定义（JSON）"))
    def pretty(self, obj: WorkflowDefinition) -> str:
        return format_html("<pre>{}</pre>", _pretty(obj.definition))

    @admin.display(description=_("修改"))
    def new_version(self, obj: WorkflowDefinition) -> str:
        url = reverse("admin:forms_workflowdefinition_add") + f"?from={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("以此为基础保存新版本"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: WorkflowDefinition, form: Any, change: bool
    ) -> None:
        # Through the service: the next version, checked once more under its number.
        saved = workflow_definition_save(
            code=form.cleaned_data["code"],
            label=form.cleaned_data["label"],
            definition=form.cleaned_data["definition"],
            actor=request.user,
        )
        obj.pk, obj.version, obj.created_at = saved.pk, saved.version, saved.created_at
        obj.definition, obj.label, obj.created_by = saved.definition, saved.label, saved.created_by


# --------------------------------------------------------------------------- submissions


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Which case, application and form version: never the answers (personal data,
    shown on the case page to who may see them, and logged there)."""

    list_display = ("case", "application", "form_version", "created_at")
    list_filter = ("application",)
    list_select_related = ("case", "application", "form_version", "form_version__application")
    search_fields = ("case__number",)
    fields = ("case", "application", "form_version", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
