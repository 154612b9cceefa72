from django.urls import path

from . import views

app_name = "quality"
urlpatterns = [
    path("", views.index, name="index"),
    path("findings/", views.finding_list, name="finding_list"),
    path("run/", views.run_now, name="run"),
]
