"""The cockpit's page; the project includes this file at the root (ModuleSpec.urls)."""

from django.urls import URLPattern, path

from civicloop.cockpit import views

app_name = "cockpit"

urlpatterns: list[URLPattern] = [
    path("cockpit/", views.cockpit_view, name="cockpit"),
]
