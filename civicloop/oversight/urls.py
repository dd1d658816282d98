"""Every page of 督政议事; the project includes this file at the root (ModuleSpec.urls)."""

from django.urls import URLPattern, URLResolver, include, path

from civicloop.oversight import views

patterns = [
    path("oversight/", views.oversight_home, name="home"),
    path("oversight/topics/", views.topic_propose_view, name="topic_propose"),
    path("oversight/topics/<int:pk>/decide/", views.topic_decide_view, name="topic_decide"),
    path("oversight/meetings/new/", views.meeting_new_view, name="meeting_new"),
    path("oversight/meetings/<int:pk>/", views.meeting_detail_view, name="meeting_detail"),
    path(
        "oversight/meetings/<int:pk>/act/<slug:action>/",
        views.meeting_act_view,
        name="meeting_act",
    ),
    path(
        "oversight/meetings/<int:pk>/files/<uuid:file_id>/",
        views.minute_file_view,
        name="minute_file",
    ),
    path("oversight/cases/<str:number>/", views.case_meeting_view, name="case_meeting"),
    path("oversight/public/", views.public_list_view, name="public_list"),
    path("oversight/public/<int:pk>/", views.public_detail_view, name="public_detail"),
]

urlpatterns: list[URLPattern | URLResolver] = [path("", include((patterns, "oversight")))]
