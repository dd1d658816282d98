"""Pages of 督政议事: the overview each user sees (staff: topics and meetings; deputies:
their meetings and votes; departments: the questions put to them), a meeting's page
where staff manage it and deputies vote, the minute files, and the public summaries.
Views parse, call one service or selector, and render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicloop.core.accounts.models import User
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.models import Case, Rating
from civicloop.core.errors import refusal_show
from civicloop.core.units.models import Unit
from civicloop.oversight import selectors, services
from civicloop.oversight.access import ANSWERING_KINDS, DEPUTY_ROLE, role_for
from civicloop.oversight.errors import OversightError, OversightErrorCode
from civicloop.oversight.models import MeetingKind, MeetingStatus, Question, Topic, TopicState


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _date(value: str | None, *, field: str) -> date | None:
    if not value:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise OversightError(OversightErrorCode.INVALID, _("日期格式有误。"), field=field)
    return parsed


def _unit(value: str | None, *, field: str = "unit") -> Unit:
    unit = Unit.objects.filter(
        pk=_int(value) or 0, kind__in=ANSWERING_KINDS, is_active=True
    ).first()
    if unit is None:
        raise OversightError(OversightErrorCode.MISSING, _("请选择部门。"), field=field)
    return unit


def _deputy(value: str | None, *, field: str) -> User:
    user = User.objects.filter(pk=_int(value) or 0).first()
    if user is None:
        raise OversightError(OversightErrorCode.MISSING, _("请选择代表。"), field=field)
    return user


def _unit_choices() -> list[Unit]:
    return list(
        Unit.objects.filter(kind__in=ANSWERING_KINDS, is_active=True).order_by("kind", "code")
    )


def _deputy_choices() -> list[tuple[int, str]]:
    users = (
        User.objects.filter(memberships__role=DEPUTY_ROLE, memberships__unit__is_active=True)
        .distinct()
        .order_by("username")
    )
    return [(u.pk, f"{u.full_name or u.username}（{u.username}）") for u in users]


# --------------------------------------------------------------------------- overview


@login_required
@require_GET
def oversight_home(request: HttpRequest) -> HttpResponse:
    """Staff: topics to decide, meetings; deputies: their meetings and topics;
    departments: the questions put to them."""
    role = role_for(request.user)
    if not role.any:
        raise Http404("no part in oversight")
    context: dict[str, Any] = {
        "role": role,
        "topics": list(selectors.topics_for(user=request.user).select_related("proposed_by")[:50]),
        "meetings": list(selectors.meetings_for(user=request.user)[:50]),
        "questions": list(selectors.unit_questions(unit_ids=role.unit_ids)[:50])
        if role.unit_ids
        else [],
    }
    return render(request, "oversight/home.html", context)


@login_required
@require_POST
def topic_propose_view(request: HttpRequest) -> HttpResponse:
    try:
        services.topic_propose(
            actor=request.user,  # type: ignore[arg-type]
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except OversightError as refused:
        refusal_show(request, refused)
    else:
        messages.success(request, _("议题已提出，等待代表工委审议。"))
    return redirect("oversight:home")


@login_required
@require_POST
def topic_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        topic = selectors.access_topic_by_id(user=request.user, pk=pk)
        services.topic_decide(
            actor=request.user,  # type: ignore[arg-type]
            topic=topic,
            accept=request.POST.get("decision") == "accept",
            note=request.POST.get("note", ""),
        )
    except OversightError as refused:
        refusal_show(request, refused)
    else:
        messages.success(request, _("议题审议意见已保存。"))
    return redirect("oversight:home")


# --------------------------------------------------------------------------- meetings


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new_view(request: HttpRequest) -> HttpResponse:
    """Staff create a meeting on an accepted topic."""
    if not role_for(request.user).staff:
        raise Http404("staff only")
    topics = list(Topic.objects.filter(state=TopicState.ACCEPTED).order_by("-created_at"))
    error = ""
    status = 200
    if request.method == "POST":
        try:
            held_at = parse_datetime(request.POST.get("held_at", ""))
            if held_at is None:
                raise OversightError(
                    OversightErrorCode.MISSING, _("请填写会议时间。"), field="held_at"
                )
            if timezone.is_naive(held_at):
                held_at = timezone.make_aware(held_at)
            topic = Topic.objects.filter(pk=_int(request.POST.get("topic")) or 0).first()
            if topic is None:
                raise OversightError(OversightErrorCode.MISSING, _("请选择议题。"), field="topic")
            meeting = services.meeting_create(
                actor=request.user,  # type: ignore[arg-type]
                topic=topic,
                kind=request.POST.get("kind", ""),
                title=request.POST.get("title", ""),
                held_at=held_at,
                place=request.POST.get("place", ""),
            )
        except OversightError as refused:
            error, status = refused.message, refused.status
        else:
            messages.success(request, _("会议已创建。"))
            return redirect("oversight:meeting_detail", pk=meeting.pk)
    return render(
        request,
        "oversight/meeting_new.html",
        {"topics": topics, "kinds": MeetingKind.choices, "error": error, "posted": request.POST},
        status=status,
    )


def _meeting_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    meeting = selectors.access_meeting_by_id(user=request.user, pk=pk)
    role = role_for(request.user)
    questions = selectors.meeting_questions(meeting=meeting)
    visible_cases = set(
        cases_visible_to(
            request.user, Case.objects.filter(pk__in=[q.case_id for q in questions])
        ).values_list("pk", flat=True)
    )
    participants = selectors.meeting_participants(meeting=meeting)
    seated = selectors.is_seated_deputy(meeting=meeting, user=request.user)
    return {
        "meeting": meeting,
        "role": role,
        "staff": role.staff,
        "seated": seated,
        "questions": questions,
        "visible_cases": visible_cases,
        "deputies": [p for p in participants if p.kind == "deputy"],
        "departments": [p for p in participants if p.kind == "department"],
        "results": selectors.department_results(meeting=meeting, voter=request.user),
        "follow_ups": selectors.meeting_follow_ups(meeting=meeting),
        "files": list(meeting.minute_files.order_by("created_at")),
        "ratings": Rating.choices,
        "open": meeting.status != MeetingStatus.CLOSED,
        "voting": meeting.status == MeetingStatus.VOTING,
        "unit_choices": _unit_choices() if role.staff else [],
        "deputy_choices": _deputy_choices() if role.staff else [],
        "seated_deputies": [p for p in participants if p.kind == "deputy"],
        "today": timezone.localdate().isoformat(),
    }


@login_required
@require_GET
def meeting_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        context = _meeting_context(request, pk)
    except OversightError:
        raise Http404("meeting not found") from None
    return render(request, "oversight/meeting_detail.html", context)


def _act_deputy(request: HttpRequest, meeting: Any) -> str:
    services.participant_add_deputy(
        actor=request.user,  # type: ignore[arg-type]
        meeting=meeting,
        deputy=_deputy(request.POST.get("deputy"), field="deputy"),
    )
    return _("已添加参会代表。")


def _act_department(request: HttpRequest, meeting: Any) -> str:
    services.participant_add_department(
        actor=request.user,  # type: ignore[arg-type]
        meeting=meeting,
        unit=_unit(request.POST.get("unit")),
        representative=request.POST.get("representative", ""),
    )
    return _("已添加参会部门。")


def _act_question(request: HttpRequest, meeting: Any) -> str:
    asked_by = (
        _deputy(request.POST.get("asked_by"), field="asked_by")
        if role_for(request.user).staff
        else request.user
    )
    question = services.question_ask(
        actor=request.user,  # type: ignore[arg-type]
        meeting=meeting,
        asked_by=asked_by,  # type: ignore[arg-type]
        unit=_unit(request.POST.get("unit")),
        text=request.POST.get("text", ""),
        answer_by=_date(request.POST.get("answer_by"), field="answer_by"),
    )
    return _("问题已交%(unit)s答复，事项编号 %(number)s。") % {
        "unit": question.unit.name,
        "number": question.case.number,
    }


def _act_minutes(request: HttpRequest, meeting: Any) -> str:
    services.minutes_save(
        actor=request.user,  # type: ignore[arg-type]
        meeting=meeting,
        minutes=request.POST.get("minutes", ""),
        summary=request.POST.get("summary", ""),
        uploads=request.FILES.getlist("files"),
    )
    return _("会议纪要已保存。")


def _act_open_vote(request: HttpRequest, meeting: Any) -> str:
    services.voting_open(actor=request.user, meeting=meeting)  # type: ignore[arg-type]
    return _("满意度测评已开始。")


def _act_close_vote(request: HttpRequest, meeting: Any) -> str:
    services.voting_close(actor=request.user, meeting=meeting)  # type: ignore[arg-type]
    return _("满意度测评已结束，结果已记入各答复事项。")


def _act_vote(request: HttpRequest, meeting: Any) -> str:
    unit = Unit.objects.filter(pk=_int(request.POST.get("unit")) or 0).first()
    if unit is None:
        raise OversightError(OversightErrorCode.MISSING, _("请选择部门。"), field="unit")
    services.vote_cast(
        actor=request.user,  # type: ignore[arg-type]
        meeting=meeting,
        unit=unit,
        choice=request.POST.get("choice", ""),
    )
    return _("测评已提交，谢谢。")


def _act_follow_up(request: HttpRequest, meeting: Any) -> str:
    ids = [i for i in (_int(v) for v in request.POST.getlist("sources")) if i]
    sources = list(Question.objects.filter(meeting=meeting, pk__in=ids).select_related("case"))
    follow_up = services.follow_up_create(
        actor=request.user,  # type: ignore[arg-type]
        meeting=meeting,
        unit=_unit(request.POST.get("unit")),
        decision=request.POST.get("decision", ""),
        due_date=_date(request.POST.get("due_date"), field="due_date"),
        sources=sources,
    )
    return _("已交办跟踪督办事项 %(number)s。") % {"number": follow_up.case.number}


def _act_publish(request: HttpRequest, meeting: Any) -> str:
    services.meeting_publish(actor=request.user, meeting=meeting)  # type: ignore[arg-type]
    return _("会议摘要已公开。")


def _act_unpublish(request: HttpRequest, meeting: Any) -> str:
    services.meeting_unpublish(actor=request.user, meeting=meeting)  # type: ignore[arg-type]
    return _("已撤回公开。")


ACTIONS: dict[str, Callable[[HttpRequest, Any], str]] = {
    "deputy": _act_deputy,
    "department": _act_department,
    "question": _act_question,
    "minutes": _act_minutes,
    "open_vote": _act_open_vote,
    "close_vote": _act_close_vote,
    "vote": _act_vote,
    "follow_up": _act_follow_up,
    "publish": _act_publish,
    "unpublish": _act_unpublish,
}


@login_required
@require_POST
def meeting_act_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step on a meeting (the services check who may take it); a refusal is shown
    on the meeting's page again, with what was typed, and its HTTP status."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("no such action")
    try:
        meeting = selectors.access_meeting_by_id(user=request.user, pk=pk)
    except OversightError:
        raise Http404("meeting not found") from None
    try:
        done = handler(request, meeting)
    except OversightError as refused:
        context = _meeting_context(request, pk)
        context.update(error=refused.message, error_action=action, posted=request.POST)
        return render(request, "oversight/meeting_detail.html", context, status=refused.status)
    messages.success(request, done)
    return redirect("oversight:meeting_detail", pk=pk)


@login_required
@require_GET
def minute_file_view(request: HttpRequest, pk: int, file_id: UUID) -> FileResponse:
    """A minutes file, for whoever may see the meeting (served as an attachment, with
    its sniffed type and nosniff)."""
    try:
        meeting = selectors.access_meeting_by_id(user=request.user, pk=pk)
    except OversightError:
        raise Http404("meeting not found") from None
    attachment = meeting.minute_files.filter(pk=file_id).first()
    if attachment is None:
        raise Http404("file not found")
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.original_name or f"{attachment.pk}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def case_meeting_view(request: HttpRequest, number: str) -> HttpResponse:
    """From a question's or follow-up's case to its meeting (the channels' staff page),
    for whoever may see the case or the meeting."""
    cases = Case.objects.filter(number=number)
    if not role_for(request.user).staff:
        cases = cases_visible_to(request.user, cases)
    case = cases.only("data").first()
    meeting_id = selectors.meeting_for_case(case=case) if case is not None else None
    if meeting_id is None:
        raise Http404("no meeting")
    return redirect("oversight:meeting_detail", pk=meeting_id)


# --------------------------------------------------------------------------- public


@require_GET
def public_list_view(request: HttpRequest) -> HttpResponse:
    """The published summaries, for everyone."""
    return render(
        request, "oversight/public_list.html", {"meetings": list(selectors.public_meetings())}
    )


@require_GET
def public_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A published meeting: topic, questions and answers, the vote per department;
    no names of deputies or staff."""
    try:
        meeting = selectors.public_meeting_get(pk=pk)
    except OversightError:
        raise Http404("not published") from None
    return render(
        request,
        "oversight/public_detail.html",
        {
            "meeting": meeting,
            "results": selectors.department_results(meeting=meeting),
            "follow_ups": selectors.meeting_follow_ups(meeting=meeting),
            "now": datetime.now(tz=timezone.get_current_timezone()),
            "deputy_count": sum(
                1 for p in selectors.meeting_participants(meeting=meeting) if p.kind == "deputy"
            ),
        },
    )
