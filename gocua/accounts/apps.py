from django.apps import AppConfig

from gocua.accounts.logs import install_record_scrubber


class AccountsConfig(AppConfig):
    name = "gocua.accounts"
    label = "accounts"

    def ready(self) -> None:

        install_record_scrubber()
