"""The pages of applications defined as data: the list of applications a person may
submit to (`/apps/`), an application's submit page (`/apps/<code>/new/`) and its live
check (`/apps/<code>/new/evaluate`).

Views stay thin: who may submit is `core.forms.selectors`, what is valid is
`core.forms.evaluate` (the live check and the submission call the same function, so the
page and the server never disagree), a submission is `core.forms.services`. This file
reads the request and renders; `forms_render` turns the form into the page and back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicloop.core.areas.models import Area, AreaLevel
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.errors import CaseError
from civicloop.core.client_ip import client_ip
from civicloop.core.forms.errors import FormError, FormErrorCode
from civicloop.core.forms.models import Application, OwnerRule, Submitter
from civicloop.core.forms.selectors import (
    application_get,
    application_may_submit,
    applications_for,
    form_of,
)
from civicloop.core.forms.services import submission_create
from civicloop.core.ratelimit import (
    RateLimit,
    RateLimitExceeded,
    rate_limits_hit,
    rate_limits_release,
)
from civicloop.core.units.models import Unit
from civicloop.web import forms_render
from civicloop.web.forms_render import PageState, Posted

# Submissions from one person (and, for citizens, one address) per hour.
SUBMITS_PER_USER_PER_HOUR = 60
SUBMITS_PER_IP_PER_HOUR = 120
# The live check runs on every pause in typing: generous, but bounded.
EVALUATIONS_PER_MINUTE = 240
AREA_FIELD, UNIT_FIELD = "__area", "__unit"


def _lang() -> str:
    return get_language() or "zh-hans"


def _application_for(request: HttpRequest, code: str) -> Application | HttpResponse:
    """The application `code`, if this person may submit to it. Not signed in: to the
    citizens' SMS sign-in when the application takes citizens, else the staff sign-in,
    coming back here. Unknown or disabled: 404; signed in but not allowed: 403."""
    try:
        application = application_get(code)
    except FormError:
        raise Http404("no such application") from None
    if application.current_form is None:
        raise Http404("application has no form")
    user = request.user
    if not user.is_authenticated:
        if Submitter.CITIZEN in set(application.submitters):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('web:citizen_login')}?{query}")
        return redirect_to_login(request.get_full_path())
    if not application_may_submit(user, application):
        raise PermissionDenied
    return application


def _is_citizen(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_citizen", False))


# --------------------------------------------------------------------------- /apps/


@require_GET
def apps_list(request: HttpRequest) -> HttpResponse:
    """The applications shown in the menu that this person may submit to, as cards."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    lang = _lang()
    cards = [
        {
            "application": app,
            "name": app.name_en if lang == "en" and app.name_en else app.name,
        }
        for app in applications_for(request.user)
        if app.show_in_menu  # the others show elsewhere (a station's code page)
    ]
    # Staff also reach each application's submissions (what they may see of them).
    staff = not getattr(request.user, "is_citizen", False)
    return render(request, "web/apps/list.html", {"cards": cards, "staff": staff})


# --------------------------------------------------------------------------- submit page


@dataclass(frozen=True)
class Kept:
    """What a page shown again keeps besides the answers: the routing picked and the
    submission's idempotency key (a second tap opens no second case)."""

    area: str = ""
    unit: str = ""
    submission_key: str = ""


def _routing_choices(application: Application) -> tuple[list[Area], list[Unit]]:
    areas: list[Area] = []
    units: list[Unit] = []
    # A form that asks for the place itself (`area_question`) needs no second select.
    by_area = application.owner_rule in (OwnerRule.AREA, OwnerRule.AREA_OR_SUBMITTER)
    if by_area and not application.area_question:
        towns = list(application.towns.order_by("code"))
        areas = towns or list(Area.objects.filter(level=AreaLevel.TOWN).order_by("code"))
    if application.owner_rule == OwnerRule.CHOSEN_UNIT:
        units = list(application.owner_units.filter(is_active=True).order_by("code"))
    return areas, units


