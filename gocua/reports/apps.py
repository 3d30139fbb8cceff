from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "gocua.reports"
    label = "reports"

    def ready(self) -> None:
        from gocua.changes.outbox import changes_recorded
        from gocua.reports.rollups.visits import changes_queued

        # The write paths record their changes in gocua.changes and never import the
        # reports: after their commit, the rollups ask the worker to fold them.
        changes_recorded.connect(changes_queued, dispatch_uid="gocua.reports.rollups")
