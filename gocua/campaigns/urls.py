from django.urls import path

from gocua.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/current/", views.campaign_current, name="current"),
    path("<int:pk>/targets/", views.target_add, name="target_add"),
    path("<int:pk>/targets/<int:target_id>/remove/", views.target_remove, name="target_remove"),
    path("teams/", views.team_list, name="teams"),
    path("teams/create-missing/", views.teams_create_missing, name="teams_create_missing"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("teams/<int:pk>/assignments/", views.team_assignments, name="assignments"),
    path("teams/<int:pk>/members/<int:member_id>/", views.member_edit, name="member_edit"),
    path("teams/<int:pk>/accounts/", views.team_accounts, name="team_accounts"),
    path(
        "teams/<int:pk>/members/<int:member_id>/account/",
        views.member_account,
        name="member_account",
    ),
    path(
        "teams/<int:pk>/members/<int:member_id>/password-reset/",
        views.member_password_reset,
        name="member_password_reset",
    ),
    path(
        "teams/<int:pk>/members/<int:member_id>/close/",
        views.member_account_close,
        name="member_account_close",
    ),
    path(
        "teams/<int:pk>/members/<int:member_id>/revoke-phone/",
        views.member_phone_revoke,
        name="member_phone_revoke",
    ),
    path(
        "teams/<int:pk>/members/<int:member_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
]
