from django.urls import path

from gocua.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_page, name="upload"),
    path("<int:pk>/rejects.csv", views.rejects_download, name="rejects"),
]
