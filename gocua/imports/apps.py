from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "gocua.imports"
    label = "imports"
