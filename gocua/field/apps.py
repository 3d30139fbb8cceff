from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "gocua.field"
    label = "field"
