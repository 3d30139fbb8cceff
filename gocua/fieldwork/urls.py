from django.urls import path
from django.views.generic import RedirectView

from gocua.fieldwork.views import (
    follow_ups,
    home_support,
    outreach,
    review,
    today,
    trainings,
    visits,
    worklists,
)

app_name = "fieldwork"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="fieldwork:worklist"), name="index"),
    path("today/", today.today, name="today"),
    path("worklist/", worklists.worklist, name="worklist"),
    path("worklist/print/", worklists.worklist_print, name="worklist_print"),
    path("households/<int:pk>/visit/", visits.visit_new, name="visit"),
    path("follow-ups/", follow_ups.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/done/", follow_ups.follow_up_done, name="follow_up_done"),
    path(
        "follow-ups/<int:pk>/reschedule/",
        follow_ups.follow_up_reschedule,
        name="follow_up_reschedule",
    ),
    path("home-support/", home_support.home_support_list, name="home_support"),
    path("home-support/<int:pk>/", home_support.home_support_detail, name="home_support_detail"),
    path(
        "home-support/<int:pk>/schedule/",
        home_support.home_support_schedule,
        name="home_support_schedule",
    ),
    path("home-support/<int:pk>/done/", home_support.home_support_done, name="home_support_done"),
    path(
        "home-support/<int:pk>/cancel/",
        home_support.home_support_cancel,
        name="home_support_cancel",
    ),
    path("to-confirm/", review.to_confirm, name="to_confirm"),
    path("to-confirm/<int:pk>/confirm/", review.to_confirm_confirm, name="to_confirm_confirm"),
    path("to-confirm/<int:pk>/dismiss/", review.to_confirm_dismiss, name="to_confirm_dismiss"),
    path("claims/", review.claims, name="claims"),
    path("outreach/", outreach.outreach_list, name="outreach"),
    path("outreach/new/", outreach.outreach_new, name="outreach_new"),
    path("outreach/<int:pk>/delete/", outreach.outreach_delete, name="outreach_delete"),
    path("trainings/", trainings.training_list, name="trainings"),
    path("trainings/new/", trainings.training_new, name="training_new"),
    path("trainings/<int:pk>/", trainings.training_detail, name="training"),
    path("trainings/<int:pk>/staff/", trainings.training_staff_add, name="training_staff_add"),
    path(
        "trainings/<int:pk>/staff/<int:attendance_id>/remove/",
        trainings.training_staff_remove,
        name="training_staff_remove",
    ),
]
