"""Page URLs of the vote and the congress (namespace ``budgeting_ballots``), included from urls.py."""

from django.urls import URLPattern, URLResolver, include, path

from civicloop.budgeting import views_ballots, views_congress

patterns = [
    path("budget/<slug:code>/vote/", views_ballots.ballot_vote_view, name="vote"),
    path("budget/<slug:code>/vote/done/", views_ballots.ballot_voted_view, name="voted"),
    path("budget/<slug:code>/results/", views_ballots.ballot_results_view, name="results"),
    path(
        "budget/<slug:code>/results.xlsx",
        views_ballots.ballot_results_xlsx_view,
        name="results_xlsx",
    ),
    path("budget/<slug:code>/report.pdf", views_ballots.process_report_view, name="report"),
    path("budget/<slug:code>/congress/", views_congress.congress_view, name="congress"),
]

urlpatterns: list[URLPattern | URLResolver] = [path("", include((patterns, "budgeting_ballots")))]
