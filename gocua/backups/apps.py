from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "gocua.backups"
    label = "backups"
    verbose_name = "Backups"
