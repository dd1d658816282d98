"""Staff pages of the panel beyond the draw itself (views.panel_view): the panel's settings
and strata quotas before the draw, and the roster after it (designated members within
their share, the reserve list and calling up a reserve when a member declines).

Every view resolves the process through ``views._staff_process`` (the login page for an
anonymous visitor, 403 for anyone who does not run the process); a refusal of a service
on a POST comes back as a message on the same page (the web middleware)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicloop.budgeting import draw as lottery
from civicloop.budgeting import selectors, services
from civicloop.budgeting.errors import BudgetError, BudgetErrorCode
from civicloop.budgeting.forms import DesignatedForm, PanelSettingsForm
from civicloop.budgeting.models import BudgetProcess, FrameRow, PanelDraw, Phase
from civicloop.budgeting.views import _int, _staff_page, _staff_process
from civicloop.core.errors import DomainError, refusal_show

# Phases in which the panel's settings may still change (a draw, or a re-draw, is ahead).
SETTINGS_PHASES = (Phase.COLLECTING, Phase.SCREENING, Phase.SAMPLING)


def _quota_rows(
    process: BudgetProcess, frame: list[lottery.FramePerson], features: list[str]
) -> list[dict[str, Any]]:
    """One row per stratum value of ``features`` in the frame: its population, the
    proportional suggestion and the quota set now (if any)."""
    seats = services.drawn_seats(process)
    suggested = {
        (q.feature, q.value): q
        for q in lottery.quotas_proportional(frame=frame, features=features, size=seats)
    }
    current = {(str(q["feature"]), str(q["value"])): q for q in process.panel_quotas}
    rows = []
    for feature in features:
        counts = Counter(p.strata.get(feature, "") for p in frame)
        for value in sorted(counts):
            key = (feature, value)
            rows.append(
                {
                    "feature": feature,
                    "value": value,
                    "population": counts[value],
                    "suggested": suggested.get(key),
                    "min": current[key]["min"] if key in current else "",
                    "max": current[key]["max"] if key in current else "",
                }
            )
    return rows


def _quotas_from_post(post: Any) -> list[dict[str, Any]]:
    """The quota table as posted: every row blank (proportional) or every row filled."""
    rows = []
    blank = filled = 0
    for i in range(_int(post.get("rows")) or 0):
        feature, value = post.get(f"q{i}_feature", ""), post.get(f"q{i}_value", "")
        low, high = post.get(f"q{i}_min", "").strip(), post.get(f"q{i}_max", "").strip()
        if not low and not high:
            blank += 1
            continue
        filled += 1
        if _int(low) is None or _int(high) is None or int(low) < 0 or int(high) < 0:
            raise BudgetError(
                BudgetErrorCode.INVALID,
                _("%(f)s=%(v)s：上下限须为非负整数。") % {"f": feature, "v": value},
                field="quotas",
            )
        rows.append({"feature": feature, "value": value, "min": int(low), "max": int(high)})
    if blank and filled:
        raise BudgetError(
            BudgetErrorCode.MISSING,
            _("请为每一层都填写上下限，或全部留空（按抽样框比例）。"),
            field="quotas",
        )
    return rows


@_staff_page
@require_http_methods(["GET", "POST"])
def quotas_view(request: HttpRequest, code: str) -> HttpResponse:
    """The panel's size, reserves, designated share, strata and quotas, before the draw."""
    process = _staff_process(request, code)
    editable = process.phase in SETTINGS_PHASES
    form = PanelSettingsForm(
        request.POST or None,
        initial={
            "panel_size": process.panel_size,
            "panel_reserve": process.panel_reserve,
            "designated_share": process.designated_share,
            "panel_features": ", ".join(process.panel_features),
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            proportional = request.POST.get("op") == "proportional"
            try:
                services.process_panel_set(
                    process=process,
                    size=form.cleaned_data["panel_size"],
                    reserve=form.cleaned_data["panel_reserve"],
                    designated_share=form.cleaned_data["designated_share"],
                    features=form.features(),
                    quotas=[] if proportional else _quotas_from_post(request.POST),
                )
            except DomainError as exc:
                refusal_show(request, exc, form=form)
                status = exc.status
            else:
                messages.success(request, _("抽样设置已保存。"))
                return redirect("budgeting:quotas", code=code)
        else:
            status = 400
        process.refresh_from_db()
    frame = services.frame_people(process)
    features = list(process.panel_features) or sorted({k for p in frame[:1] for k in p.strata})
    columns = sorted({k for p in frame[:1] for k in p.strata})
    return render(
        request,
        "budgeting/quotas.html",
        {
            "process": process,
            "form": form,
            "editable": editable,
            "frame_size": len(frame),
            "columns": columns,
            "features": features,
            "rows": _quota_rows(process, frame, features) if frame else [],
            "seats": services.drawn_seats(process),
            "designated_seats": process.panel_size - services.drawn_seats(process),
            "has_draw": process.draws.exists(),
        },
        status=status,
    )


def _draw_or_404(process: BudgetProcess) -> PanelDraw:
    draw = selectors.draw_current(process)
    if draw is None:
        raise Http404("not drawn yet")
    return draw


@_staff_page
@require_http_methods(["GET", "POST"])
def roster_view(request: HttpRequest, code: str) -> HttpResponse:
    """The roster of the current draw: designated members (marked in the frame or added
    by name) within their share, members who declined and the reserve called up for
    each, and the reserve list in its order."""
    process = _staff_process(request, code)
    draw = _draw_or_404(process)
    form = DesignatedForm()
    if request.method == "POST":
        op = request.POST.get("op", "")
        if op == "designate_name":
            form = DesignatedForm(request.POST)
            if form.is_valid():
                try:
                    services.designated_add(
                        draw=draw,
                        name=form.cleaned_data["name"],
                        role=form.cleaned_data["role"],
                        actor=request.user,
                    )
                except DomainError as exc:
                    refusal_show(request, exc, form=form)
                    return _roster_page(request, process, draw, form, status=exc.status)
                messages.success(request, _("已添加指定代表。"))
                return redirect("budgeting:roster", code=code)
            return _roster_page(request, process, draw, form, status=400)
        if op == "designate_row":
            row = FrameRow.objects.filter(
                process=process, pk=_int(request.POST.get("row")) or 0
            ).first()
            if row is None:
                raise Http404("no such frame row")
            services.designated_add(draw=draw, frame_row=row, actor=request.user)
            messages.success(request, _("已添加指定代表。"))
        elif op in ("undesignate", "call_up"):
            member = draw.members.filter(pk=_int(request.POST.get("member")) or 0).first()
            if member is None:
                raise Http404("no such member")
            if op == "undesignate":
                services.designated_remove(member=member)
                messages.success(request, _("已移除指定代表。"))
            else:
                reserve = services.reserve_call_up(member=member, actor=request.user)
                messages.success(
                    request,
                    _("已由第 %(rank)d 号候补递补，请发送邀请短信。")
                    % {"rank": reserve.reserve_rank or 0},
                )
        else:
            raise Http404("unknown step")
        return redirect("budgeting:roster", code=code)
    return _roster_page(request, process, draw, form)


def _roster_page(
    request: HttpRequest,
    process: BudgetProcess,
    draw: PanelDraw,
    form: DesignatedForm,
    *,
    status: int = 200,
) -> HttpResponse:
    roster = selectors.panel_roster(draw)
    return render(
        request,
        "budgeting/roster.html",
        {
            "process": process,
            "draw": draw,
            "form": form,
            "counts": selectors.panel_counts(draw),
            "can_change": process.phase in (Phase.SAMPLING, Phase.DELIBERATION),
            "can_remove": process.phase == Phase.SAMPLING,
            "seats_left": max(0, roster["designated_seats"] - len(roster["designated"])),
            **roster,
        },
        status=status,
    )
