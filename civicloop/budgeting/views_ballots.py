"""Pages of the vote: the phone ballot, the public results (rules side by side), exports."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from civicloop.budgeting.ballot_errors import BallotError, BallotErrorCode
from civicloop.budgeting.ballot_models import Ballot
from civicloop.budgeting.ballots import (
    SMS_PURPOSE,
    ballot_election,
    panel_member_by_ticket,
    process_ballot,
    vote_cast_by_sms,
    vote_cast_by_ticket,
)
from civicloop.budgeting.exports import results_xlsx
from civicloop.budgeting.models import BudgetProcess
from civicloop.budgeting.rules import RULE_LABELS, BallotKind, Rule, outcomes_compare
from civicloop.core.accounts.services import sms_code_send
from civicloop.core.client_ip import client_ip
from civicloop.core.errors import DomainError, refusal_show

SESSION_VOTED = "budget_voted"


def _process_or_404(code: str) -> BudgetProcess:
    process = BudgetProcess.objects.filter(code=code).first()
    if process is None:
        raise Http404("no such process")
    return process


def _ballot_or_404(process: BudgetProcess) -> Ballot:
    ballot = process_ballot(process)
    if ballot is None:
        raise Http404("no ballot")
    return ballot


def _choices_from(post: Any, ballot: Ballot) -> dict[str, str]:
    if ballot.kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K):
        return dict.fromkeys(post.getlist("project"), "1")
    return {key[2:]: value for key, value in post.items() if key.startswith("p_") and value.strip()}


@require_http_methods(["GET", "POST"])
def ballot_vote_view(request: HttpRequest, code: str) -> HttpResponse:
    """The phone ballot: a panel member comes with their ticket (?ticket=...), a resident
    proves their phone with an SMS code. One vote per voter."""
    process = _process_or_404(code)
    ballot = _ballot_or_404(process)
    ticket = request.GET.get("ticket") or request.POST.get("ticket") or ""
    member = panel_member_by_ticket(process=process, ticket=ticket) if ticket else None
    if ticket and member is None:
        messages.error(request, _("抽选代表凭证无效。"))
    now = timezone.now()
    is_open = ballot.opens_at <= now < ballot.closes_at
    context: dict[str, Any] = {
        "process": process,
        "ballot": ballot,
        "projects": list(ballot.projects.order_by("pk")),
        "member": member,
        "ticket": ticket if member else "",
        "is_open": is_open,
        "kind": ballot.kind,
        "submission_key": request.POST.get("submission_key") or secrets.token_urlsafe(16),
        "phone": request.POST.get("phone", ""),
        "picked": _choices_from(request.POST, ballot) if request.method == "POST" else {},
        "points_range": range(ballot.max_points + 1),
    }
    if request.method == "GET":
        return render(request, "budgeting/ballot_vote.html", context)
    if "send_code" in request.POST:
        try:
            sms_code_send(
                phone=request.POST.get("phone", ""), ip=client_ip(request), purpose=SMS_PURPOSE
            )
        except DomainError as refused:
            refusal_show(request, refused)
            return render(request, "budgeting/ballot_vote.html", context, status=400)
        messages.success(request, _("验证码已发送，5分钟内有效。"))
        return render(request, "budgeting/ballot_vote.html", context)
    choices = _choices_from(request.POST, ballot)
    try:
        if member is not None:
            vote_cast_by_ticket(
                ballot=ballot,
                member_id=member.pk,
                choices=choices,
                age=getattr(member, "age", None),
                sex=getattr(member, "sex", "") or "",
            )
        elif ticket:
            raise BallotError(BallotErrorCode.NOT_VERIFIED)
        else:
            vote_cast_by_sms(
                ballot=ballot,
                phone=request.POST.get("phone", ""),
                code=request.POST.get("code", ""),
                submission_key=context["submission_key"],
                choices=choices,
            )
    except DomainError as refused:
        refusal_show(request, refused)
        return render(request, "budgeting/ballot_vote.html", context, status=refused.status)
    request.session[SESSION_VOTED] = [*request.session.get(SESSION_VOTED, []), ballot.pk]
    return redirect("budgeting_ballots:voted", code=process.code)


@require_GET
def ballot_voted_view(request: HttpRequest, code: str) -> HttpResponse:
    process = _process_or_404(code)
    return render(request, "budgeting/ballot_voted.html", {"process": process})


def _results_visible(request: HttpRequest, ballot: Ballot) -> bool:
    return ballot.closes_at <= timezone.now() or bool(getattr(request.user, "is_staff", False))


@require_GET
def ballot_results_view(request: HttpRequest, code: str) -> HttpResponse:
    """The public results: every rule side by side, which projects differ and why."""
    process = _process_or_404(code)
    ballot = _ballot_or_404(process)
    if not _results_visible(request, ballot):
        return render(
            request,
            "budgeting/ballot_results.html",
            {"process": process, "ballot": ballot, "pending": True},
        )
    election, projects = ballot_election(ballot)
    comparison = (
        outcomes_compare(election=election, projects=projects) if len(election.profile) else None
    )
    rules = [(r.value, RULE_LABELS[r]) for r in Rule]
    rows = []
    if comparison is not None:
        for row in comparison.projects:
            rows.append({"row": row, "funded": [row.funded_by[r] for r, _label in rules]})
    return render(
        request,
        "budgeting/ballot_results.html",
        {
            "process": process,
            "ballot": ballot,
            "pending": False,
            "rules": rules,
            "chosen_rule": ballot.rule,
            "comparison": comparison,
            "totals": [
                (label, comparison.total_cost[r], len(comparison.outcomes[r]), r == ballot.rule)
                for r, label in rules
            ]
            if comparison
            else [],
            "rows": rows,
            "votes": len(election.profile),
        },
    )


def _staff_or_404(request: HttpRequest) -> None:
    if not getattr(request.user, "is_staff", False):
        raise Http404("staff only")


@require_GET
def ballot_results_xlsx_view(request: HttpRequest, code: str) -> HttpResponse:
    _staff_or_404(request)
    ballot = _ballot_or_404(_process_or_404(code))
    response = HttpResponse(
        results_xlsx(ballot=ballot),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{code}-results.xlsx"'
    return response


@require_GET
def process_report_view(request: HttpRequest, code: str) -> HttpResponse:
    """The printable PDF report of the whole process (staff)."""
    from civicloop.budgeting.report import report_pdf
    from civicloop.budgeting.report_data import process_report_data

    _staff_or_404(request)
    process = _process_or_404(code)
    response = HttpResponse(
        report_pdf(data=process_report_data(process=process)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{code}-report.pdf"'
    return response
