from django.urls import path

from civicloop.web import citizen, forms_export, forms_pages, sign_in_locks, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.CivicLoginView.as_view(), name="login"),
    path("logout/", views.CivicLogoutView.as_view(), name="logout"),
    path("sign-in-locks/", sign_in_locks.sign_in_locks, name="sign_in_locks"),
    path("workbench/", views.workbench, name="workbench"),
    path("cases/", views.case_list_view, name="case_list"),
    path("cases/<str:number>/", views.case_detail, name="case_detail"),
    path("cases/<str:number>/contact/", views.case_contact_reveal, name="case_contact_reveal"),
    path("cases/<str:number>/act/<slug:action>/", views.case_act, name="case_act"),
    path("attachments/<uuid:pk>/", views.attachment_file, name="attachment_file"),
    path("citizen/", citizen.citizen_login, name="citizen_login"),
    path("citizen/cases/", citizen.citizen_cases, name="citizen_cases"),
    path("citizen/cases/<str:number>/", citizen.citizen_case, name="citizen_case"),
    path("citizen/cases/<str:number>/withdraw/", citizen.citizen_withdraw, name="citizen_withdraw"),
    path("attachments/<uuid:pk>/thumb/", views.attachment_thumbnail, name="attachment_thumbnail"),
    path("apps/", forms_pages.apps_list, name="apps"),
    path("apps/<slug:code>/new/", forms_pages.app_submit, name="app_submit"),
    path("apps/<slug:code>/new/evaluate", forms_pages.app_evaluate, name="app_evaluate"),
    # An application's submissions for staff, and their downloads (forms_export).
    path("apps/<slug:code>/submissions/", forms_export.app_submissions, name="app_submissions"),
    path("apps/<slug:code>/export.csv", forms_export.app_export_csv, name="app_export_csv"),
    path("apps/<slug:code>/export.xlsx", forms_export.app_export_xlsx, name="app_export_xlsx"),
]
