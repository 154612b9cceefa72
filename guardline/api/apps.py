from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "guardline.api"
    label = "api"
