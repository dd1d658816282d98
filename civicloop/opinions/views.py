"""Pages of the 民意 loop's write side: the citizen's form behind a code, the tracking
page, the deputy's inbox and the 代表工委's figures. Views parse, call one service or
selector, and render."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicloop.core import registry
from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.models import User
from civicloop.core.accounts.responses import sms_code_json
from civicloop.core.accounts.services import sms_code_send
from civicloop.core.attachments.models import Attachment
from civicloop.core.cases.access import may_see_contact
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.labels import action_label, state_label
from civicloop.core.cases.models import Case, Grade, Rating, TimelineEntry
from civicloop.core.cases.services import actions_available
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import refusal_show
from civicloop.opinions.codes import CodeTarget, code_resolve
from civicloop.opinions.errors import OpinionError
from civicloop.opinions.forms import (
    CitizenRatingForm,
    InboxActionForm,
    OpinionSubmitForm,
    TrackCodeForm,
    TrackStartForm,
)
from civicloop.opinions.models import Code
from civicloop.opinions.routing import routing_suggest
from civicloop.opinions.selectors_inbox import (
    case_public_timeline,
    dispatch_unit_choices,
    inbox_case_get,
    inbox_for,
    inbox_station_unit_ids,
)
from civicloop.opinions.services import (
    FOLLOW_UP_ACTION,
    INBOX_ACTIONS,
    SUBMIT_PURPOSE,
    OpinionSubmission,
    opinion_act,
    opinion_awaits_follow_up,
    opinion_citizen_rate,
    opinion_follow_up_record,
    opinion_submit,
    opinion_track_code_send,
    opinion_track_verify,
)
from civicloop.opinions.stats import opinion_stats, stats_scope_for

SESSION_SUBMITTED = "opinions_submitted"
SESSION_TRACK = "opinions_track"
SESSION_TRACKED = "opinions_tracked"


def _remember(request: HttpRequest, key: str, number: str, keep: int = 20) -> None:
    numbers = [n for n in request.session.get(key, []) if n != number]
    request.session[key] = [*numbers, number][-keep:]


def _target_or_404(slug: str) -> CodeTarget:
    try:
        return code_resolve(slug)
    except Code.DoesNotExist:
        raise Http404("no such code") from None


# --------------------------------------------------------------------------- submit


def _submit_page(
    request: HttpRequest, *, slug: str, target: CodeTarget, form: OpinionSubmitForm, status: int
) -> HttpResponse:
    return render(
        request,
        "opinions/citizen/submit.html",
        {"slug": slug, "target": target, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def opinion_submit_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The phone-first form behind a deputy's or station's code."""
    target = _target_or_404(slug)
    if request.method == "GET":
        return _submit_page(request, slug=slug, target=target, form=OpinionSubmitForm(), status=200)
    form = OpinionSubmitForm(request.POST, request.FILES)
    if "send_code" in request.POST:
        # Without JavaScript the "获取验证码" button posts the whole form here: send the
        # code and show the form again with what was typed (files must be chosen again).
        form.is_valid()
        form.errors.clear()
        try:
            sms_code_send(
                phone=request.POST.get("phone", ""), ip=client_ip(request), purpose=SUBMIT_PURPOSE
            )
        except AccountError as refused:
            refusal_show(request, refused, form=form)
            return _submit_page(request, slug=slug, target=target, form=form, status=400)
        messages.success(request, _("验证码已发送，5分钟内有效。照片和录音请重新选择。"))
        return _submit_page(request, slug=slug, target=target, form=form, status=200)
    if not form.is_valid():
        return _submit_page(request, slug=slug, target=target, form=form, status=400)
    data = form.cleaned_data
    voice = data.get("voice")
    submission = OpinionSubmission(
        slug=slug,
        body=data["body"],
        phone=data["phone"],
        code=data.get("code") or "",
        submission_key=data["submission_key"],
        category=data["category"],
        contact_name=data.get("contact_name") or "",
        anonymous=bool(data.get("anonymous")),
        publish_consent=bool(data.get("publish_consent")),
        lat=data.get("lat"),
        lng=data.get("lng"),
        address=data.get("address") or "",
        photos=data.get("photos") or [],
        voice=[voice] if voice else [],
        ip=client_ip(request),
    )
    try:
        case = opinion_submit(submission=submission)
    except OpinionError as refused:
        if refused.status == 429:
            response = render(
                request,
                "opinions/citizen/too_many.html",
                {"message": refused.message, "slug": slug, "target": target},
                status=429,
            )
            response["Retry-After"] = str(refused.retry_after)
            return response
        refusal_show(request, refused, form=form)
        return _submit_page(request, slug=slug, target=target, form=form, status=400)
    _remember(request, SESSION_SUBMITTED, case.number)
    return redirect("opinions:submitted", number=case.number)


