"""GET /api/v1/studios: the public directory of studios, a plain JSON array (a fixed
interface: public fields only, never a member's contact)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from ninja import Query, Router, Schema

from civicloop.studios import selectors
from civicloop.studios.models import Studio

router = Router(tags=["studios"])


class StudioOut(Schema):
    id: int
    name: str
    kind: str
    sector: str
    town: str
    fields: list[str]
    address: str
    office_hours: str
    url: str
    code_png: str


def studio_public_json(studio: Studio) -> dict[str, Any]:
    """The public fields of a studio."""
    return {
        "id": studio.pk,
        "name": studio.name,
        "kind": studio.kind,
        "sector": studio.sector,
        "town": studio.town.name,
        "fields": list(studio.fields or []),
        "address": studio.address,
        "office_hours": studio.office_hours,
        "url": selectors.studio_url(studio),
        "code_png": settings.SITE_URL
        + reverse("studios:studio_code_png", kwargs={"slug": studio.slug}),
    }


def studios_list(
    request: HttpRequest,
    response: HttpResponse,
    q: str = Query("", description="words in the name, sector or address"),
    field: str = Query("", description="a field, e.g. 教育"),
    town: str = Query("", description="a town's area code or name"),
    kind: str = Query("", description="town or sector"),
) -> list[dict[str, Any]]:
    """Every active studio, public fields only, as a plain JSON array."""
    response["Content-Type"] = "application/json"
    patch_cache_control(response, public=True, max_age=60)
    rows = selectors.studios_search(q=q[:50], field=field[:20], town=town[:32], kind=kind[:8])
    return [studio_public_json(s) for s in rows]


for _path in ("/studios", "/studios/"):
    router.add_api_operation(
        _path,
        ["GET", "HEAD"],
        studios_list,
        response={200: list[StudioOut]},
        auth=None,
        include_in_schema=_path == "/studios",
    )
