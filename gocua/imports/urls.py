from django.urls import path

from gocua.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_page, name="upload"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("<int:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("<int:pk>/rejects.csv", views.rejects_download, name="rejects"),
]