def _render_page(
    request: HttpRequest,
    application: Application,
    *,
    answers: dict[str, Any],
    state: PageState | None = None,
    extra_rows: dict[str, int] | None = None,
    kept: Kept | None = None,
    page_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    assert application.current_form is not None
    form = form_of(application.current_form)
    lang = _lang()
    if state is None:
        state = _evaluate_state(form, answers)
    areas, units = _routing_choices(application)
    errors = dict(state.errors)
    nodes = forms_render.page_tree(form, answers, state=state, lang=lang, extra_rows=extra_rows)
    labels = forms_render.labels_by_key(nodes)
    field_errors = [
        (forms_render.dom_id(key), labels.get(key, ""), message)
        for key, message in errors.items()
        if key not in (AREA_FIELD, UNIT_FIELD)
    ]
    for key, label in ((AREA_FIELD, _("所在镇（街道）")), (UNIT_FIELD, _("受理单位"))):
        if key in errors:
            field_errors.insert(0, (forms_render.dom_id(key), label, errors[key]))
    context = {
        "application": application,
        "app_name": application.name_en
        if lang == "en" and application.name_en
        else application.name,
        "title": form.label(form.title, lang) or application.name,
        "nodes": nodes,
        "areas": areas,
        "units": units,
        "area": kept.area if kept else "",
        "unit": kept.unit if kept else "",
        "area_required": application.owner_rule == OwnerRule.AREA and not application.area_question,
        "area_error": errors.get(AREA_FIELD, ""),
        "unit_error": errors.get(UNIT_FIELD, ""),
        "field_errors": field_errors,
        "page_errors": page_errors or [],
        # Files cannot be kept on a page shown again: say so.
        "files_lost": bool(page_errors) and any(q.is_media for q in form.walk()),
        "submission_key": (kept.submission_key if kept else "") or uuid.uuid4().hex,
        "evaluate_url": reverse("web:app_evaluate", args=[application.code]),
    }
    return render(request, "web/apps/submit.html", context, status=status)


def _evaluate_state(form: Any, answers: dict[str, Any], *, strict: bool = False) -> PageState:
    """What the form's rules say of these answers, for the page (never refusing)."""
    from civicloop.core.forms.evaluate import evaluate

    try:
        result = evaluate(form, answers, now=timezone.now(), strict=strict)
    except FormError:
        return PageState()
    return PageState(
        relevant=result.relevant,
        values=result.values,
        errors=result.errors if strict else {},
        choices=result.choices,
    )


def _submit_limits(request: HttpRequest) -> list[RateLimit]:
    limits = [RateLimit("apps-submit-user", str(request.user.pk), SUBMITS_PER_USER_PER_HOUR, 3600)]
    ip = client_ip(request)
    if ip and _is_citizen(request):
        limits.append(RateLimit("apps-submit-ip", ip, SUBMITS_PER_IP_PER_HOUR, 3600))
    return limits


@require_http_methods(["GET", "POST"])
def app_submit(request: HttpRequest, code: str) -> HttpResponse:
    """The submit page. A refusal shows the page again with every error at its field
    and a summary at the top, every answer kept (files must be chosen again); success
    goes to the new case's page."""
    application = _application_for(request, code)
    if isinstance(application, HttpResponse):
        return application
    assert application.current_form is not None
    form = form_of(application.current_form)
    if request.method == "GET":
        return _render_page(request, application, answers=forms_render.initial_answers(form))

    posted: Posted = forms_render.answers_from_post(form, request.POST, request.FILES)
    kept = Kept(
        area=request.POST.get("area", "")[:32],
        unit=request.POST.get("unit", "")[:12],
        submission_key=request.POST.get("submission_key", "")[:64],
    )
    if posted.add or posted.remove:
        # The repeat buttons without the page's script: the same page, one row more/less.
        if posted.remove:
            forms_render.remove_row(posted.answers, posted.remove)
        extra = {posted.add: 1} if posted.add else {}
        return _render_page(
            request, application, answers=posted.answers, extra_rows=extra, kept=kept
        )

    limits = _submit_limits(request)
    try:
        rate_limits_hit(limits)
    except RateLimitExceeded as refused:
        response = _render_page(
            request,
            application,
            answers=posted.answers,
            kept=kept,
            page_errors=[refused.message],
            status=refused.status,
        )
        response["Retry-After"] = str(refused.retry_after)
        return response

    area = Area.objects.filter(code=kept.area).first() if kept.area else None
    unit = (
        Unit.objects.filter(pk=kept.unit, is_active=True).first() if kept.unit.isdigit() else None
    )
    try:
        case = submission_create(
            application=application,
            answers=forms_render.drop_empty_rows(posted.answers),
            files=posted.files,
            submitter=request.user,  # type: ignore[arg-type]
            area=area,
            unit=unit,
            source="web",
            submission_key=kept.submission_key or None,
        )
    except FormError as refused:
        # Only stored submissions use up the hour.
        rate_limits_release(limits)
        state = _evaluate_state(form, posted.answers)
        state.errors = dict(refused.errors)
        if refused.field == "unit":
            state.errors[UNIT_FIELD] = refused.message
        elif refused.field in ("area", "lat") or refused.code == FormErrorCode.UNROUTABLE:
            state.errors[AREA_FIELD] = refused.message
        return _render_page(
            request,
            application,
            answers=posted.answers,
            state=state,
            kept=kept,
            page_errors=[refused.message],
            status=refused.status,
        )
    except (AttachmentError, CaseError) as refused:
        rate_limits_release(limits)
        return _render_page(
            request,
            application,
            answers=posted.answers,
            kept=kept,
            page_errors=[refused.message],
            status=refused.status,
        )
    messages.success(request, _("已提交，事项编号 %(number)s。") % {"number": case.number})
    if _is_citizen(request):
        return redirect("web:citizen_case", number=case.number)
    if cases_visible_to(request.user).filter(pk=case.pk).exists():
        return redirect("web:case_detail", number=case.number)
    return redirect("web:apps")


@require_POST
def app_evaluate(request: HttpRequest, code: str) -> HttpResponse:
    """The page's live check: the posted page's answers through the same `evaluate` the
    submission goes through (not strict: an empty required question is not yet an
    error), as JSON {relevant, values, errors, choices} keyed by field key."""
    application = _application_for(request, code)
    if isinstance(application, HttpResponse):
        return JsonResponse({"error": _("请先登录。")}, status=401)
    ident = request.session.session_key or str(request.user.pk)
    limits = [RateLimit("apps-evaluate", ident, EVALUATIONS_PER_MINUTE, 60)]
    ip = client_ip(request)
    if ip:
        limits.append(RateLimit("apps-evaluate-ip", ip, EVALUATIONS_PER_MINUTE * 2, 60))
    try:
        rate_limits_hit(limits)
    except RateLimitExceeded as refused:
        response = JsonResponse({"error": refused.message}, status=429)
        response["Retry-After"] = str(refused.retry_after)
        return response
    assert application.current_form is not None
    form = form_of(application.current_form)
    posted = forms_render.answers_from_post(form, request.POST, media_placeholders=True)
    from civicloop.core.forms.evaluate import evaluate

    try:
        result = evaluate(form, posted.answers, now=timezone.now(), strict=False)
    except FormError as refused:
        return JsonResponse({"error": refused.message}, status=422)
    return JsonResponse(
        {
            "relevant": result.relevant,
            "values": result.values,
            "errors": result.errors,
            "choices": result.choices,
        }
    )