@require_POST
def opinion_code_send_view(request: HttpRequest, slug: str) -> JsonResponse:
    """The "获取验证码" button (JavaScript): issue a code to the phone, within limits."""
    _target_or_404(slug)
    return sms_code_json(request, purpose=SUBMIT_PURPOSE)


@require_GET
def opinion_submitted_view(request: HttpRequest, number: str) -> HttpResponse:
    """The receipt, shown only to the browser that sent the opinion."""
    if number not in request.session.get(SESSION_SUBMITTED, []):
        raise Http404("not yours")
    case = Case.objects.select_related("owner_unit", "holder_user").get(number=number)
    return render(request, "opinions/citizen/submitted.html", {"case": case})


# --------------------------------------------------------------------------- tracking


@require_http_methods(["GET", "POST"])
def track_start(request: HttpRequest) -> HttpResponse:
    """Number + phone → an SMS code → the case's progress."""
    pending: dict[str, str] = request.session.get(SESSION_TRACK, {})
    start = TrackStartForm(initial={"number": request.GET.get("number", "")})
    code_form = TrackCodeForm()
    status = 200
    if request.method == "POST" and "send" in request.POST:
        start = TrackStartForm(request.POST)
        if start.is_valid():
            number = start.cleaned_data["number"].strip().upper()
            try:
                opinion_track_code_send(
                    number=number, phone=start.cleaned_data["phone"], ip=client_ip(request)
                )
            except OpinionError as refused:
                start.add_error("phone", refused.message)
                status = refused.status
            else:
                request.session[SESSION_TRACK] = {
                    "number": number,
                    "phone": start.cleaned_data["phone"],
                }
                # The same answer whether or not the number and phone belong together.
                messages.success(request, _("如编号与手机号一致，验证码已发送，5分钟内有效。"))
                return redirect("opinions:track")
        else:
            status = 400
    elif request.method == "POST":
        code_form = TrackCodeForm(request.POST)
        if not pending:
            messages.error(request, _("请先填写编号和手机号获取验证码。"))
            return redirect("opinions:track")
        if code_form.is_valid():
            try:
                case = opinion_track_verify(
                    number=pending["number"],
                    phone=pending["phone"],
                    code=code_form.cleaned_data["code"],
                )
            except OpinionError as refused:
                code_form.add_error("code", refused.message)
            else:
                request.session.pop(SESSION_TRACK, None)
                _remember(request, SESSION_TRACKED, case.number)
                return redirect("opinions:track_case", number=case.number)
        status = 400
    return render(
        request,
        "opinions/citizen/track.html",
        {"start": start, "code_form": code_form, "pending": pending},
        status=status,
    )


def _tracked_case(request: HttpRequest, number: str) -> Case | None:
    if number not in request.session.get(SESSION_TRACKED, []):
        return None
    return (
        Case.objects.filter(number=number, channel="opinion")
        .select_related("owner_unit", "holder_unit")
        .first()
    )


@require_http_methods(["GET", "POST"])
def track_case(request: HttpRequest, number: str) -> HttpResponse:
    case = _tracked_case(request, number)
    if case is None:
        return redirect(f"/track/?number={number}")
    form = CitizenRatingForm()
    status = 200
    if request.method == "POST":
        form = CitizenRatingForm(request.POST)
        if form.is_valid():
            try:
                opinion_citizen_rate(
                    case=case,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except OpinionError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("感谢您的评价。"))
                return redirect("opinions:track_case", number=case.number)
        status = 400
    citizen_rating = case.data.get("citizen_rating")
    return render(
        request,
        "opinions/citizen/track_case.html",
        {
            "case": case,
            "state_label": state_label(case.workflow, case.state),
            "steps": case_public_timeline(case=case),
            "form": form,
            "citizen_rating": citizen_rating,
            "citizen_rating_label": (
                Rating(citizen_rating["rating"]).label if citizen_rating else ""
            ),
            "may_rate": case.state == "closed" and not citizen_rating,
        },
        status=status,
    )


# --------------------------------------------------------------------------- inbox


