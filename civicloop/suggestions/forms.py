"""The forms of the 代表建议 pages (parsing only; the services check the rules)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from civicloop.core.cases.models import Rating
from civicloop.suggestions.hooks import SUGGESTION
from civicloop.suggestions.models import AnswerCategory, ContactMethod, SessionKind


class DraftForm(forms.Form):
    title = forms.CharField(label=_("建议标题"), max_length=200)
    body = forms.CharField(label=_("建议内容"), widget=forms.Textarea(attrs={"rows": 8}))
    category = forms.ChoiceField(
        label=_("建议类别"),
        choices=[("", _("请选择")), *list(SUGGESTION.categories)],
        required=False,
    )
    session_kind = forms.ChoiceField(
        label=_("提出时间"),
        choices=SessionKind.choices,
        initial=SessionKind.INTERIM,
        widget=forms.RadioSelect,
    )
    cosigners = forms.TypedMultipleChoiceField(
        label=_("附议代表"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    opinions = forms.MultipleChoiceField(
        label=_("来自民意事项"), required=False, widget=forms.CheckboxSelectMultiple
    )
    publish_consent = forms.BooleanField(label=_("同意公开答复内容"), required=False)

    def __init__(
        self,
        *args: object,
        cosigner_choices: list[tuple[int, str]],
        opinion_choices: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["cosigners"].choices = cosigner_choices  # type: ignore[attr-defined]
        self.fields["opinions"].choices = opinion_choices  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=4000)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("通过")), ("return", _("退回"))])
    note = forms.CharField(required=False, max_length=4000)


class AssignForm(forms.Form):
    lead = forms.IntegerField(required=False)
    assisting = forms.TypedMultipleChoiceField(coerce=int, required=False)
    hard = forms.BooleanField(required=False)
    note = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args: object, unit_ids: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["assisting"].choices = [(i, str(i)) for i in unit_ids]  # type: ignore[attr-defined]


class KeyForm(forms.Form):
    leader = forms.CharField(required=False, max_length=100)


class ViewsForm(forms.Form):
    unit = forms.IntegerField()
    views = forms.CharField(required=False, max_length=8000)


class ContactForm(forms.Form):
    method = forms.ChoiceField(choices=ContactMethod.choices)
    contacted_on = forms.DateField()
    note = forms.CharField(required=False, max_length=4000)


class AnswerForm(forms.Form):
    category = forms.ChoiceField(choices=[("", ""), *list(AnswerCategory.choices)], required=False)
    text = forms.CharField(required=False, max_length=20000)


class EvaluateForm(forms.Form):
    rating = forms.ChoiceField(choices=[("", ""), *list(Rating.choices)], required=False)
    comment = forms.CharField(required=False, max_length=4000)


class CosignForm(forms.Form):
    agree = forms.ChoiceField(choices=[("yes", _("同意附议")), ("no", _("谢绝"))])


class ConsentForm(forms.Form):
    consent = forms.BooleanField(required=False)


class UncosignForm(forms.Form):
    cosigner = forms.IntegerField()
