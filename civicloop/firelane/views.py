"""Staff pages of 生命通道: the officer's review queue and case review (evidence side by
side, approve or dismiss with a reason), the plate-check queue, and sighting images.

Every page checks the user's fire-lane scope (access.py); a case or sighting outside it
is a 404, whether or not it exists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from civicloop.core.accounts.masking import mask_plate
from civicloop.core.accounts.models import User
from civicloop.core.cases import labels
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.models import Case
from civicloop.core.errors import refusal_show
from civicloop.firelane.access import FirelaneScope, firelane_scope_for
from civicloop.firelane.models import Notice, Owner, PlateColor, Sighting, Stay
from civicloop.firelane.notices import (
    FIRE_LANE_FINE_MAX_INDIVIDUAL_YUAN,
    NoticeError,
    StatementOutcome,
    evidence_of,
    fine_default_fen,
    notice_approve,
    notice_dismiss,
    notice_posted,
    notice_statement_decide,
)
from civicloop.firelane.payments.provider import fen_to_yuan, yuan_to_fen
from civicloop.firelane.plates import plate_normalize
from civicloop.firelane.selectors import stays_awaiting_review
from civicloop.firelane.tracking import sighting_confirm, sighting_reject
from civicloop.firelane.workflow import REVIEW, STATEMENT, TO_POST

QUEUE_LIMIT = 200


def _scope(request: HttpRequest) -> FirelaneScope:
    scope = firelane_scope_for(user=request.user)
    if not scope.can_review:
        raise PermissionDenied
    return scope


def _officer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    sites = scope.review_sites()
    stays = (
        Stay.objects.filter(site__in=sites, case__state__in=[REVIEW, TO_POST, STATEMENT])
        .select_related("case", "site", "lane")
        .order_by("case__due_at", "pk")[:QUEUE_LIMIT]
    )
    groups: dict[str, list[dict[str, Any]]] = {REVIEW: [], TO_POST: [], STATEMENT: []}
    for stay in stays:
        assert stay.case is not None
        groups[stay.case.state].append(
            {
                "case": stay.case,
                "plate": mask_plate(stay.plate),
                "site": stay.site.name,
                "lane": stay.lane.name,
                "minutes": stay.duration_minutes,
            }
        )
    checks = (
        Sighting.objects.filter(camera__site__in=sites, plate_check=Sighting.Check.REVIEW)
        .select_related("camera__site")
        .order_by("taken_at")[:QUEUE_LIMIT]
    )
    return render(
        request,
        "firelane/review_queue.html",
        {
            "review": groups[REVIEW],
            # The badge counts what the dashboard's 待审核 counts, rows past the limit too.
            "review_count": stays_awaiting_review(sites=sites).count(),
            "to_post": groups[TO_POST],
            "statements": groups[STATEMENT],
            "checks": checks,
        },
    )


def _reviewable(request: HttpRequest, number: str) -> tuple[Case, Stay]:
    scope = _scope(request)
    stay = (
        Stay.objects.select_related("case", "site", "lane__camera")
        .filter(case__number=number)
        .first()
    )
    if stay is None or stay.case is None or not scope.reviews_site(stay.site):
        raise Http404("case not found")
    return stay.case, stay


@login_required
@require_GET
def review_detail(request: HttpRequest, number: str) -> HttpResponse:
    case, stay = _reviewable(request, number)
    evidence = evidence_of(case) or {}
    files = [_with_local_times(f) for f in evidence.get("files") or []]
    owner = Owner.objects.filter(stay=stay).first()
    notice = Notice.objects.filter(case=case).first()
    return render(
        request,
        "firelane/review_detail.html",
        {
            "case": case,
            "stay": stay,
            "plate": stay.plate,
            "evidence": evidence,
            "color_label": PlateColor(evidence["color"]).label
            if evidence.get("color") in PlateColor.values
            else evidence.get("color", ""),
            "scenes": [f for f in files if f.get("role") == "scene"],
            "crops": [f for f in files if f.get("role") == "plate"],
            "polygon_points": " ".join(
                f"{x * 100:.2f},{y * 100:.2f}"
                for x, y in evidence.get("lane", {}).get("polygon", [])
            ),
            "owner_found": bool(owner and owner.found),
            # The stay's duration, as the dashboard and the notice show it.
            "duration_minutes": stay.duration_minutes,
            "notice": notice,
            "notice_amount_yuan": fen_to_yuan(notice.amount_fen) if notice else "",
            "fine_default_yuan": fine_default_fen() // 100,
            "fine_max_yuan": FIRE_LANE_FINE_MAX_INDIVIDUAL_YUAN,
            "timeline": [
                (entry, labels.action_label(case.workflow, entry.action))
                for entry in case.timeline.order_by("seq")
            ],
        },
    )


def _with_local_times(entry: dict[str, Any]) -> dict[str, Any]:
    """The evidence keeps ISO times in UTC; officers read them in Beijing time."""
    out = dict(entry)
    for key in ("taken_at", "camera_time"):
        try:
            out[f"{key}_local"] = timezone.localtime(datetime.fromisoformat(entry[key]))
        except (KeyError, TypeError, ValueError):
            out[f"{key}_local"] = None
    return out


def _amount_fen(raw: str | None) -> int | None:
    """The officer's amount in yuan as exact fen (never through a float)."""
    try:
        return yuan_to_fen((raw or "").strip())
    except ValueError:
        return None


