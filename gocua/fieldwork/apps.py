from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "gocua.fieldwork"
    label = "fieldwork"
