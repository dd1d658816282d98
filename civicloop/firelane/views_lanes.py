"""The lane editor: a camera's latest picture with its fire lanes drawn over it, where
staff who configure sites draw, rename and delete lanes (lanes.py checks and saves).

Only superusers and staff holding `firelane.change_lane` get in; everyone else signed in
gets 403. The picture is served here, after the same check, never from MEDIA."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicloop.core.errors import refusal_show
from civicloop.firelane.lanes import (
    LANE_NAME_MAX,
    LANE_POINTS_MAX,
    LANE_POINTS_MIN,
    LaneError,
    camera_scene_latest,
    lane_delete,
    lane_editor_allowed,
    lane_save,
)
from civicloop.firelane.models import Camera, Sighting


def access_camera_by_serial(request: HttpRequest, serial: str) -> Camera:
    """The camera, once the user is known to be allowed to draw its lanes."""
    if not lane_editor_allowed(user=request.user):
        raise PermissionDenied
    return get_object_or_404(Camera.objects.select_related("site"), serial=serial)


def _lane_id(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Http404("unknown lane") from None


@login_required
@require_http_methods(["GET", "POST"])
def lane_editor(request: HttpRequest, serial: str) -> HttpResponse:
    """GET: the editor. POST: save one lane (name, lane_id or empty for a new lane,
    polygon as JSON); a refused lane comes back with the drawing kept and the reason."""
    camera = access_camera_by_serial(request, serial)
    draft: dict[str, Any] | None = None
    error = ""
    status = 200
    if request.method == "POST":
        lane_id = _lane_id(request.POST.get("lane_id"))
        name = request.POST.get("name", "")
        raw_polygon = request.POST.get("polygon", "")
        try:
            lane = lane_save(
                camera=camera, lane_id=lane_id, name=name, polygon=raw_polygon, actor=request.user
            )
        except LaneError as err:
            error, status = err.message, 400
            draft = {"id": lane_id, "name": name, "raw": raw_polygon}
        else:
            messages.success(request, _("已保存通道「%(name)s」。") % {"name": lane.name})
            return redirect("firelane:lane_editor", serial=camera.serial)
    return render(
        request, "firelane/lanes.html", _context(request, camera, draft, error), status=status
    )


def _context(
    request: HttpRequest, camera: Camera, draft: dict[str, Any] | None, error: str
) -> dict[str, Any]:
    scene = camera_scene_latest(camera=camera)
    lanes = [
        {"id": lane.pk, "name": lane.name, "polygon": lane.polygon} for lane in camera.lanes.all()
    ]
    return {
        "camera": camera,
        "scene": scene,
        "lanes": lanes,
        "draft": draft,
        "error": error,
        "can_delete": request.user.has_perm("firelane.delete_lane"),
        "points_min": LANE_POINTS_MIN,
        "points_max": LANE_POINTS_MAX,
        "name_max": LANE_NAME_MAX,
        # The placeholder keeps the picture's shape so lanes drawn before any picture
        # arrived still fit it; fractions do not care about the actual resolution.
        "aspect_w": camera.image_width or 16,
        "aspect_h": camera.image_height or 9,
    }


@login_required
@require_POST
def lane_remove(request: HttpRequest, serial: str, lane_id: int) -> HttpResponse:
    camera = access_camera_by_serial(request, serial)
    try:
        lane_delete(camera=camera, lane_id=lane_id, actor=request.user)
    except LaneError as err:
        refusal_show(request, err)
    else:
        messages.success(request, _("已删除通道。"))
    return redirect("firelane:lane_editor", serial=camera.serial)


@login_required
@require_GET
def lane_scene_image(request: HttpRequest, serial: str, pk: int) -> FileResponse:
    """A scene picture of this camera, for the editor. Any of its sightings' scenes may
    be asked for by id, so the page's address of a picture never changes under a cache."""
    camera = access_camera_by_serial(request, serial)
    sighting = Sighting.objects.filter(pk=pk, camera=camera).exclude(scene="").first()
    if sighting is None:
        raise Http404("no picture")
    try:
        handle = sighting.scene.open("rb")
    except OSError:
        raise Http404("picture missing from storage") from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
