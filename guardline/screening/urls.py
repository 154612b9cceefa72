from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("run/", views.run_start, name="run_start"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("parameters/", views.parameter_set, name="parameter_set"),
    path("rules/", views.rule_save, name="rule_save"),
    path("whatif/", views.whatif, name="whatif"),
]
