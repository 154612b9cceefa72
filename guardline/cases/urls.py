from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("pull-warnings/", views.pull_warnings, name="pull_warnings"),
    path("report/", views.report, name="report"),
    path("clues/<int:pk>/", views.clue_detail, name="clue_detail"),
    path("clues/<int:pk>/<str:op>/", views.clue_action, name="clue_action"),
    path("list/", views.case_list, name="case_list"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/act/<str:action>/", views.case_act, name="case_act"),
    path("<int:pk>/notice/", views.notice_print, name="notice_print"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence_file"),
    path("overdue/", views.overdue, name="overdue"),
    path("tasks/", views.tasks, name="tasks"),
    path("holidays/", views.holidays, name="holidays"),
    path("qr/<str:code>.svg", views.qr_svg, name="qr_svg"),
    path("qr/sheet/<str:code>/", views.qr_sheet, name="qr_sheet"),
]

public_urlpatterns = [
    path("status/", views.declare_status, name="declare_status_lookup"),
    path("status/<str:receipt>/", views.declare_status, name="declare_status"),
    path("<str:village_code>/", views.declare, name="declare"),
]
