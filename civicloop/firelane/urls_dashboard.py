"""URLs of the 生命通道 dashboard (included at the site root by the project's URLconf)."""

from django.urls import path

from civicloop.firelane import views_dashboard

app_name = "firelane_dashboard"
urlpatterns = [
    path("firelane/dashboard/", views_dashboard.dashboard_view, name="page"),
    path("firelane/dashboard/data.json", views_dashboard.dashboard_data_view, name="data"),
]
