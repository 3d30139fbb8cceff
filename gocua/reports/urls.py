from django.urls import path

from gocua.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.kpi_page, name="kpi"),
    path("units/<int:edition>/<str:code>/", views.kpi_page, name="kpi_unit"),
]