# The form's buttons name the workflow's actions.
_STATEMENT_OUTCOMES = {
    "uphold": StatementOutcome.REJECTED,
    "reduce": StatementOutcome.REDUCED,
    "accept_statement": StatementOutcome.ACCEPTED,
}


@login_required
@require_POST
def review_decide(request: HttpRequest, number: str) -> HttpResponse:
    """Approve, dismiss, confirm posting, or decide on a statement (the `decision` field)."""
    case, _stay = _reviewable(request, number)
    officer = _officer(request)
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")
    try:
        if decision == "approve":
            amount = _amount_fen(request.POST.get("amount_yuan"))
            if amount is None:
                messages.error(request, _("请填写罚款金额。"))
                return redirect("firelane:review_detail", number=number)
            notice = notice_approve(case=case, officer=officer, amount_fen=amount)
            messages.success(request, _("已开具告知单 %(number)s。") % {"number": notice.number})
        elif decision == "dismiss":
            notice_dismiss(case=case, officer=officer, reason=reason)
            messages.success(request, _("已作不予处罚处理。"))
        elif decision == "posted":
            notice_posted(case=case, officer=officer, note=reason)
            messages.success(request, _("已记录张贴送达。"))
        elif decision in _STATEMENT_OUTCOMES:
            reduced = None
            if decision == "reduce":
                reduced = _amount_fen(request.POST.get("amount_yuan"))
                if reduced is None:
                    messages.error(request, _("请填写减轻后的罚款金额。"))
                    return redirect("firelane:review_detail", number=number)
            notice_statement_decide(
                case=case,
                officer=officer,
                outcome=_STATEMENT_OUTCOMES[decision],
                reason=reason,
                amount_fen=reduced,
            )
            messages.success(request, _("已处理陈述申辩。"))
        else:
            raise Http404("unknown decision")
    except (NoticeError, CaseError) as err:
        refusal_show(request, err)
    return redirect("firelane:review_detail", number=number)


def _checkable(request: HttpRequest, pk: int) -> Sighting:
    scope = _scope(request)
    sighting = Sighting.objects.select_related("camera__site").filter(pk=pk).first()
    if sighting is None or not scope.reviews_site(sighting.camera.site):
        raise Http404("sighting not found")
    return sighting


@login_required
@require_POST
def plate_check(request: HttpRequest, pk: int) -> HttpResponse:
    """A human checks a plate the server and the camera did not agree on."""
    sighting = _checkable(request, pk)
    if request.POST.get("decision") == "reject":
        sighting_reject(sighting=sighting)
        messages.success(request, _("已排除该抓拍。"))
        return redirect("firelane:review_queue")
    plate = plate_normalize(request.POST.get("plate", ""))
    if plate is None:
        messages.error(request, _("车牌号格式不正确。"))
        return redirect("firelane:review_queue")
    sighting_confirm(sighting=sighting, plate=plate)
    messages.success(request, _("已确认车牌。"))
    return redirect("firelane:review_queue")


@login_required
@require_GET
def sighting_image(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    sighting = _checkable(request, pk)
    field = sighting.scene if kind == "scene" else sighting.crop if kind == "plate" else None
    if not field:
        raise Http404("no image")
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
