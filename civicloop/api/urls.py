"""URLs of the API app: the JSON API (/api/v1/), Open311 (/open311/v2/) and /healthz."""

from __future__ import annotations

from django.urls import path, re_path

from civicloop.api.api import api
from civicloop.api.docs import docs_asset
from civicloop.api.health import healthz, healthz_ready
from civicloop.api.i18n import localize_patterns
from civicloop.api.open311 import views as open311

FORMAT = r"\.(?P<fmt>json|xml)$"
api_patterns, api_app_name, api_namespace = api.urls

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/ready", healthz_ready, name="healthz_ready"),
    path("api/v1/docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("api/v1/", (localize_patterns(api_patterns), api_app_name, api_namespace)),
    re_path(r"^open311/v2/discovery" + FORMAT, open311.discovery, name="open311-discovery"),
    re_path(r"^open311/v2/services" + FORMAT, open311.services, name="open311-services"),
    re_path(
        r"^open311/v2/services/(?P<code>[\w-]{1,32})" + FORMAT,
        open311.service_detail,
        name="open311-service",
    ),
    re_path(r"^open311/v2/requests" + FORMAT, open311.requests, name="open311-requests"),
    re_path(
        r"^open311/v2/requests/(?P<number>[\w-]{1,32})" + FORMAT,
        open311.request_detail,
        name="open311-request",
    ),
]
