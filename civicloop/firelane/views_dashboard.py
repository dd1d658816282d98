"""The 生命通道 dashboard for the fire brigade and the sites' managing units: the page.
The JSON it polls is `GET /api/v1/firelane/dashboard` (the module's router, `api.py`);
both see only the sites of the viewer's `FirelaneScope`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from civicloop.firelane.access import FirelaneScope, firelane_scope_for
from civicloop.firelane.dashboard import (
    DAYS,
    dashboard_payload,
    dashboard_site_choices,
    dashboard_sites,
)

LIVE_POLL_S = 10  # the live table and figures
CHARTS_POLL_S = 300  # the 30-day charts change slowly


def _site_code(request: HttpRequest, choices: list[tuple[str, str]]) -> str:
    code = request.GET.get("site", "").strip()
    if code and code not in dict(choices):
        # A site outside the scope looks exactly like one that does not exist.
        raise Http404("no such site")
    return code


def _chart_labels() -> dict[str, Any]:
    """Every word the charts draw, translated here so the script holds no text."""
    return {
        "stays": _("停留"),
        "warnings": _("短信提醒"),
        "notices": _("告知单"),
        "paid": _("已缴款"),
        "warn_p50": _("发现→提醒 中位数"),
        "warn_p90": _("发现→提醒 P90"),
        "move_p50": _("提醒→驶离 中位数"),
        "move_p90": _("提醒→驶离 P90"),
        "minutes": _("分钟"),
        "times": _("次"),
        "online": _("在线"),
        "offline": _("离线"),
        "disabled": _("停用"),
        "warned": _("已提醒"),
        "awaiting_review": _("待审核"),
        "not_warned": _("未提醒"),
        "no_cars": _("当前没有车辆占用消防车通道。"),
        "no_offline": _("所有摄像机在线。"),
        "updated": _("更新于"),
        "update_failed": _("更新失败，稍后重试"),
        "never": _("从未上线"),
    }


def _denied(request: HttpRequest) -> HttpResponse:
    return render(request, "firelane/dashboard.html", {"denied": True}, status=403)


@login_required
@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The dashboard page: figures and tables rendered here, charts drawn by the script
    from the same data, then kept live by polling the API's `firelane_dashboard`."""
    scope: FirelaneScope = firelane_scope_for(user=request.user)
    if not scope.can_view:
        return _denied(request)
    choices = dashboard_site_choices(scope=scope)
    site_code = _site_code(request, choices)
    sites = dashboard_sites(scope=scope, site_code=site_code)
    data = dashboard_payload(sites=sites, now=timezone.now())
    data_url = reverse("api:firelane_dashboard")
    return render(
        request,
        "firelane/dashboard.html",
        {
            "data": data,
            "labels": _chart_labels(),
            "site_choices": choices,
            "site_code": site_code,
            "site_name": dict(choices).get(site_code, ""),
            "days": DAYS,
            "data_url": data_url + (f"?site={site_code}" if site_code else ""),
            "live_poll_s": LIVE_POLL_S,
            "charts_poll_s": CHARTS_POLL_S,
            "reviews": scope.can_review,
        },
    )
