from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "guardline.screening"
    label = "screening"
