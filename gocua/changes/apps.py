from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "gocua.changes"
    label = "changes"
