from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "guardline.oversight"
    verbose_name = "监督台账"
