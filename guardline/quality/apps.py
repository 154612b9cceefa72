from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "guardline.quality"
    label = "quality"
