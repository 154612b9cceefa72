from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "guardline.assistance"
    verbose_name = "帮扶与风险消除"
