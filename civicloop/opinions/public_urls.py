"""Public URLs of the 民意 module: directory pages, the code resolver, code images and
posters. The directory's JSON (/api/v1/deputies, /api/v1/stations) is the module's ninja
router, in `api.py`."""

from __future__ import annotations

from django.urls import path

from civicloop.opinions import public_views

app_name = "opinions_public"
urlpatterns = [
    path("deputies/", public_views.deputy_list, name="deputy_list"),
    path("deputies/<int:pk>/photo/", public_views.deputy_photo, name="deputy_photo"),
    path("deputies/<str:key>/", public_views.deputy_detail, name="deputy_detail"),
    path("stations/", public_views.station_list, name="station_list"),
    path("stations/<int:pk>/", public_views.station_detail, name="station_detail"),
    path("q/<slug:slug>/", public_views.code_resolve_view, name="code_resolve"),
    path("codes/<slug:slug>.png", public_views.code_png_view, name="code_png"),
    path("codes/<slug:slug>.svg", public_views.code_svg_view, name="code_svg"),
    path("codes/<slug:slug>/poster.pdf", public_views.poster_pdf_view, name="poster_pdf"),
    path("codes/<slug:slug>/poster.png", public_views.poster_png_view, name="poster_png"),
]
