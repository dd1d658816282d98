"""URLs of the 生命通道 dashboard (included at the site root by the project's URLconf).
The JSON the page polls is `GET /api/v1/firelane/dashboard`, in the module's router."""

from django.urls import path

from civicloop.firelane import views_dashboard

app_name = "firelane_dashboard"
urlpatterns = [
    path("firelane/dashboard/", views_dashboard.dashboard_view, name="page"),
]
