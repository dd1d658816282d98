"""URLs of the 民意 loop's write side (the public directory and codes are in the
read side's URLconf)."""

from django.urls import path

from civicloop.opinions import views

app_name = "opinions"
urlpatterns = [
    path("q/<slug:slug>/submit/", views.opinion_submit_view, name="submit"),
    path("q/<slug:slug>/submit/code/", views.opinion_code_send_view, name="code_send"),
    path("opinions/submitted/<str:number>/", views.opinion_submitted_view, name="submitted"),
    path("track/", views.track_start, name="track"),
    path("track/<str:number>/", views.track_case, name="track_case"),
    path("deputy/inbox/", views.inbox, name="inbox"),
    path("deputy/inbox/<str:number>/", views.inbox_case, name="inbox_case"),
    path("deputy/inbox/<str:number>/act/<slug:action>/", views.inbox_act, name="inbox_act"),
    path("opinions/stats/", views.stats_view, name="stats"),
]
