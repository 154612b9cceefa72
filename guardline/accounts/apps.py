from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "guardline.accounts"
    label = "accounts"
