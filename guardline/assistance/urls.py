from django.urls import path

from . import views

app_name = "assistance"
urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("case/<int:case_pk>/", views.case_home, name="case_home"),
    path("case/<int:case_pk>/plan/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/measures/", views.measure_add, name="measure_add"),
    path("measures/<int:pk>/<str:op>/", views.measure_act, name="measure_act"),
    path("measures/<int:pk>/evidence", views.measure_evidence, name="measure_evidence"),
    path("households/<int:household_pk>/pair/", views.cadre_pair, name="cadre_pair"),
    path("pairings/<int:pk>/end/", views.cadre_unpair, name="cadre_unpair"),
    path("visits/", views.visits_due, name="visits_due"),
    path("visits/<int:household_pk>/new/", views.visit_new, name="visit_new"),
    path("eliminations/", views.elimination_list, name="elimination_list"),
    path("case/<int:case_pk>/eliminate/", views.elimination_start, name="elimination_start"),
    path("eliminations/<int:pk>/", views.elimination_detail, name="elimination_detail"),
    path("eliminations/<int:pk>/act/<str:action>/", views.elimination_act, name="elimination_act"),
    path("eliminations/<int:pk>/reidentify/", views.elimination_reidentify, name="elimination_reidentify"),
]
