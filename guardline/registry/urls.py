from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.household_list, name="household_list"),
    path("<int:pk>/", views.household_detail, name="household_detail"),
    path("<int:pk>/reveal/", views.household_reveal, name="household_reveal"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
]
