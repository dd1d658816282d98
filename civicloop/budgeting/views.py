"""Pages of 参与式预算 (phone-first): the public process page and proposal form, the
staff's screening and panel pages, the T1/T2 analysis, and a panel member's own pages
reached by their ticket link (RSVP, the questionnaires). Views parse, call one service,
and render; the vote and congress pages are in views_ballots.py / views_congress.py."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicloop.budgeting import selectors, services
from civicloop.budgeting.ballots import process_ballot
from civicloop.budgeting.errors import BudgetError
from civicloop.budgeting.forms import DrawForm, FrameUploadForm, InviteForm, ProposalForm
from civicloop.budgeting.models import BudgetProcess, BudgetProject, Phase, Questionnaire, Wave
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import DomainError, refusal_show

# The proposal form answers a refusal on the form itself, with its status.


def _process_or_404(code: str) -> BudgetProcess:
    try:
        return selectors.process_by_code(code)
    except BudgetError:
        raise Http404("no such process") from None


def _staff_process(request: HttpRequest, code: str) -> BudgetProcess:
    """The process for its staff: the login page for an anonymous visitor, 403 for a
    signed-in user who does not run it."""
    process = _process_or_404(code)
    if not request.user.is_authenticated:
        raise _LoginRequired
    if not selectors.is_process_staff(request.user, process):
        raise PermissionDenied("not this process's staff")
    return process


class _LoginRequired(Exception):  # control flow inside this module only
    pass


def _staff_page(view: Any) -> Any:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)  # type: ignore[no-any-return]
        except _LoginRequired:
            return redirect_to_login(request.get_full_path())

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --------------------------------------------------------------------------- public


def home_view(request: HttpRequest) -> HttpResponse:
    """Every process, the latest first."""
    return render(request, "budgeting/home.html", {"processes": list(selectors.processes_public())})


def process_view(request: HttpRequest, code: str) -> HttpResponse:
    """The public page of a process: where it stands (phase), its schedule, the projects."""
    process = _process_or_404(code)
    draw = selectors.draw_current(process)
    ballot = process_ballot(process)
    return render(
        request,
        "budgeting/process.html",
        {
            "process": process,
            "phases": selectors.phase_rows(process),
            "projects": list(selectors.projects_accepted(process)),
            "collecting": process.phase == Phase.COLLECTING,
            "voting_or_later": process.phase_index >= Phase.values.index(Phase.VOTING),
            "has_ballot": ballot is not None,
            "results": selectors.ballot_result_public(ballot) if ballot is not None else None,
            "opinions": selectors.opinion_counts(process),
            "draw": draw if draw is not None and draw.published else None,
            "is_staff": selectors.is_process_staff(request.user, process),
        },
    )


@require_http_methods(["GET", "POST"])
def propose_view(request: HttpRequest, code: str) -> HttpResponse:
    """A resident's (or deputy's, or department's) project proposal while the process collects."""
    process = _process_or_404(code)
    if process.phase != Phase.COLLECTING:
        return render(request, "budgeting/propose_closed.html", {"process": process})
    form = ProposalForm(request.POST or None)
    ctx = {"process": process, "form": form}
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "budgeting/propose.html", ctx, status=200 if request.method == "GET" else 400
        )
    data = form.cleaned_data
    source = BudgetProject.Source.PUBLIC
    if request.user.is_authenticated and selectors.is_process_staff(request.user, process):
        source = BudgetProject.Source.DEPARTMENT
    try:
        project = services.project_propose(
            process=process,
            proposal=services.ProjectProposal(
                title=data["title"],
                description=data["description"],
                cost=data["cost"],
                source=source,
                category=data.get("category") or "",
                location=data.get("location") or "",
                contact_name=data.get("contact_name") or "",
                contact_phone=data.get("contact_phone") or "",
            ),
            proposer=request.user,
            ip=client_ip(request),
        )
    except DomainError as exc:
        refusal_show(request, exc, form=form)
        response = render(request, "budgeting/propose.html", ctx, status=exc.status)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return response
    return render(request, "budgeting/proposed.html", {"process": process, "project": project})


# --------------------------------------------------------------------------- staff


@_staff_page
def staff_home_view(request: HttpRequest) -> HttpResponse:
    """The processes the signed-in user runs."""
    if not request.user.is_authenticated:
        raise _LoginRequired
    return render(
        request,
        "budgeting/staff.html",
        {"processes": selectors.processes_with_pending(request.user)},
    )


