from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "gocua.api"
    label = "api"
