from django.urls import path

from civicloop.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.CivicLoginView.as_view(), name="login"),
    path("logout/", views.CivicLogoutView.as_view(), name="logout"),
    path("workbench/", views.workbench, name="workbench"),
    path("cases/", views.case_list_view, name="case_list"),
    path("cases/<str:number>/", views.case_detail, name="case_detail"),
    path("cases/<str:number>/contact/", views.case_contact_reveal, name="case_contact_reveal"),
    path("cases/<str:number>/act/<slug:action>/", views.case_act, name="case_act"),
    path("attachments/<uuid:pk>/", views.attachment_file, name="attachment_file"),
    path("attachments/<uuid:pk>/thumb/", views.attachment_thumbnail, name="attachment_thumbnail"),
]
