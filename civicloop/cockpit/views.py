"""The cockpit's page: /cockpit/ (desktop and phone), /cockpit/?screen=1 (the 1920×1080
wall of the 联络总站, refreshing itself). Thin: reads `selectors`, renders."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from civicloop.cockpit import selectors
from civicloop.cockpit.errors import CockpitError, CockpitErrorCode
from civicloop.core import registry
from civicloop.core.cases.figures import Scope, figures_received

# Period presets: (code, label) -> first received day, given today.
PERIODS = ("today", "week", "month", "year")
SCREEN_REFRESH_SECONDS = 60


def _period_start(period: str, today: date) -> date:
    if period == "today":
        return today
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    return today.replace(month=1, day=1)


def _period_labels() -> dict[str, str]:
    return {"today": _("今日"), "week": _("本周"), "month": _("本月"), "year": _("本年")}


@login_required
@require_GET
def cockpit_view(request: HttpRequest) -> HttpResponse:
    if getattr(request.user, "is_citizen", False):
        return redirect("web:citizen_login")
    try:
        area = selectors.access_area_by_code(user=request.user, code=request.GET.get("area"))
    except CockpitError as exc:
        if exc.code == CockpitErrorCode.AREA:
            raise Http404(exc.message) from None
        raise PermissionDenied(exc.message) from None
    now = timezone.now()
    today = timezone.localdate(now)
    period = request.GET.get("period", "year")
    if period not in PERIODS:
        period = "year"
    day_from, day_to = _period_start(period, today), today
    base = urlencode(
        {"area": area.code, "created_from": day_from.isoformat(), "created_to": day_to.isoformat()}
    )
    groups = [
        (g, label)
        for g, label in (
            ("town", _("按镇（街道）")),
            ("assignee", _("按承办单位")),
            ("owner", _("按联络站、受理单位")),
            ("person", _("按代表")),
            ("category", _("按类别")),
        )
        if not (g == "town" and area.level > 1)
    ]
    data, rows = selectors.cockpit_page_figures(
        area=area,
        day_from=day_from,
        day_to=day_to,
        groups=[g for g, _label in groups],
        now=now,
        base_query=base,
    )
    # Received today and this week are shown whatever the period.
    week = figures_received(scope=Scope(area.path, today - timedelta(days=today.weekday()), today))
    today_fig = figures_received(scope=Scope(area.path, today, today))
    total = data["total"]
    channels = [
        {"code": code, **fig, "href": f"/cases/?{base}&channel={code}"}
        for code, fig in data["channels"].items()
    ]
    breakdowns = [(g, label, rows[g]) for g, label in groups]
    tiles = []
    for _owner, tile in registry.cockpit_tiles():
        values = import_string(tile.figures)(user=request.user, now=now)
        if values is not None:
            tiles.append((tile, values))
    chart_data: dict[str, Any] = {
        "trends": selectors.trends(area=area, today=today),
        "map": selectors.map_points(area=area, day_from=day_from, day_to=day_to),
        "geo": f"{settings.STATIC_URL}vendor/geo/wenling.geojson",
        "labels": {
            "received": _("受理"),
            "closed": _("办结"),
            "stations": _("代表联络站"),
            "origin": _("民意来源"),
            "week": _("按周"),
            "month": _("按月"),
        },
    }
    screen = request.GET.get("screen") == "1"
    context = {
        "area": area,
        "areas": selectors.cockpit_areas_for(user=request.user),
        "towns": selectors.towns_of(area),
        "period": period,
        "periods": [(p, label) for p, label in _period_labels().items()],
        "day_from": day_from,
        "day_to": day_to,
        "total": total,
        "received_today": sum(f.received for f in today_fig.values()),
        "received_week": sum(f.received for f in week.values()),
        "channels": channels,
        "base": base,
        "breakdowns": breakdowns,
        "tiles": tiles,
        "chart_data": chart_data,
        "screen": screen,
        "refresh_seconds": SCREEN_REFRESH_SECONDS,
        "now": now,
        "stations": selectors.stations_count(),
    }
    return render(request, "cockpit/cockpit.html", context)
