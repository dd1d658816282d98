"""Forms of the 民生实事 pages. Forms parse; the services decide (they check again)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.core.units.models import Unit, UnitKind
from civicloop.projects.models import MajorityBase, VoteMode
from civicloop.projects.services import BODY_MAX, TITLE_MAX


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; clean returns a list of uploads (maybe empty)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("项目名称"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("项目内容"),
        max_length=BODY_MAX,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": _("希望办什么实事、为什么、惠及哪些群众")}
        ),
    )
    location = forms.CharField(label=_("地点（可选）"), max_length=100, required=False)
    contact_name = forms.CharField(label=_("您的称呼（可选）"), max_length=50, required=False)
    contact_phone = forms.RegexField(
        label=_("联系电话（可选，不公开）"),
        regex=r"^1\d{10}$",
        required=False,
        error_messages={"invalid": _("请输入正确的11位手机号码。")},
    )


def unit_choices() -> list[tuple[str, str]]:
    units = Unit.objects.filter(
        is_active=True, kind__in=[UnitKind.DEPARTMENT, UnitKind.TOWN_OFFICE]
    ).order_by("kind", "code")
    return [("", str(_("请选择"))), *((str(u.pk), u.name) for u in units)]


class StaffCandidateForm(ProposalForm):
    """The office adds a candidate (from a deputy, a department, or promoted cases)."""

    source = forms.ChoiceField(
        label=_("来源"),
        choices=[
            ("deputy", _("代表提出")),
            ("department", _("部门申报")),
            ("promoted", _("由民意或建议转入")),
        ],
    )
    from_numbers = forms.CharField(
        label=_("来源事项编号（可选，多个用空格分隔）"), max_length=300, required=False
    )
    budget_wan = forms.DecimalField(label=_("预算（万元）"), min_value=0, required=False)
    lead_unit = forms.ChoiceField(label=_("牵头单位"), required=False, choices=())
    timeline = forms.CharField(label=_("实施周期"), max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].choices = unit_choices()  # type: ignore[attr-defined]


class CandidateEditForm(forms.Form):
    budget_wan = forms.DecimalField(label=_("预算（万元）"), min_value=0, required=False)
    lead_unit = forms.ChoiceField(label=_("牵头单位"), required=False, choices=())
    timeline = forms.CharField(label=_("实施周期"), max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].choices = unit_choices()  # type: ignore[attr-defined]


class CycleCreateForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("名称"), max_length=120, required=False)
    places = forms.IntegerField(label=_("确定项目数"), min_value=1, max_value=100, initial=10)
    mode = forms.ChoiceField(label=_("票决方式"), choices=VoteMode.choices)
    max_choices = forms.IntegerField(
        label=_("每票限选项数（差额选择时，0为确定项目数）"), min_value=0, initial=0, required=False
    )
    majority_base = forms.ChoiceField(label=_("当选条件"), choices=MajorityBase.choices)
    quorum_percent = forms.IntegerField(
        label=_("法定人数（超过代表总数的百分比）"), min_value=0, max_value=99, initial=50
    )


class ReceiptForm(forms.Form):
    receipt = forms.CharField(
        label=_("回执码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "XXXX-XXXX-XXXX-XXXX"}),
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("节点名称"), max_length=120)
    due_date = forms.DateField(
        label=_("计划完成日期"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ProgressForm(forms.Form):
    milestone = forms.IntegerField(widget=forms.HiddenInput)
    percent = forms.IntegerField(label=_("总体完成进度（%）"), min_value=0, max_value=100)
    spent_wan = forms.DecimalField(label=_("累计完成投资（万元）"), min_value=0)
    note = forms.CharField(
        label=_("进展情况"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = MultipleFileField(
        label=_("现场照片（可选）"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )


class DelayForm(forms.Form):
    milestone = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("延期原因"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    expected_date = forms.DateField(
        label=_("预计完成日期"), widget=forms.DateInput(attrs={"type": "date"})
    )


class CompleteForm(forms.Form):
    milestone = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("完成情况"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class VisitForm(forms.Form):
    group = forms.IntegerField(widget=forms.HiddenInput)
    visited_on = forms.DateField(
        label=_("视察日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    summary = forms.CharField(
        label=_("视察情况"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    findings = forms.CharField(
        label=_("发现的问题（每行一条，将交牵头单位整改）"),
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GroupForm(forms.Form):
    name = forms.CharField(label=_("小组名称"), max_length=100, required=False)
    members = forms.CharField(label=_("成员账号（用空格分隔，第一位为组长）"), max_length=500)
