"""Applications defined as data (the "N" of 1-2-8+N).

An `Application` ties a form (an XLSForm, converted by pyxform, kept as `FormVersion`s)
to a workflow template (a coded one such as `generic_loop`, or a `WorkflowDefinition`
an administrator wrote as JSON), an owner-unit rule and who may submit. Its submissions
are ordinary `Case`s on a channel whose code is the application's code; the answers sit
beside the case, encrypted, in a `Submission` that names the form version they were
made with.

Form versions and workflow definitions are immutable: a new upload or a changed
definition is a new row with the next version number, so an old submission is always
shown with its own version's labels, and an open case keeps the workflow version it
started on (`Case.workflow` is `<code>@<version>`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import EncryptedJSONField


class OwnerRule(models.TextChoices):
    """Which unit receives a submission."""

    # The nearest unit of the application's kinds up the area tree from the
    # submission's area (an area code, or the point's town).
    AREA = "area", _("按所在区域")
    # The submitter picks one of the application's units on the form.
    CHOSEN_UNIT = "chosen_unit", _("由提交人选择单位")
    # The submitter's own unit (a deputy's station, a clerk's office).
    SUBMITTER_UNIT = "submitter_unit", _("提交人所在单位")
    # The area's unit when an area or point is given, else the submitter's unit.
    AREA_OR_SUBMITTER = "area_or_submitter", _("按区域，无区域时为提交人所在单位")


class Submitter(models.TextChoices):
    """Who may submit to an application."""

    CITIZEN = "citizen", _("群众（扫码页面，短信验证）")
    DEPUTY = "deputy", _("人大代表")
    STAFF = "staff", _("指定单位工作人员")
    API = "api", _("接口密钥")


def default_submitters() -> list[str]:
    return [Submitter.STAFF.value, Submitter.API.value]


def default_owner_kinds() -> list[str]:
    return ["town_office"]


class WorkflowDefinition(models.Model):
    """One version of a workflow template written as data (JSON). Never edited: a
    change is saved as the next version. Its template code is `<code>@<version>`."""

    code = models.SlugField(_("编码"), max_length=40)
    version = models.PositiveIntegerField(_("版本"))
    label = models.CharField(_("名称"), max_length=100)
    definition = models.JSONField(_("定义"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("流程模板（数据定义）")
        verbose_name_plural = _("流程模板（数据定义）")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="unique_workflow_version")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.template_code})"

    @property
    def template_code(self) -> str:
        return f"{self.code}@{self.version}"


class Application(models.Model):
    code = models.SlugField(
        _("编码"),
        max_length=32,
        unique=True,
        help_text=_("小写字母、数字、下划线；也是其事项的渠道编码"),
    )
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True, default="")
    description = models.TextField(_("说明"), blank=True, default="")
    enabled = models.BooleanField(_("启用"), default=True)
    # Empty: city-wide. Otherwise the towns (streets) it is enabled in.
    towns = models.ManyToManyField(
        "areas.Area",
        blank=True,
        related_name="+",
        verbose_name=_("启用的镇街"),
        help_text=_("不选为全市启用"),
    )
    number_prefix = models.CharField(_("编号前缀"), max_length=8)
    # A coded template's code (generic_loop ...) or a WorkflowDefinition's code: new
    # cases take that definition's latest version.
    workflow = models.CharField(_("流程模板"), max_length=64, default="generic_loop")
    owner_rule = models.CharField(
        _("受理单位规则"),
        max_length=24,
        choices=OwnerRule.choices,
        default=OwnerRule.AREA_OR_SUBMITTER,
    )
    owner_unit_kinds = models.JSONField(_("受理单位类型"), default=default_owner_kinds)
    # The question whose answer is an area code (a village list whose choice names are
    # area codes): it places the submission when no area or point is given.
    area_question = models.CharField(
        _("区域题目"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("答案为区域编码的题目名称（如村社选择题），用于确定受理单位"),
    )
    # For CHOSEN_UNIT: the units offered.
    owner_units = models.ManyToManyField(
        "units.Unit", blank=True, related_name="+", verbose_name=_("可选受理单位")
    )
    submitters = models.JSONField(_("可提交人"), default=default_submitters)
    # For Submitter.STAFF: staff of these units (empty: staff of any unit).
    submit_units = models.ManyToManyField(
        "units.Unit", blank=True, related_name="+", verbose_name=_("可提交的单位")
    )
    public = models.BooleanField(
        _("公开"), default=False, help_text=_("经 Open311 公开（按公开规则，须提交人同意）")
    )
    show_in_menu = models.BooleanField(_("显示在菜单"), default=True)
    show_on_station = models.BooleanField(_("显示在联络站扫码页"), default=False)
    show_in_cockpit = models.BooleanField(_("显示在驾驶舱"), default=True)
    current_form = models.ForeignKey(
        "FormVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("当前表单版本"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("应用")
        verbose_name_plural = _("应用")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)


class FormVersion(models.Model):
    """One uploaded XLSForm of an application, as pyxform converted it. Immutable."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="form_versions"
    )
    version = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("表单标题"), max_length=200)
    # The XLSForm's own form_id and version (settings sheet), for the record.
    form_id = models.CharField(max_length=100, blank=True, default="")
    xlsform_version = models.CharField(max_length=100, blank=True, default="")
    definition = models.JSONField(_("表单定义（pyxform JSON）"))
    source = models.BinaryField(_("上传的 XLSForm"))
    source_name = models.CharField(max_length=255, blank=True, default="")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("表单版本")
        verbose_name_plural = _("表单版本")
        ordering = ["application_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["application", "version"], name="unique_form_version")
        ]

    def __str__(self) -> str:
        return f"{self.application.code} v{self.version}"


class Submission(models.Model):
    """The answers of one case opened through an application, with the form version
    they were made with. Answers are keyed by the XLSForm names (flat through groups;
    a repeat is a list of such dicts); media answers hold attachment ids."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="form_submission"
    )
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="submissions"
    )
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    answers = EncryptedJSONField(_("答案"))
    attachments = models.ManyToManyField("attachments.Attachment", blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("应用提交")
        verbose_name_plural = _("应用提交")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["application", "created_at"], name="submission_app_created")
        ]

    def __str__(self) -> str:
        return f"{self.application.code} {self.case_id}"
