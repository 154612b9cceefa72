from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("indicators/", views.catalogue, name="catalogue"),
    path("weights/<str:province>/", views.weights, name="weights"),
    path("<str:code>/", views.dashboard, name="dashboard"),
    path("<str:code>/evaluation/", views.evaluation, name="evaluation"),
]
