"""Citizens: sign in with a phone and a 6-digit SMS code, follow their own cases.

A citizen sees the cases they submitted and those sent from their verified phone (by
Open311, a QR-code form, a hotline clerk), never anyone else's, and may withdraw one
that is still open.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from civicloop.core import registry
from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.services import (
    citizen_for_phone,
    sms_code_send,
    sms_code_verify,
)
from civicloop.core.cases import labels
from civicloop.core.cases.access import access_case_by_number, cases_visible_to
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.selectors import case_timeline
from civicloop.core.cases.services import actions_available, transition
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import refusal_show

SESSION_PHONE = "citizen_code_phone"
SESSION_NEXT = "citizen_next"


def _next_kept(request: HttpRequest) -> None:
    """Remember a safe `?next=` (an application's submit page) for after the sign-in."""
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        request.session[SESSION_NEXT] = target


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("短信验证码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": gettext_lazy("请输入6位数字验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


@require_http_methods(["GET", "POST"])
def citizen_login(request: HttpRequest) -> HttpResponse:
    """Step 1: the phone gets a code (rate-limited). Step 2: the code signs the citizen in."""
    _next_kept(request)
    phone = request.session.get(SESSION_PHONE, "")
    phone_form = PhoneForm(initial={"phone": phone})
    code_form = CodeForm()
    if request.method == "POST" and "send" in request.POST:
        phone_form = PhoneForm(request.POST)
        if phone_form.is_valid():
            try:
                phone = sms_code_send(phone=phone_form.cleaned_data["phone"], ip=client_ip(request))
            except AccountError as refused:
                refusal_show(request, refused, form=phone_form)
            else:
                request.session[SESSION_PHONE] = phone
                messages.success(request, _("验证码已发送，5分钟内有效。"))
                return redirect("web:citizen_login")
    elif request.method == "POST":
        code_form = CodeForm(request.POST)
        if not phone:
            messages.error(request, _("请先获取验证码。"))
        elif code_form.is_valid():
            try:
                verified = sms_code_verify(phone=phone, code=code_form.cleaned_data["code"])
            except AccountError as refused:
                refusal_show(request, refused, form=code_form)
            else:
                user = citizen_for_phone(phone=verified)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session.pop(SESSION_PHONE, None)
                target = request.session.pop(SESSION_NEXT, "")
                return redirect(target or "web:citizen_cases")
    return render(
        request,
        "web/citizen_login.html",
        {"phone_form": phone_form, "code_form": code_form, "phone": phone},
        status=400 if (phone_form.errors or code_form.errors) else 200,
    )


def _citizen_required(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated or not getattr(request.user, "is_citizen", False):
        return redirect("web:citizen_login")
    return None


@require_http_methods(["GET"])
def citizen_cases(request: HttpRequest) -> HttpResponse:
    if (sign_in := _citizen_required(request)) is not None:
        return sign_in
    cases = (
        cases_visible_to(request.user)
        .select_related("holder_unit", "owner_unit")
        .defer("contact_name", "contact_phone", "data")
        .order_by("-created_at")[:100]
    )
    return render(request, "web/citizen_cases.html", {"cases": cases})


@require_http_methods(["GET"])
def citizen_case(request: HttpRequest, number: str) -> HttpResponse:
    if (sign_in := _citizen_required(request)) is not None:
        return sign_in
    case = access_case_by_number(request.user, number)
    template = registry.workflow(case.workflow)
    # The citizen sees the steps the template marks public, never internal ones.
    timeline = [
        (entry, labels.action_label(case.workflow, entry.action))
        for entry in case_timeline(case=case)
        if template.is_public_entry(entry.action)
    ]
    can_withdraw = bool(template.withdraw_action) and any(
        a.code == template.withdraw_action for a in actions_available(case=case, user=request.user)
    )
    return render(
        request,
        "web/citizen_case.html",
        {"case": case, "timeline": timeline, "can_withdraw": can_withdraw},
    )


@require_POST
def citizen_withdraw(request: HttpRequest, number: str) -> HttpResponse:
    if (sign_in := _citizen_required(request)) is not None:
        return sign_in
    case = access_case_by_number(request.user, number)
    withdraw = registry.workflow(case.workflow).withdraw_action
    if not withdraw:
        raise Http404("this channel offers no withdrawal")
    try:
        transition(
            case=case,
            action=withdraw,
            actor=request.user,  # type: ignore[arg-type]
            note=request.POST.get("note", ""),
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except CaseError as error:
        refusal_show(request, error)
    else:
        messages.success(request, _("已撤回。"))
    return redirect("web:citizen_case", number=case.number)
