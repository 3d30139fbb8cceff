from django.urls import path

from gocua.field import views

app_name = "field"
urlpatterns = [
    path("", views.page, name="page"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
