"""`GET /api/v1/firelane/cameras`: the cameras with their site, status and last contact,
for any integration holding an API key (`manage.py create_api_key`)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from civicloop.core.accounts.services import api_key_authenticate
from civicloop.firelane.models import Camera


def camera_status(camera: Camera, *, now: datetime | None = None) -> str:
    """Online only while the camera has been heard from within its heartbeat interval."""
    if camera.status == Camera.Status.DISABLED:
        return Camera.Status.DISABLED
    if not camera.heard_within_heartbeat(now=now or timezone.now()):
        return Camera.Status.OFFLINE
    return Camera.Status.ONLINE


@require_GET
def cameras_list_api(request: HttpRequest) -> JsonResponse:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or api_key_authenticate(raw=token.strip()) is None:
        response = JsonResponse({"detail": "A valid API key is required."}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    now = timezone.now()
    cameras = Camera.objects.select_related("site").order_by("site__code", "serial")
    return JsonResponse(
        [
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
        ],
        safe=False,
    )
