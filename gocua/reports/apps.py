from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "gocua.reports"
    label = "reports"
