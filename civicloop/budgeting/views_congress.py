"""The public page of the budget in the congress: draft, motions and votes, revised budget, execution."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from civicloop.budgeting.congress_models import BUDGET_MOTION_MIN_SIGNERS, AmendmentMotion
from civicloop.budgeting.models import BudgetProcess


@require_GET
def congress_view(request: HttpRequest, code: str) -> HttpResponse:
    process = BudgetProcess.objects.filter(code=code).first()
    if process is None:
        raise Http404("no such process")
    drafts = list(
        process.drafts.filter(published_at__isnull=False).prefetch_related("lines__reviews")
    )
    motions = list(
        process.motions.exclude(state=AmendmentMotion.State.SIGNING)
        .select_related("line")
        .prefetch_related("signatures")
    )
    return render(
        request,
        "budgeting/congress_public.html",
        {
            "process": process,
            "drafts": drafts,
            "latest": drafts[-1] if drafts else None,
            "first": drafts[0] if drafts else None,
            "motions": motions,
            "min_signers": BUDGET_MOTION_MIN_SIGNERS,
        },
    )
