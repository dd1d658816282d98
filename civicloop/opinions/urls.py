"""Every URL of 民意; the project includes this file at the root (ModuleSpec.urls).

The public directory and codes are in `public_urls` (namespace `opinions_public`); the
loop's write side is here (namespace `opinions`)."""

from django.urls import URLPattern, URLResolver, include, path

from civicloop.opinions import views

write_patterns = [
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

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("civicloop.opinions.public_urls")),
    path("", include((write_patterns, "opinions"))),
]
