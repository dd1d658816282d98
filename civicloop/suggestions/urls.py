"""Every page URL of 代表建议 (namespace `suggestions`); the project includes this file
at the root (ModuleSpec.urls)."""

from django.urls import URLPattern, URLResolver, include, path

from civicloop.suggestions import views

patterns = [
    path("suggestions/", views.suggestion_list_view, name="list"),
    path("suggestions/new/", views.suggestion_new_view, name="new"),
    path("suggestions/figures/", views.figures_view, name="figures"),
    path("suggestions/public/", views.public_answers_view, name="public"),
    path("suggestions/<str:number>/", views.suggestion_detail_view, name="detail"),
    path("suggestions/<str:number>/<slug:action>/", views.suggestion_act_view, name="act"),
]

urlpatterns: list[URLPattern | URLResolver] = [path("", include((patterns, "suggestions")))]
