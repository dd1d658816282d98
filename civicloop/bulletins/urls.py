"""Every page of e线知政 / 学习园地; the project includes this file at the root
(ModuleSpec.urls). JSON endpoints are in `api.py` (/api/v1/bulletins/...)."""

from django.urls import URLPattern, URLResolver, include, path

from civicloop.bulletins import views

patterns = [
    path("bulletins/", views.item_list_view, name="list"),
    path("bulletins/items/<int:pk>/", views.item_detail_view, name="detail"),
    path("bulletins/items/<int:pk>/finish/", views.item_finish_view, name="finish"),
    path("bulletins/items/<int:pk>/withdraw/", views.item_withdraw_view, name="withdraw"),
    path("bulletins/publish/", views.item_publish_view, name="publish"),
    path("bulletins/study/", views.study_record_view, name="study"),
    path("bulletins/study/<int:user_id>/", views.study_record_view, name="study_of"),
    path("bulletins/report/", views.report_view, name="report"),
    path("bulletins/report/<int:pk>/", views.report_item_view, name="report_item"),
    path("bulletins/media/video/<uuid:pk>/", views.video_view, name="video"),
    path("bulletins/media/file/<uuid:pk>/", views.file_view, name="file"),
]

urlpatterns: list[URLPattern | URLResolver] = [path("", include((patterns, "bulletins")))]
