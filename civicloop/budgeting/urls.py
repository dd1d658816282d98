"""Every page URL of 参与式预算; the project includes this file at the root (ModuleSpec.urls).
The vote and congress pages (namespace ``budgeting_ballots``) come from urls_ballots.py."""

from django.urls import URLPattern, URLResolver, include, path

from civicloop.budgeting import urls_ballots, views, views_answers, views_panel

patterns = [
    path("", views.home_view, name="home"),
    path("staff/", views.staff_home_view, name="staff"),
    path("t/<str:ticket>/", views.member_view, name="member"),
    path("t/<str:ticket>/<slug:wave>/", views.questionnaire_view, name="questionnaire"),
    path("<slug:code>/", views.process_view, name="process"),
    path("<slug:code>/propose/", views.propose_view, name="propose"),
    path("<slug:code>/screen/", views.screening_view, name="screen"),
    path("<slug:code>/panel/", views.panel_view, name="panel"),
    path("<slug:code>/analysis/", views.analysis_view, name="analysis"),
    path("<slug:code>/quotas/", views_panel.quotas_view, name="quotas"),
    path("<slug:code>/roster/", views_panel.roster_view, name="roster"),
    path("<slug:code>/answers/", views_answers.answers_view, name="answers"),
    path("<slug:code>/p/<int:pk>/", views_answers.project_view, name="project"),
    path("<slug:code>/followup/", views_answers.followup_view, name="followup"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("budget/", include((patterns, "budgeting"))),
    *urls_ballots.urlpatterns,
]
