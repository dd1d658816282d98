from django.urls import path

from civicloop.studios import views

app_name = "studios"

urlpatterns = [
    path("studios/", views.studio_list, name="studio_list"),
    path("studios/s/<slug:slug>/", views.studio_detail, name="studio_detail"),
    path("studios/s/<slug:slug>/code.png", views.studio_code_png, name="studio_code_png"),
    path("studios/s/<slug:slug>/manage/", views.studio_manage, name="studio_manage"),
    path("studios/s/<slug:slug>/members/new/", views.member_edit, name="member_new"),
    path("studios/s/<slug:slug>/members/<int:pk>/", views.member_edit, name="member_edit"),
    path("studios/members/<int:pk>/photo.jpg", views.member_photo, name="member_photo"),
    path(
        "studios/s/<slug:slug>/poster.pdf", views.studio_poster, {"fmt": "pdf"}, name="poster_pdf"
    ),
    path(
        "studios/s/<slug:slug>/poster.png", views.studio_poster, {"fmt": "png"}, name="poster_png"
    ),
    path("studios/s/<slug:slug>/write/", views.thread_new, name="thread_new"),
    path("studios/s/<slug:slug>/code/", views.sms_code_send_view, name="sms_code_send"),
    path("studios/t/<str:token>/", views.thread_public, name="thread_public"),
    path("studios/t/<str:token>/a/<uuid:pk>/", views.thread_file_public, name="thread_file_public"),
    path("studios/threads/<int:thread_pk>/a/<uuid:pk>/", views.thread_file, name="thread_file"),
    path("studios/inbox/", views.inbox, name="inbox"),
    path("studios/threads/<int:pk>/", views.thread_staff, name="thread_staff"),
    path("studios/cases/<str:number>/", views.thread_of_case, name="thread_of_case"),
    path("studios/referrals/<str:number>/", views.referral_view, name="referral"),
    path("studios/reports/", views.report_list, name="report_list"),
    path("studios/reports/new/", views.report_new, name="report_new"),
    path("studios/reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("studios/reports/tally.xlsx", views.tally_xlsx, name="tally_xlsx"),
    path("studios/reports/rules/", views.tally_rules, name="tally_rules"),
    path("studios/figures/", views.figures, name="figures"),
    path("studios/sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("studios/sessions/<int:pk>/manage/", views.session_manage, name="session_manage"),
    path("studios/round/<str:token>/", views.session_round, name="session_round"),
]
