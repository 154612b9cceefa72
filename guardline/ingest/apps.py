from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "guardline.ingest"
    label = "ingest"
