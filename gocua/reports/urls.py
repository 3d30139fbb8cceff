from django.urls import path

from gocua.reports import dashboard_views, views

app_name = "reports"
urlpatterns = [
    path("", views.kpi_page, name="kpi"),
    path("units/<int:edition>/<str:code>/", views.kpi_page, name="kpi_unit"),
    # Dashboards, reconciliation and report downloads (issue 6).
    path("dashboard/", dashboard_views.dashboard, name="dashboard_home"),
    path("dashboard/<int:edition>/<str:code>/", dashboard_views.dashboard, name="dashboard"),
    path(
        "dashboard/<int:edition>/<str:code>/bao-cao.<str:fmt>",
        dashboard_views.committee_report,
        name="committee_report",
    ),
    path(
        "dashboard/<int:edition>/<str:code>/so-lieu-ngay/",
        dashboard_views.snapshot,
        name="snapshot",
    ),
    path("reconciliation/", dashboard_views.reconciliation, name="reconciliation_home"),
    path(
        "reconciliation/<int:edition>/<str:code>/",
        dashboard_views.reconciliation,
        name="reconciliation",
    ),
]
