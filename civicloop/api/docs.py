"""The Swagger UI page at /api/v1/docs, served entirely from this server.

django-ninja falls back to a CDN page unless "ninja" is an installed app; this page uses
the Swagger UI files shipped inside the ninja package instead, served by `docs_asset`.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from ninja.openapi.docs import Swagger

if TYPE_CHECKING:
    from ninja import NinjaAPI

NINJA_STATIC = Path(ninja.__file__).resolve().parent / "static" / "ninja"
DOCS_ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.png", "favicon.svg"}
)


class LocalSwaggerDocs(Swagger):
    """Swagger UI from local files (no CDN), with the CSRF token for session writes."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "api": api,
            "swagger_settings": json.dumps(settings, indent=1),
            "csrf": get_token(request),
            "assets": {
                name.replace("-", "_").replace(".", "_"): reverse("api-docs-asset", args=[name])
                for name in DOCS_ASSETS
            },
        }
        return render(request, "api/swagger.html", context)


@require_GET
def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    """One of Swagger UI's files from the ninja package (a fixed list, nothing else)."""
    if name not in DOCS_ASSETS:
        raise Http404("no such asset")
    path = NINJA_STATIC / name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