def _no_inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "opinions/staff/no_inbox.html", status=403)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The deputy's (and the station clerk's) inbox of opinions."""
    stations = inbox_station_unit_ids(user=request.user)
    mine = request.GET.get("mine") == "1"
    sections = inbox_for(user=request.user, mine=mine)
    if not stations and not any(s.count for s in sections):
        return _no_inbox(request)
    return render(
        request,
        "opinions/staff/inbox.html",
        {"sections": sections, "mine": mine, "is_station_staff": bool(stations)},
    )


def _inbox_case_page(
    request: HttpRequest,
    case: Case,
    *,
    error_action: str = "",
    error: str = "",
    status: int = 200,
    posted: dict[str, Any] | None = None,
) -> HttpResponse:
    available = {a.code: a for a in actions_available(case=case, user=request.user)}
    actions = [available[code] for code in INBOX_ACTIONS if code in available]
    suggestion = routing_suggest(case=case) if {"dispatch", "transfer"} & set(available) else None
    entries = list(
        TimelineEntry.objects.filter(case=case)
        .select_related("unit")
        .prefetch_related("attachments")
        .order_by("seq")
    )
    files: list[Attachment] = [
        a for e in entries if e.action == "submit" for a in e.attachments.all()
    ]
    timeline = [
        {
            "entry": e,
            "label": action_label(case.workflow, e.action),
            "to": state_label(case.workflow, e.to_state),
            "attachments": list(e.attachments.all()) if e.action != "submit" else [],
        }
        for e in entries
    ]
    categories = dict(registry.channel(case.channel).categories)
    citizen_rating = case.data.get("citizen_rating")
    return render(
        request,
        "opinions/staff/inbox_case.html",
        {
            "case": case,
            "state_label": state_label(case.workflow, case.state),
            "category_label": categories.get(case.category, ""),
            "actions": actions,
            "action_codes": [a.code for a in actions],
            "suggestion": suggestion,
            "unit_choices": dispatch_unit_choices() if suggestion else [],
            "grades": Grade.choices,
            "ratings": Rating.choices,
            "timeline": timeline,
            "photos": [f for f in files if f.kind == "photo"],
            "voices": [f for f in files if f.kind == "voice"],
            "may_see_contact": may_see_contact(request.user, case),
            "error_action": error_action,
            "error": error,
            "posted": posted or {},
            "idempotency_key": uuid.uuid4().hex,
            "citizen_rating": citizen_rating,
            "citizen_rating_label": (
                Rating(citizen_rating["rating"]).label if citizen_rating else ""
            ),
            "awaits_follow_up": opinion_awaits_follow_up(case),
        },
        status=status,
    )


@login_required
@require_GET
def inbox_case(request: HttpRequest, number: str) -> HttpResponse:
    case = inbox_case_get(user=request.user, number=number)
    if case is None:
        raise Http404("not in your inbox")
    return _inbox_case_page(request, case)


@login_required
@require_POST
def inbox_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Take one action from the inbox; a refusal shows the case again with the reason."""
    case = inbox_case_get(user=request.user, number=number)
    if case is None:
        raise Http404("not in your inbox")
    actor = request.user
    assert isinstance(actor, User)  # login_required
    form = InboxActionForm(request.POST)
    if not form.is_valid():
        return _inbox_case_page(
            request,
            case,
            error_action=action,
            error=_("填写的内容有误，请检查后重试。"),
            status=400,
            posted=request.POST.dict(),
        )
    data = form.cleaned_data
    try:
        if action == FOLLOW_UP_ACTION:
            # Not a workflow action: a note on a closed case (see opinion_follow_up_record).
            opinion_follow_up_record(case=case, actor=actor, note=data.get("note") or "")
        else:
            opinion_act(
                case=case,
                action=action,
                actor=actor,
                note=data.get("note") or "",
                unit_id=data.get("unit"),
                grade=data.get("grade") or "",
                rating=data.get("rating") or "",
                merge_into_number=data.get("merge_into") or "",
                idempotency_key=data["idempotency_key"],
            )
    except CaseError as err:
        case.refresh_from_db()
        return _inbox_case_page(
            request,
            case,
            error_action=action,
            error=err.message,
            status=400,
            posted=request.POST.dict(),
        )
    messages.success(
        request, _("已完成：%(action)s") % {"action": action_label(case.workflow, action)}
    )
    return redirect("opinions:inbox_case", number=case.number)


# --------------------------------------------------------------------------- statistics


@login_required
@require_GET
def stats_view(request: HttpRequest) -> HttpResponse:
    """Figures for the 代表工委 (all) and station staff (their station)."""
    scope = stats_scope_for(user=request.user)
    if scope is None:
        return render(request, "opinions/staff/no_stats.html", status=403)
    return render(request, "opinions/staff/stats.html", {"stats": opinion_stats(scope=scope)})
