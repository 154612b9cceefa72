from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "guardline.registry"
    label = "registry"
