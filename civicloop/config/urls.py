"""The project's URLs only include apps; each app owns its own.

Every enabled module's URLs are included from its ModuleSpec (`urls`); its JSON API is
mounted under /api/v1/ by the API app. Uploaded files are never served from MEDIA_URL:
case attachments go through the web app's permission-checked views, in development too."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from civicloop.core import registry

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *(path("", include(spec.urls)) for spec in registry.modules() if spec.urls),
    path("", include("civicloop.api.urls")),
    path("", include("civicloop.web.urls")),
]
