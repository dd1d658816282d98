"""Every URL of 生命通道; the project includes this file at the root.

The owner's short link (/n/<token>) and the camera intake paths are fixed interfaces.
The module's JSON API (/api/v1/firelane/...) is its ninja router, in `api.py`."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from civicloop.firelane import public_views, views, views_lanes

staff_patterns = [
    path("firelane/review/", views.review_queue, name="review_queue"),
    path("firelane/review/<str:number>/", views.review_detail, name="review_detail"),
    path("firelane/review/<str:number>/decide/", views.review_decide, name="review_decide"),
    path("firelane/plates/<int:pk>/check/", views.plate_check, name="plate_check"),
    path("firelane/sightings/<int:pk>/<str:kind>.jpg", views.sighting_image, name="sighting_image"),
    path("firelane/cameras/<str:serial>/lanes/", views_lanes.lane_editor, name="lane_editor"),
    path(
        "firelane/cameras/<str:serial>/lanes/<int:lane_id>/delete/",
        views_lanes.lane_remove,
        name="lane_delete",
    ),
    path(
        "firelane/cameras/<str:serial>/scene/<int:pk>.jpg",
        views_lanes.lane_scene_image,
        name="lane_scene_image",
    ),
]

public_patterns = [
    path("n/<str:token>", public_views.notice_page, name="notice_page"),
    path("n/<str:token>/img/<int:index>.jpg", public_views.notice_image, name="notice_image"),
    path("n/<str:token>/statement", public_views.notice_state_case, name="notice_statement"),
    path("n/<str:token>/pay", public_views.notice_pay, name="notice_pay"),
    path("n/<str:token>/waive", public_views.notice_waive_view, name="notice_waive"),
    path("n/<str:token>/receipt.pdf", public_views.notice_receipt, name="notice_receipt"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((staff_patterns, "firelane"))),
    path("", include((public_patterns, "firelane_public"))),
    path("", include("civicloop.firelane.intake.urls")),
    path("", include("civicloop.firelane.payments.urls")),
    path("", include("civicloop.firelane.urls_dashboard")),
]
