"""The staff publish form. Forms parse; `services.item_publish` decides (it checks
everything again, files by content)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.bulletins.models import SECTION_CATEGORIES, Category, Section
from civicloop.bulletins.services import BODY_MAX, SUMMARY_MAX, TITLE_MAX


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


def category_choices() -> list[tuple[Any, Any]]:
    """Categories grouped by section, as the select shows them."""
    return [
        (Section(section).label, [(c, Category(c).label) for c in codes])
        for section, codes in SECTION_CATEGORIES.items()
    ]


class ItemPublishForm(forms.Form):
    section = forms.ChoiceField(label=_("栏目"), choices=Section.choices)
    category = forms.ChoiceField(label=_("分类"), choices=category_choices)
    title = forms.CharField(label=_("标题"), max_length=TITLE_MAX)
    summary = forms.CharField(
        label=_("摘要（可选）"),
        max_length=SUMMARY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body = forms.CharField(
        label=_("正文"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 12})
    )
    tags = forms.CharField(
        label=_("标签（用逗号或空格分隔，可选）"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("如：预算 民生 乡村振兴")}),
    )
    required = forms.BooleanField(label=_("必读/必学（代表须完成）"), required=False)
    due_date = forms.DateField(
        label=_("完成期限（必读时可选）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    images = MultipleFileField(
        label=_("图片（JPEG、PNG、WebP，最多9张）"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )
    documents = MultipleFileField(
        label=_("PDF 文档（最多5个）"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    videos = MultipleFileField(
        label=_("视频（MP4、WebM，最多2个）"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "video/mp4,video/webm"}),
    )
