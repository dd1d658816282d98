"""Pages of 民生实事: the public overview and results, the proposal form, the deputy's
ballot and satisfaction vote (phone-first), the receipt check, the office's screening
page and each project's delivery page. Views parse, call one service, and render.

No page shows who voted how: the office sees the turnout as two numbers, a deputy sees
only whether they have voted, and a ballot is shown only to whoever holds its receipt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicloop.core.cases.links import case_came_from
from civicloop.core.cases.models import Case
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import DomainError, refusal_show
from civicloop.core.units.models import Unit
from civicloop.projects import selectors, services
from civicloop.projects.errors import ProjectError, ProjectErrorCode
from civicloop.projects.forms import (
    CandidateEditForm,
    CompleteForm,
    CycleCreateForm,
    DelayForm,
    GroupForm,
    MilestoneForm,
    ProgressForm,
    ProposalForm,
    ReceiptForm,
    StaffCandidateForm,
    VisitForm,
)
from civicloop.projects.models import (
    BallotKind,
    Candidate,
    CandidateSource,
    Cycle,
    CycleState,
    Milestone,
    ProgressReport,
    SupervisionGroup,
    VoteMode,
)


def _too_many(
    request: HttpRequest, exc: DomainError, template: str, ctx: dict[str, Any]
) -> HttpResponse:
    refusal_show(request, exc)
    response = render(request, template, ctx, status=exc.status)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


# --------------------------------------------------------------------------- public


def home(request: HttpRequest) -> HttpResponse:
    """Every cycle, the current one first; what the reader may do in it."""
    cycles = list(Cycle.objects.order_by("-year"))
    current = cycles[0] if cycles else None
    user = request.user
    ctx: dict[str, Any] = {
        "cycles": cycles,
        "current": current,
        "is_office": selectors.is_office(user),
        "is_deputy": selectors.is_deputy(user),
        "create_form": CycleCreateForm() if selectors.is_office(user) else None,
    }
    if current is not None:
        ctx["shortlist"] = (
            list(selectors.ballot_candidates(cycle=current))
            if current.state != CycleState.COLLECTING
            else []
        )
        ctx["chosen"] = list(selectors.chosen_projects(cycle=current))
        ctx["voted"] = selectors.has_voted(cycle=current, user=user, kind=BallotKind.SELECTION)
        ctx["evaluated"] = selectors.has_voted(
            cycle=current, user=user, kind=BallotKind.SATISFACTION
        )
    return render(request, "projects/home.html", ctx)


@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    """The public proposal form (征集): open while the current cycle collects."""
    cycle = selectors.cycle_current()
    if cycle is None or cycle.state != CycleState.COLLECTING:
        return render(request, "projects/propose_closed.html", {"cycle": cycle}, status=200)
    form = ProposalForm(request.POST or None)
    ctx = {"cycle": cycle, "form": form}
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "projects/propose.html", ctx, status=200 if request.method == "GET" else 400
        )
    data = form.cleaned_data
    user = request.user if request.user.is_authenticated else None
    # Who proposes says where it comes from: a deputy, a department (which then leads
    # it unless screening says otherwise), or the public.
    department = selectors.department_of(user) if user is not None else None
    if user is not None and selectors.is_deputy(user):
        source = CandidateSource.DEPUTY
    elif department is not None:
        source = CandidateSource.DEPARTMENT
    else:
        source = CandidateSource.PUBLIC
    try:
        candidate = services.candidate_propose(
            cycle=cycle,
            proposal=services.Proposal(
                title=data["title"],
                description=data["description"],
                source=source,
                location=data.get("location") or "",
                contact_name=data.get("contact_name") or "",
                contact_phone=data.get("contact_phone") or "",
                lead_unit=department,
            ),
            actor=user,
            ip=client_ip(request),
        )
    except DomainError as exc:
        if exc.status == 429:
            return _too_many(request, exc, "projects/propose.html", ctx)
        refusal_show(request, exc, form=form)
        return render(request, "projects/propose.html", ctx, status=exc.status)
    return render(
        request, "projects/proposed.html", {"cycle": cycle, "number": candidate.case.number}
    )


def cycle_detail(request: HttpRequest, year: int) -> HttpResponse:
    """The public page of a year: the shortlist, the published result (for / against /
    abstain per candidate, the chosen projects), delivery and satisfaction."""
    cycle = selectors.access_cycle_by_year(request.user, year)
    return render(
        request,
        "projects/cycle.html",
        {
            "cycle": cycle,
            "result": selectors.result_public(cycle=cycle),
            "shortlist": list(selectors.ballot_candidates(cycle=cycle)),
            "chosen": list(selectors.chosen_projects(cycle=cycle)),
            "is_office": selectors.is_office(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def receipt_check(request: HttpRequest) -> HttpResponse:
    """Whoever holds a receipt sees the ballot it belongs to (and nothing about who)."""
    form = ReceiptForm(request.POST or None)
    view = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            view = services.ballot_check(
                receipt=form.cleaned_data["receipt"], ip=client_ip(request)
            )
        except DomainError as exc:
            refusal_show(request, exc, form=form)
            status = exc.status
    elif request.method == "POST":
        status = 400
    response = render(request, "projects/receipt.html", {"form": form, "view": view}, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- deputies


def _ballot_page(request: HttpRequest, year: int, kind: str) -> HttpResponse:
    cycle = selectors.access_cycle_by_year(request.user, year)
    user = request.user
    open_state = CycleState.EVALUATING if kind == BallotKind.SATISFACTION else CycleState.VOTING
    items = (
        list(selectors.chosen_projects(cycle=cycle))
        if kind == BallotKind.SATISFACTION
        else list(selectors.ballot_candidates(cycle=cycle))
    )
    ctx: dict[str, Any] = {
        "cycle": cycle,
        "kind": kind,
        "items": items,
        "is_open": cycle.state == open_state,
        "on_roll": selectors.on_roll(cycle=cycle, user=user, kind=kind),
        "voted": selectors.has_voted(cycle=cycle, user=user, kind=kind),
        "k_of_n": kind == BallotKind.SELECTION and cycle.mode == VoteMode.K_OF_N,
        "given": {},
        "approve_choices": [("for", _("赞成")), ("against", _("反对")), ("abstain", _("弃权"))],
        "satisfaction_choices": [
            ("satisfied", _("满意")),
            ("basically", _("基本满意")),
            ("unsatisfied", _("不满意")),
        ],
    }
    if request.method == "POST":
        if kind == BallotKind.SELECTION and cycle.mode == VoteMode.K_OF_N:
            choices: dict[str, Any] = {"chosen": request.POST.getlist("chosen")}
        else:
            choices = {str(item.pk): request.POST.get(f"c{item.pk}", "") for item in items}
            ctx["given"] = choices
        try:
            receipt = services.ballot_cast(cycle=cycle, user=user, choices=choices, kind=kind)  # type: ignore[arg-type]
        except DomainError as exc:
            refusal_show(request, exc)
            ctx["voted"] = selectors.has_voted(cycle=cycle, user=user, kind=kind)
            response = render(request, "projects/ballot.html", ctx, status=exc.status)
            response["Cache-Control"] = "no-store"
            return response
        # Rendered in this answer only: the receipt is never stored anywhere (not even
        # the session), so nothing on the server ties it to the deputy.
        response = render(request, "projects/cast.html", {"cycle": cycle, "receipt": receipt})
        response["Cache-Control"] = "no-store"
        return response
    response = render(request, "projects/ballot.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def ballot(request: HttpRequest, year: int) -> HttpResponse:
    """The deputy's secret ballot (phone-first)."""
    return _ballot_page(request, year, BallotKind.SELECTION)


