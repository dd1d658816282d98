"""The project's URLs only include apps; each app owns its own.

Uploaded files are never served from MEDIA_URL: case attachments go through the web
app's permission-checked views, in development too."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("civicloop.opinions.public_urls")),
    path("", include("civicloop.firelane.urls")),
    path("", include("civicloop.api.urls")),
    path("", include("civicloop.opinions.urls")),
    path("", include("civicloop.web.urls")),
]
