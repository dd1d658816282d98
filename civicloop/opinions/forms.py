"""Forms of the 民意 pages: the citizen's opinion and tracking forms and the deputy's
inbox actions. Forms parse; the services decide (they check everything again)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.cases.models import Grade, Rating
from civicloop.opinions.services import BODY_MAX_CHARS, CHANNEL


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


def category_choices() -> list[tuple[str, Any]]:
    return [("", _("请选择")), *registry.channel(CHANNEL).categories]


class OpinionSubmitForm(forms.Form):
    """The code page form. `submission_key` is new at each fresh render and kept when
    the form is shown again with an error, so a second tap never makes a second case."""

    category = forms.ChoiceField(label=_("问题类别"), required=True, choices=())
    body = forms.CharField(
        label=_("反映内容"),
        max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 6, "maxlength": BODY_MAX_CHARS, "placeholder": _("请描述具体情况")}
        ),
        error_messages={
            "required": _("请填写您要反映的内容。"),
            "max_length": _("内容最多 %(limit_value)d 字，请精简后再提交。"),
        },
    )
    photos = MultipleFileField(
        label=_("照片（最多9张，可选）"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )
    voice = forms.FileField(
        label=_("语音（可选）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*"}),
    )
    lat = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )
    lng = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput
    )
    address = forms.CharField(
        label=_("地点（可选）"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：泽国镇牧屿村村口")}),
    )
    contact_name = forms.CharField(label=_("称呼（可选）"), required=False, max_length=50)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("请填写手机号，用于接收验证码和办理结果。")},
    )
    code = forms.CharField(
        label=_("短信验证码"),
        required=False,
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}
        ),
    )
    anonymous = forms.BooleanField(
        label=_("对办理单位匿名（代表和联络站仍可看到您的联系方式）"), required=False
    )
    publish_consent = forms.BooleanField(
        label=_("同意公开反映内容和大致位置（不含姓名、电话）"), required=False
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = category_choices()
        field.error_messages["required"] = _("请选择问题类别。")


class TrackStartForm(forms.Form):
    number = forms.CharField(
        label=_("事项编号"),
        max_length=32,
        widget=forms.TextInput(attrs={"placeholder": "MY-2026-000123", "autocapitalize": "off"}),
    )
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class TrackCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("短信验证码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("请输入6位数字验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class CitizenRatingForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("您对办理结果是否满意"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意、基本满意或不满意。")},
    )
    comment = forms.CharField(
        label=_("意见（可选）"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class InboxActionForm(forms.Form):
    """One inbox action; only the fields the action uses are read by the view."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea)
    unit = forms.IntegerField(required=False, min_value=1)
    grade = forms.ChoiceField(required=False, choices=[("", ""), *Grade.choices])
    rating = forms.ChoiceField(required=False, choices=[("", ""), *Rating.choices])
    merge_into = forms.CharField(required=False, max_length=32)
