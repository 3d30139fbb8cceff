from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gocua.accounts"
    label = "accounts"

    def ready(self) -> None:
        from gocua.accounts.logs import install_record_scrubber

        install_record_scrubber()
