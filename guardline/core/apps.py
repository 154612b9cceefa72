from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "guardline.core"
    label = "core"
