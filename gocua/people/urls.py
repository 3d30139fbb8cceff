from django.urls import path

from gocua.people import views

app_name = "people"
urlpatterns = [
    path("", views.resident_list, name="list"),
    path("<int:pk>/", views.resident_detail, name="detail"),
    path("moves/", views.move_list, name="moves"),
]
