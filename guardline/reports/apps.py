from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "guardline.reports"
    label = "reports"