@login_required
@require_http_methods(["GET", "POST"])
def satisfaction(request: HttpRequest, year: int) -> HttpResponse:
    """The deputy's year-end satisfaction vote on the chosen projects."""
    return _ballot_page(request, year, BallotKind.SATISFACTION)


@login_required
def cast(request: HttpRequest, year: int) -> HttpResponse:
    """Where a reload after casting lands: the receipt was shown once and is gone."""
    cycle = selectors.access_cycle_by_year(request.user, year)
    response = render(request, "projects/cast.html", {"cycle": cycle, "receipt": None})
    response["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- office


def _office_or_404(request: HttpRequest) -> None:
    if not selectors.is_office(request.user):
        raise Http404("not the office")


@login_required
def manage(request: HttpRequest, year: int) -> HttpResponse:
    """The office's screening page: every candidate, its completion, the shortlist,
    the steps of the cycle and the turnout (numbers only)."""
    cycle = selectors.access_cycle_by_year(request.user, year, manage=True)
    candidates = list(selectors.cycle_candidates(cycle=cycle))
    rows = [
        {
            "c": c,
            "form": CandidateEditForm(
                initial={
                    "budget_wan": c.budget_wan,
                    "lead_unit": c.lead_unit_id or "",
                    "timeline": c.timeline,
                },
                prefix=f"c{c.pk}",
            ),
        }
        for c in candidates
    ]
    return render(
        request,
        "projects/manage.html",
        {
            "cycle": cycle,
            "rows": rows,
            "add_form": StaffCandidateForm(),
            "turnout": selectors.turnout(cycle=cycle),
            "eval_turnout": selectors.turnout(cycle=cycle, kind=BallotKind.SATISFACTION),
            "shortlisted": sum(1 for c in candidates if c.shortlisted),
        },
    )


def _cases_by_numbers(user: Any, text: str) -> list[Case]:
    """The cases a candidate is promoted from, each one the user may see."""
    out = []
    for number in text.replace(",", " ").replace("，", " ").split():
        try:
            out.append(selectors.access_promotable_case(user, number))
        except Http404:
            raise ProjectError(
                ProjectErrorCode.INVALID,
                _("找不到事项 %(number)s。"),
                field="from_numbers",
                number=number,
            ) from None
    return out


def _candidate(cycle: Cycle, request: HttpRequest) -> Candidate:
    candidate = Candidate.objects.filter(cycle=cycle, pk=request.POST.get("candidate") or 0).first()
    if candidate is None:
        raise Http404("no such candidate")
    return candidate


@login_required
@require_POST
def manage_act(request: HttpRequest, year: int, op: str) -> HttpResponse:
    """One step of the office: add / edit / shortlist / screen out a candidate, and the
    cycle's steps (screening, open and close the vote, delivery, evaluation)."""
    cycle = selectors.access_cycle_by_year(request.user, year, manage=True)
    user = request.user
    steps: dict[str, Callable[[], Any]] = {
        "screening": lambda: services.cycle_screening_start(cycle=cycle, actor=user),  # type: ignore[arg-type]
        "open": lambda: services.voting_open(cycle=cycle, actor=user),  # type: ignore[arg-type]
        "close": lambda: services.voting_close(cycle=cycle, actor=user),  # type: ignore[arg-type]
        "delivery": lambda: services.delivery_start(cycle=cycle, actor=user),  # type: ignore[arg-type]
        "evaluation": lambda: services.evaluation_open(cycle=cycle, actor=user),  # type: ignore[arg-type]
        "evaluation_close": lambda: services.evaluation_close(cycle=cycle, actor=user),  # type: ignore[arg-type]
    }
    try:
        if op in steps:
            done = steps[op]()
            if op == "close":
                messages.info(request, done.outcome_note)
                return redirect("projects:manage", year=year)
        elif op == "add":
            form = StaffCandidateForm(request.POST)
            if not form.is_valid():
                messages.error(
                    request, _("请检查填写的内容：%(errors)s") % {"errors": form.errors.as_text()}
                )
                return redirect("projects:manage", year=year)
            d = form.cleaned_data
            lead = Unit.objects.filter(pk=d.get("lead_unit") or 0).first()
            services.candidate_propose(
                cycle=cycle,
                proposal=services.Proposal(
                    title=d["title"],
                    description=d["description"],
                    source=d["source"],
                    location=d.get("location") or "",
                    budget_wan=d.get("budget_wan"),
                    lead_unit=lead,
                    timeline=d.get("timeline") or "",
                ),
                actor=user,  # type: ignore[arg-type]
                from_cases=_cases_by_numbers(user, d.get("from_numbers") or ""),
            )
        elif op == "edit":
            candidate = _candidate(cycle, request)
            edit = CandidateEditForm(request.POST, prefix=f"c{candidate.pk}")
            if not edit.is_valid():
                messages.error(request, edit.errors.as_text())
                return redirect("projects:manage", year=year)
            d = edit.cleaned_data
            services.candidate_update(
                candidate=candidate,
                actor=user,  # type: ignore[arg-type]
                budget_wan=d.get("budget_wan"),
                lead_unit=Unit.objects.filter(pk=d.get("lead_unit") or 0).first(),
                timeline=d.get("timeline") or "",
            )
        elif op == "shortlist":
            services.candidate_shortlist(candidate=_candidate(cycle, request), actor=user)  # type: ignore[arg-type]
        elif op == "unshortlist":
            services.candidate_unshortlist(candidate=_candidate(cycle, request), actor=user)  # type: ignore[arg-type]
        elif op == "screen_out":
            services.candidate_screen_out(
                candidate=_candidate(cycle, request),
                actor=user,  # type: ignore[arg-type]
                reason=request.POST.get("reason", ""),
            )
        else:
            raise Http404("no such step")
    except DomainError as exc:
        refusal_show(request, exc)
        return redirect("projects:manage", year=year)
    messages.success(request, _("已保存。"))
    return redirect("projects:manage", year=year)


@login_required
@require_POST
def cycle_create(request: HttpRequest) -> HttpResponse:
    _office_or_404(request)
    form = CycleCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("projects:home")
    d = form.cleaned_data
    try:
        cycle = services.cycle_create(
            year=d["year"],
            title=d.get("title") or "",
            actor=request.user,  # type: ignore[arg-type]
            places=d["places"],
            mode=d["mode"],
            max_choices=d.get("max_choices") or 0,
            majority_base=d["majority_base"],
            quorum_percent=d["quorum_percent"],
        )
    except DomainError as exc:
        refusal_show(request, exc)
        return redirect("projects:home")
    return redirect("projects:manage", year=cycle.year)


# --------------------------------------------------------------------------- delivery


def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's delivery: milestones (each a case with its deadline), progress,
    photos, spend, delays, supervision groups and their visits; forms for who may act."""
    project = selectors.access_project_by_id(request.user, pk)
    user = request.user
    office = selectors.is_office(user)
    lead = selectors.is_lead_staff(user, project)
    milestones = list(Milestone.objects.filter(project=project).select_related("case"))
    groups = list(
        SupervisionGroup.objects.filter(project=project).prefetch_related(
            "members", "visits__findings__case"
        )
    )
    my_groups = [g for g in groups if office or any(m.pk == user.pk for m in g.members.all())]
    return render(
        request,
        "projects/project.html",
        {
            "project": project,
            "milestones": milestones,
            "open_milestones": [m for m in milestones if m.case.state == "in_progress"],
            "reports": list(
                project.reports.prefetch_related("photos").select_related("milestone")[:20]
            ),
            "delays": list(project.delays.select_related("milestone")),
            "groups": groups,
            "my_groups": my_groups,
            "is_office": office,
            "is_lead": lead,
            "milestone_form": MilestoneForm() if (office or lead) else None,
            "progress_form": ProgressForm() if lead else None,
            "delay_form": DelayForm() if lead else None,
            "complete_form": CompleteForm() if lead else None,
            "visit_form": VisitForm() if my_groups else None,
            "group_form": GroupForm() if office else None,
            "signed_in": user.is_authenticated,
            "now": timezone.now(),
            # What it was promoted from (opinions, suggestions), for the office.
            "came_from": case_came_from(case=project.case) if office else [],
        },
    )


def project_by_case(request: HttpRequest, number: str) -> HttpResponse:
    """The channels' staff page: a candidate's or milestone's case opens its project."""
    project = selectors.access_project_by_case_number(request.user, number)
    return redirect("projects:project", pk=project.pk)


@login_required
@require_POST
def project_act(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    project = selectors.access_project_by_id(request.user, pk)
    user: Any = request.user
    forms_by_op: dict[str, Any] = {
        "milestone": MilestoneForm,
        "progress": ProgressForm,
        "delay": DelayForm,
        "complete": CompleteForm,
        "visit": VisitForm,
        "group": GroupForm,
        "deliver": CompleteForm,
    }
    if op not in forms_by_op:
        raise Http404("no such step")
    form = forms_by_op[op](request.POST, request.FILES)
    if not form.is_valid():
        messages.error(
            request, _("请检查填写的内容：%(errors)s") % {"errors": form.errors.as_text()}
        )
        return redirect("projects:project", pk=pk)
    d = form.cleaned_data

    def milestone() -> Milestone:
        found = (
            Milestone.objects.filter(project=project, pk=d["milestone"])
            .select_related("project__cycle", "case")
            .first()
        )
        if found is None:
            raise Http404("no such milestone")
        return found

    try:
        if op == "milestone":
            services.milestone_add(
                project=project, title=d["title"], due_date=d["due_date"], actor=user
            )
        elif op == "progress":
            services.progress_report(
                milestone=milestone(),
                actor=user,
                percent=d["percent"],
                spent_wan=d["spent_wan"],
                note=d["note"],
                photos=d.get("photos") or [],
            )
        elif op == "delay":
            services.delay_report(
                milestone=milestone(),
                actor=user,
                reason=d["reason"],
                expected_date=d["expected_date"],
            )
        elif op == "complete":
            services.milestone_complete(milestone=milestone(), actor=user, note=d["note"])
        elif op == "visit":
            group = SupervisionGroup.objects.filter(project=project, pk=d["group"]).first()
            if group is None:
                raise Http404("no such group")
            services.visit_record(
                group=group,
                actor=user,
                visited_on=d["visited_on"],
                summary=d["summary"],
                findings=(d.get("findings") or "").splitlines(),
            )
        elif op == "deliver":
            services.project_deliver(project=project, actor=user, note=d["note"])
        elif op == "group":
            from civicloop.core.accounts.models import User

            names = d["members"].split()
            people = {u.username: u for u in User.objects.filter(username__in=names)}
            if len(people) != len(set(names)):
                messages.error(request, _("有账号不存在，请核对。"))
                return redirect("projects:project", pk=pk)
            members = [people[n] for n in names]
            services.group_create(
                project=project,
                name=d.get("name") or "",
                leader=members[0],
                members=members,
                actor=user,
            )
    except DomainError as exc:
        refusal_show(request, exc)
        return redirect("projects:project", pk=pk)
    messages.success(request, _("已保存。"))
    return redirect("projects:project", pk=pk)


def photo(request: HttpRequest, pk: Any, size: str) -> FileResponse:
    """A progress photo of a project the reader may see (re-encoded on upload, so it
    carries no EXIF or GPS); anything else is a 404."""
    report = ProgressReport.objects.filter(photos__pk=pk).select_related("project").first()
    if report is None:
        raise Http404("no such photo")
    selectors.access_project_by_id(request.user, report.project_id)
    attachment = report.photos.get(pk=pk)
    field = attachment.thumbnail if size == "thumb" and attachment.thumbnail else attachment.file
    content_type = "image/jpeg" if field is attachment.thumbnail else attachment.content_type
    response = FileResponse(field.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
