from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    name = "gocua.synthetic"
    label = "synthetic"
