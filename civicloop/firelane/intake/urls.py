"""The camera intake URLs; the project urls include them at the root."""

from django.urls import path

from civicloop.firelane.intake import views

app_name = "firelane_intake"

urlpatterns = [
    path("intake/isapi/<str:serial>/", views.isapi_push, name="isapi"),
    path("intake/events/", views.json_event_push, name="events"),
]
