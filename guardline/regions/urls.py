from django.urls import path

from . import views

app_name = "regions"
urlpatterns = [
    path("lines/", views.line_list, name="line_list"),
    path("grids/", views.grid_list, name="grid_list"),
]
