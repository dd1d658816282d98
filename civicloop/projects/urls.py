"""Every URL of 民生实事; the project includes this file at the root (ModuleSpec.urls)."""

from django.urls import URLPattern, URLResolver, include, path

from civicloop.projects import views

patterns = [
    path("", views.home, name="home"),
    path("new/", views.cycle_create, name="cycle_create"),
    path("propose/", views.propose, name="propose"),
    path("receipt/", views.receipt_check, name="receipt"),
    path("case/<str:number>/", views.project_by_case, name="by_case"),
    path("photo/<uuid:pk>/<slug:size>/", views.photo, name="photo"),
    path("p/<int:pk>/", views.project_detail, name="project"),
    path("p/<int:pk>/act/<slug:op>/", views.project_act, name="project_act"),
    path("<int:year>/", views.cycle_detail, name="cycle"),
    path("<int:year>/ballot/", views.ballot, name="ballot"),
    path("<int:year>/satisfaction/", views.satisfaction, name="satisfaction"),
    path("<int:year>/cast/", views.cast, name="cast"),
    path("<int:year>/manage/", views.manage, name="manage"),
    path("<int:year>/manage/<slug:op>/", views.manage_act, name="manage_act"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("projects/", include((patterns, "projects"))),
]
