from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "guardline.regions"
    label = "regions"
