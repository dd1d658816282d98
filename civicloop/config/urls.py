"""The project's URLs only include apps; each app owns its own."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("civicloop.api.urls")),
    path("", include("civicloop.web.urls")),
]

if settings.DEBUG and not getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""):
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
