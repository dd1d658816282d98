"""Forms of the 参与式预算 pages. Forms parse; the services decide (they check again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("项目名称"), max_length=200)
    description = forms.CharField(
        label=_("项目内容"),
        max_length=4000,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": _("建设什么、为什么、惠及哪些群众")}
        ),
    )
    cost = forms.IntegerField(
        label=_("估算造价（元）"),
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    category = forms.CharField(label=_("类别（可选）"), max_length=50, required=False)
    location = forms.CharField(label=_("地点（可选）"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("联系人（可选）"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("手机号（可选，加密保存，不公开）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class FrameUploadForm(forms.Form):
    file = forms.FileField(label=_("抽样框 CSV 文件（UTF-8）"))


class DrawForm(forms.Form):
    seed = forms.IntegerField(label=_("随机种子"), min_value=1)
    reason = forms.CharField(
        label=_("重新抽样理由（首次抽样不填）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InviteForm(forms.Form):
    when = forms.CharField(label=_("恳谈会时间"), max_length=20)
    place = forms.CharField(label=_("恳谈会地点"), max_length=30)


class PanelSettingsForm(forms.Form):
    panel_size = forms.IntegerField(
        label=_("代表人数"), min_value=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    panel_reserve = forms.IntegerField(
        label=_("候补人数"), min_value=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    designated_share = forms.IntegerField(
        label=_("指定代表比例（%）"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    panel_features = forms.CharField(
        label=_("分层字段（抽样框的列名，用逗号分隔）"), max_length=200, required=False
    )

    def features(self) -> list[str]:
        raw = self.cleaned_data.get("panel_features") or ""
        return [f.strip() for f in raw.replace("，", ",").split(",") if f.strip()]


class DesignatedForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    role = forms.CharField(label=_("身份（如人大代表、村干部）"), max_length=50, required=False)


class PlenaryQuestionForm(forms.Form):
    text = forms.CharField(
        label=_("小组提出的问题"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    group = forms.IntegerField(required=False, widget=forms.HiddenInput)
    project = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PlenaryAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("答复"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    answered_by = forms.CharField(label=_("答复人（专家或部门）"), max_length=100)
