"""Forms of the web shell: the case list filters and one form per workflow action.

An action form has fields only for what the action requires (`Action.requires`); the
service (`transition`) still checks everything, so a form never decides what is allowed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.cases.models import Grade, Rating
from civicloop.core.cases.workflow import Action, Requires
from civicloop.core.units.models import Unit, unit_kind_choices

UnitChoices = list[tuple[str, list[tuple[int, str]]]]


def unit_choices_grouped() -> UnitChoices:
    """Active units for a <select>, grouped by kind in the order of the unit kinds (one query)."""
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for pk, name, kind in Unit.objects.filter(is_active=True).values_list("pk", "name", "kind"):
        by_kind.setdefault(kind, []).append((pk, name))
    return [
        (str(label), by_kind[value]) for value, label in unit_kind_choices() if value in by_kind
    ]


class MultiplePhotoInput(forms.FileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos under one name; clean returns a list of uploads."""

    widget = MultiplePhotoInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词或编号"), required=False, max_length=100)
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    state = forms.ChoiceField(label=_("状态"), required=False)
    overdue = forms.BooleanField(label=_("只看已超期"), required=False)
    mine = forms.BooleanField(label=_("只看本单位办理"), required=False)
    # The cockpit's drill-down: not on the form, carried in the link and shown as a line
    # of what the list is narrowed to.
    area = forms.CharField(label=_("区域"), required=False, max_length=32)
    category = forms.CharField(label=_("类别"), required=False, max_length=64)
    created_from = forms.DateField(label=_("受理起"), required=False)
    created_to = forms.DateField(label=_("受理止"), required=False)
    due_soon = forms.BooleanField(label=_("一天内到期"), required=False)
    owner_unit = forms.CharField(label=_("受理单位"), required=False, max_length=64)
    assignee_unit = forms.CharField(label=_("承办单位"), required=False, max_length=64)
    person = forms.CharField(label=_("代表"), required=False, max_length=64)

    DRILL_FIELDS = (
        "area",
        "category",
        "created_from",
        "created_to",
        "due_soon",
        "owner_unit",
        "assignee_unit",
        "person",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel_field = self.fields["channel"]
        state_field = self.fields["state"]
        assert isinstance(channel_field, forms.ChoiceField)
        assert isinstance(state_field, forms.ChoiceField)
        channel_field.choices = [
            ("", _("全部渠道")),
            *((c.code, c.name) for c in registry.channels()),
        ]
        states: dict[str, Any] = {}
        for template in registry.workflows():
            for state in template.states:
                states.setdefault(state.code, state.label)
        state_field.choices = [
            ("", _("全部状态")),
            ("open", _("未办结")),
            ("closed", _("已办结")),
            *states.items(),
        ]


class CaseActionForm(forms.Form):
    """The form of one action on one case. Prefixed by the action code, so several
    forms live on one page; `idempotency_key` is new at each render, so a second tap on
    the same rendered form is recognised by `transition` and does nothing."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self,
        action: Action,
        *args: Any,
        unit_choices: UnitChoices | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", action.code)
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.action = action
        req = action.requires
        if Requires.UNIT in req:
            self.fields["unit"] = forms.TypedChoiceField(
                label=_("办理单位"),
                coerce=int,
                required=False,
                choices=[("", _("请选择单位")), *(unit_choices or [])],
            )
        if Requires.GRADE in req:
            self.fields["grade"] = forms.ChoiceField(
                label=_("分级"), choices=Grade.choices, required=False, widget=forms.RadioSelect
            )
        if Requires.RATING in req:
            self.fields["rating"] = forms.ChoiceField(
                label=_("评价"), choices=Rating.choices, required=False, widget=forms.RadioSelect
            )
        if Requires.DUE_AT in req:
            self.fields["due_at"] = forms.DateTimeField(
                label=_("申请延期至"),
                required=False,
                input_formats=["%Y-%m-%dT%H:%M"],
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
                ),
            )
        if Requires.MERGE_INTO in req:
            self.fields["merge_into"] = forms.CharField(
                label=_("合并到事项编号"), required=False, max_length=32
            )
        if Requires.NOTE in req or Requires.RATING in req:
            self.fields["note"] = forms.CharField(
                label=_("评价意见") if Requires.RATING in req else _("说明"),
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        if action.takes_photos:
            self.fields["photos"] = MultiplePhotoField(
                label=_("现场照片（可选）"),
                required=False,
                widget=MultiplePhotoInput(attrs={"accept": "image/*"}),
            )

    @property
    def has_inputs(self) -> bool:
        return len(self.fields) > 1

    def mark_error(self, field: str, message: str) -> None:
        """Attach a refusal from the service to its field (or to the form)."""
        self.add_error(field if field in self.fields else None, message)


class StaffLoginForm(AuthenticationForm):
    """Django's sign-in form, saying why when the account's own limit refused the try
    (`accounts.login_limits`: wait, or locked until unlocked) instead of "wrong password"."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            refused = getattr(self.request, "account_login_refusal", None)
            if refused is not None:
                raise forms.ValidationError(refused.message, code=str(refused.code)) from None
            raise
