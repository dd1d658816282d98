"""The module's JSON API, its ninja `router` (mounted at /api/v1/firelane/, so in the
OpenAPI schema):

- `GET /api/v1/firelane/cameras` (a fixed interface): the cameras with their site,
  status and last contact, for any integration holding an API key
  (`manage.py create_api_key`);
- `GET /api/v1/firelane/dashboard`: the dashboard's figures for a signed-in staff member,
  over the sites of their `FirelaneScope` (what the dashboard page polls).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from civicloop.core.accounts.api_auth import ApiKeyBearerAuth, StaffSessionAuth
from civicloop.core.api_schemas import ErrorOut
from civicloop.firelane.access import firelane_scope_for
from civicloop.firelane.dashboard import dashboard_payload, dashboard_site_choices, dashboard_sites
from civicloop.firelane.models import Camera

router = Router(tags=["firelane"])

# Published as plain `application/json` (the cameras list is a fixed interface).
JSON = "application/json"


def camera_status(camera: Camera, *, now: datetime | None = None) -> str:
    """Online only while the camera has been heard from within its heartbeat interval."""
    if camera.status == Camera.Status.DISABLED:
        return Camera.Status.DISABLED
    if not camera.heard_within_heartbeat(now=now or timezone.now()):
        return Camera.Status.OFFLINE
    return Camera.Status.ONLINE


# --------------------------------------------------------------------------- cameras


class CameraOut(Schema):
    serial: str
    name: str
    vendor: str
    site: str
    site_code: str
    status: str = Field(description="online / offline / disabled")
    # Kept as Python's isoformat (microseconds, +00:00), as the interface was published.
    last_seen: str | None = Field(description="ISO 8601; null if never heard from")


@router.get(
    "/cameras",
    response={200: list[CameraOut], 401: ErrorOut},
    auth=[ApiKeyBearerAuth()],
    url_name="firelane_cameras",
)
def cameras_list(request: HttpRequest, response: HttpResponse) -> list[dict[str, Any]]:
    """Every camera, by site and serial: its site, status (online / offline / disabled,
    from its heartbeat) and when it was last heard from."""
    response["Content-Type"] = JSON
    now = timezone.now()
    cameras = Camera.objects.select_related("site").order_by("site__code", "serial")
    return [
        {
            "serial": c.serial,
            "name": c.name,
            "vendor": c.vendor,
            "site": c.site.name,
            "site_code": c.site.code,
            "status": camera_status(c, now=now),
            "last_seen": c.last_seen_at.isoformat() if c.last_seen_at else None,
        }
        for c in cameras
    ]


# --------------------------------------------------------------------------- dashboard
# Times are the dashboard's own strings: `*_at` ISO 8601 in local time, the short ones
# as the tables show them ("11-02 14:05"). Plates are always masked.


class OfflineCameraOut(Schema):
    name: str
    site: str
    last_seen_at: str | None
    last_seen: str


class CamerasOut(Schema):
    total: int
    online: int
    offline: int
    disabled: int
    offline_list: list[OfflineCameraOut]


class OpenStayOut(Schema):
    plate: str
    site: str
    lane: str
    started_at: str
    started: str
    minutes: int
    warned: bool
    awaiting_review: bool


class OpenStaysOut(Schema):
    count: int
    awaiting_review: int
    rows: list[OpenStayOut]


class FiguresOut(Schema):
    stays: int
    warnings: int
    notices: int
    paid: int
    paid_yuan: float


class DayFiguresOut(FiguresOut):
    day: str


class LiveOut(Schema):
    cameras: CamerasOut
    open_stays: OpenStaysOut
    today: FiguresOut


class RepeatOffenderOut(Schema):
    plate: str
    stays: int
    warned: int
    last_at: str | None
    last: str


class SpreadOut(Schema):
    """Median and 90th percentile of a duration (null: no data)."""

    count: int
    p50_s: float | None
    p90_s: float | None
    p50_min: float | None
    p90_min: float | None


class DayResponseOut(Schema):
    day: str
    warn: SpreadOut
    move: SpreadOut


class ResponseTimesOut(Schema):
    warn: SpreadOut
    move: SpreadOut
    days: list[DayResponseOut]


class DashboardOut(Schema):
    """`live` always; the 30-day part (`totals`, `days`, `repeat`, `response`) unless
    only the live part was asked for."""

    generated_at: str
    site: str | None
    live: LiveOut
    totals: FiguresOut | None = None
    days: list[DayFiguresOut] | None = None
    repeat: list[RepeatOffenderOut] | None = None
    response: ResponseTimesOut | None = None


@router.get(
    "/dashboard",
    response={200: DashboardOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=[StaffSessionAuth()],
    # The live part leaves out the 30-day keys instead of sending them as null.
    exclude_unset=True,
    url_name="firelane_dashboard",
)
def dashboard(
    request: HttpRequest,
    response: HttpResponse,
    site: str = Query("", description="one site's code (default: every site in scope)"),
    part: str = Query("", description="`live` for the live part only (what the page polls)"),
) -> dict[str, Any]:
    """The 生命通道 dashboard's figures over the sites the staff member may see (403 if
    none; a site outside them is 404, like one that does not exist)."""
    scope = firelane_scope_for(user=request.auth)  # type: ignore[attr-defined]
    if not scope.can_view:
        raise PermissionDenied
    site_code = site.strip()
    if site_code and site_code not in dict(dashboard_site_choices(scope=scope)):
        raise Http404("no such site")
    sites = dashboard_sites(scope=scope, site_code=site_code)
    payload = dashboard_payload(sites=sites, now=timezone.now(), charts=part != "live")
    payload["site"] = site_code or None
    response["Content-Type"] = JSON
    # Live figures: never from a cache, and never kept by a shared one (plates, even masked).
    response["Cache-Control"] = "private, no-store"
    return payload
