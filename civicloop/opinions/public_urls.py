"""Public URLs of the 民意 module: directory pages, the code resolver, code images,
posters, and the directory's JSON endpoints (/api/v1/deputies, /api/v1/stations).

Included from the project's urls before the API app, so these two JSON paths are
answered here rather than by the ninja API (which may not import a module)."""

from __future__ import annotations

from django.urls import path

from civicloop.opinions import api, public_views

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
    path("api/v1/deputies", api.deputies_list_api, name="api_deputies"),
    path("api/v1/stations", api.stations_list_api, name="api_stations"),
    # The same lists with a trailing slash, as some clients write them.
    path("api/v1/deputies/", api.deputies_list_api),
    path("api/v1/stations/", api.stations_list_api),
]
