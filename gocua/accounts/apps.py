from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gocua.accounts"
    label = "accounts"
