from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("run/", views.run_start, name="run_start"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("parameters/", views.parameter_set, name="parameter_set"),
    path("rules/new/", views.rule_detail, name="rule_new"),
    path("rules/<slug:code>/", views.rule_detail, name="rule_detail"),
    path("rules/<slug:code>/restore/", views.rule_restore, name="rule_restore"),
    path("whatif/", views.whatif, name="whatif"),
    path("whatif/jobs/<int:pk>/", views.whatif_job, name="whatif_job"),
    path("whatif/jobs/<int:pk>/cancel/", views.whatif_job_cancel, name="whatif_job_cancel"),
]
