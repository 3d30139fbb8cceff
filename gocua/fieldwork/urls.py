from django.urls import path
from django.views.generic import RedirectView

from gocua.fieldwork import views

app_name = "fieldwork"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="fieldwork:worklist"), name="index"),
    path("today/", views.today, name="today"),
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/print/", views.worklist_print, name="worklist_print"),
    path("households/<int:pk>/visit/", views.visit_new, name="visit"),
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/done/", views.follow_up_done, name="follow_up_done"),
    path(
        "follow-ups/<int:pk>/reschedule/",
        views.follow_up_reschedule,
        name="follow_up_reschedule",
    ),
    path("home-support/", views.home_support_list, name="home_support"),
    path("home-support/<int:pk>/", views.home_support_detail, name="home_support_detail"),
    path(
        "home-support/<int:pk>/schedule/",
        views.home_support_schedule,
        name="home_support_schedule",
    ),
    path("home-support/<int:pk>/done/", views.home_support_done, name="home_support_done"),
    path("home-support/<int:pk>/cancel/", views.home_support_cancel, name="home_support_cancel"),
    path("to-confirm/", views.to_confirm, name="to_confirm"),
    path("to-confirm/<int:pk>/confirm/", views.to_confirm_confirm, name="to_confirm_confirm"),
    path("to-confirm/<int:pk>/dismiss/", views.to_confirm_dismiss, name="to_confirm_dismiss"),
    path("claims/", views.claims, name="claims"),
    path("outreach/", views.outreach_list, name="outreach"),
    path("outreach/new/", views.outreach_new, name="outreach_new"),
    path("outreach/<int:pk>/delete/", views.outreach_delete, name="outreach_delete"),
    path("trainings/", views.training_list, name="trainings"),
    path("trainings/new/", views.training_new, name="training_new"),
    path("trainings/<int:pk>/", views.training_detail, name="training"),
    path("trainings/<int:pk>/staff/", views.training_staff_add, name="training_staff_add"),
    path(
        "trainings/<int:pk>/staff/<int:attendance_id>/remove/",
        views.training_staff_remove,
        name="training_staff_remove",
    ),
]
