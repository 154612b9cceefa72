from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "guardline.dashboards"
    label = "dashboards"
