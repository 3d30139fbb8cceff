from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "gocua.worker"
    label = "worker"
    verbose_name = "Background worker"
