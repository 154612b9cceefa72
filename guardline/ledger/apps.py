from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "guardline.ledger"
    verbose_name = "防篡改账本"
