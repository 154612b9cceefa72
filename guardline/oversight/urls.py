from django.urls import path

from . import views

app_name = "oversight"
urlpatterns = [
    path("", views.index, name="index"),
    path("rectification/", views.rectification_list, name="rectification_list"),
    path("rectification/new/", views.rectification_new, name="rectification_new"),
    path("rectification/<int:pk>/", views.rectification_detail, name="rectification_detail"),
    path("rectification/<int:pk>/<str:op>/", views.rectification_act, name="rectification_act"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/<str:op>/", views.complaint_act, name="complaint_act"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/movements/", views.movement_add, name="movement_add"),
    path("projects/<int:pk>/progress/", views.project_progress, name="project_progress"),
    path("projects/<int:project_pk>/assets/new/", views.asset_new, name="asset_new"),
    path("assets/", views.asset_list, name="asset_list"),
    path("assets/<int:pk>/", views.asset_detail, name="asset_detail"),
    path("assets/<int:pk>/income/", views.income_add, name="income_add"),
]