@_staff_page
@require_http_methods(["GET", "POST"])
def screening_view(request: HttpRequest, code: str) -> HttpResponse:
    """初审: accept, reject (with a reason) or merge each proposal; move the process on."""
    process = _staff_process(request, code)
    if request.method == "POST":
        op = request.POST.get("op", "")
        if op == "advance":
            services.process_phase_advance(process=process, to=request.POST.get("to", ""))
            messages.success(request, _("阶段已推进。"))
            return redirect("budgeting:screen", code=code)
        project = process.projects.filter(pk=_int(request.POST.get("project")) or 0).first()
        if project is None:
            raise Http404("no such project")
        reason = request.POST.get("reason", "")
        if op == "merge":
            into = process.projects.filter(pk=_int(request.POST.get("into")) or 0).first()
            if into is None:
                messages.error(request, _("请选择要合并到的项目。"))
                return redirect("budgeting:screen", code=code)
            services.project_merge(project=project, into=into, reason=reason, actor=request.user)
        elif op in ("accept", "reject"):
            services.project_screen(
                project=project, accept=op == "accept", reason=reason, actor=request.user
            )
        else:
            raise Http404("unknown step")
        messages.success(request, _("已保存。"))
        return redirect("budgeting:screen", code=code)
    projects = list(selectors.projects_for_screening(process))
    return render(
        request,
        "budgeting/screen.html",
        {
            "process": process,
            "projects": projects,
            "targets": [p for p in projects if p.status in ("proposed", "accepted")],
            "phases": Phase.choices,
        },
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@_staff_page
@require_http_methods(["GET", "POST"])
def panel_view(request: HttpRequest, code: str) -> HttpResponse:
    """抽样: import the frame, draw (or re-draw with a new seed and a reason), publish,
    invite by SMS; the representativeness table of the current draw."""
    process = _staff_process(request, code)
    frame_form, draw_form, invite_form = FrameUploadForm(), DrawForm(), InviteForm()
    if request.method == "POST":
        op = request.POST.get("op", "")
        draw = selectors.draw_current(process)
        try:
            if op == "frame":
                frame_form = FrameUploadForm(request.POST, request.FILES)
                if frame_form.is_valid():
                    text = (
                        frame_form.cleaned_data["file"].read().decode("utf-8-sig", errors="replace")
                    )
                    n = services.frame_import_csv(process=process, stream=io.StringIO(text))
                    messages.success(request, _("已导入抽样框 %(n)d 人。") % {"n": n})
                    return redirect("budgeting:panel", code=code)
            elif op == "draw":
                draw_form = DrawForm(request.POST)
                if draw_form.is_valid():
                    services.panel_draw(
                        process=process,
                        seed=draw_form.cleaned_data["seed"],
                        reason=draw_form.cleaned_data["reason"],
                        actor=request.user,
                    )
                    messages.success(request, _("抽样完成。"))
                    return redirect("budgeting:panel", code=code)
            elif op == "publish" and draw is not None:
                services.panel_publish(draw=draw)
                return redirect("budgeting:panel", code=code)
            elif op == "invite" and draw is not None:
                invite_form = InviteForm(request.POST)
                if invite_form.is_valid():
                    n = services.panel_invite(
                        draw=draw,
                        when=invite_form.cleaned_data["when"],
                        place=invite_form.cleaned_data["place"],
                    )
                    messages.success(request, _("已发送邀请短信 %(n)d 条。") % {"n": n})
                    return redirect("budgeting:panel", code=code)
            else:
                raise Http404("unknown step")
        except DomainError as exc:
            form = {"frame": frame_form, "draw": draw_form, "invite": invite_form}.get(op)
            refusal_show(request, exc, form=form)
            return _panel_page(
                request, process, frame_form, draw_form, invite_form, status=exc.status
            )
        return _panel_page(request, process, frame_form, draw_form, invite_form, status=400)
    return _panel_page(request, process, frame_form, draw_form, invite_form)


def _panel_page(
    request: HttpRequest,
    process: BudgetProcess,
    frame_form: FrameUploadForm,
    draw_form: DrawForm,
    invite_form: InviteForm,
    *,
    status: int = 200,
) -> HttpResponse:
    draw = selectors.draw_current(process)
    return render(
        request,
        "budgeting/panel.html",
        {
            "process": process,
            "frame_size": process.frame.count(),
            "draw": draw,
            "counts": selectors.panel_counts(draw) if draw else None,
            "strata": selectors.representativeness(draw) if draw else [],
            "earlier": list(process.draws.order_by("-pk")[1:]),
            "frame_form": frame_form,
            "draw_form": draw_form,
            "invite_form": invite_form,
        },
        status=status,
    )


@_staff_page
def analysis_view(request: HttpRequest, code: str) -> HttpResponse:
    """The T1/T2 analysis: change per project (paired t-test, Wilcoxon), knowledge gain,
    and the funding list down the T2 ranking. Public once the process is published."""
    process = _process_or_404(code)
    if process.phase != Phase.PUBLISHED:
        process = _staff_process(request, code)
    return render(
        request,
        "budgeting/analysis.html",
        {"process": process, "analysis": selectors.poll_analysis(process)},
    )


# --------------------------------------------------------------------------- panel member


def _member_or_404(ticket: str) -> Any:
    try:
        return services.member_by_ticket(ticket=ticket)
    except BudgetError:
        raise Http404("no such ticket") from None


@require_http_methods(["GET", "POST"])
def member_view(request: HttpRequest, ticket: str) -> HttpResponse:
    """A panel member's page from their ticket link: say whether they come, open T1/T2."""
    member = _member_or_404(ticket)
    process = member.draw.process
    if request.method == "POST":
        try:
            services.ticket_rate_check(client_ip(request))
            services.member_rsvp(member=member, attending=request.POST.get("rsvp") == "yes")
        except DomainError as exc:
            refusal_show(request, exc)
        else:
            messages.success(request, _("已收到您的回复，谢谢！"))
        return redirect("budgeting:member", ticket=ticket)
    waves = {q.wave: q for q in Questionnaire.objects.filter(process=process)}
    answered = set(member.responses.values_list("questionnaire__wave", flat=True))
    ballot = process_ballot(process)
    now = timezone.now()
    return render(
        request,
        "budgeting/member.html",
        {
            "member": member,
            "process": process,
            "ticket": ticket,
            "waves": [(w, label, w in waves, w in answered) for w, label in Wave.choices],
            "can_rsvp": process.phase == Phase.SAMPLING,
            "ballot_open": ballot is not None
            and ballot.opens_at <= now < ballot.closes_at
            and member.on_panel,
        },
    )


@require_http_methods(["GET", "POST"])
def questionnaire_view(request: HttpRequest, ticket: str, wave: str) -> HttpResponse:
    """The T1 or T2 questionnaire on a phone: every project 0–10, the knowledge items."""
    member = _member_or_404(ticket)
    process = member.draw.process
    questionnaire = Questionnaire.objects.filter(process=process, wave=wave).first()
    if questionnaire is None:
        raise Http404("no such questionnaire")
    projects = list(selectors.projects_accepted(process))
    answered = member.responses.filter(questionnaire=questionnaire).exists()
    ctx: dict[str, Any] = {
        "member": member,
        "process": process,
        "ticket": ticket,
        "questionnaire": questionnaire,
        "projects": projects,
        "scale": range(11),
        "answered": answered,
        "given": {},
        "items": questionnaire.knowledge_items,
    }
    if request.method == "POST" and not answered:
        ratings = {p.pk: request.POST.get(f"p_{p.pk}", "") for p in projects}
        knowledge = {
            item["id"]: request.POST.get(f"k_{item['id']}", "")
            for item in questionnaire.knowledge_items
        }
        ctx["given"] = {
            **{f"p_{k}": v for k, v in ratings.items()},
            **{f"k_{k}": v for k, v in knowledge.items()},
        }
        # A refused form comes back with what was chosen (a phone user re-taps nothing).
        for p in projects:
            p.given = ratings.get(p.pk, "")  # type: ignore[attr-defined]
        ctx["items"] = [
            {**item, "given": knowledge.get(item["id"], "")}
            for item in questionnaire.knowledge_items
        ]
        try:
            services.ticket_rate_check(client_ip(request))
            services.questionnaire_answer(
                questionnaire=questionnaire,
                member=member,
                ratings=ratings,  # type: ignore[arg-type]
                knowledge=knowledge,  # type: ignore[arg-type]
            )
        except DomainError as exc:
            refusal_show(request, exc)
            return render(request, "budgeting/questionnaire.html", ctx, status=exc.status)
        messages.success(request, _("问卷已提交，谢谢！"))
        return redirect("budgeting:member", ticket=ticket)
    return render(request, "budgeting/questionnaire.html", ctx)
