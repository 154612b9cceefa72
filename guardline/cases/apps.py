from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "guardline.cases"
    label = "cases"
