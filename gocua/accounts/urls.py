from django.contrib.auth import views as auth_views
from django.urls import path

from gocua.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        views.PasswordChangeView.as_view(success_url="/accounts/password/done/"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("code/", views.code_login, name="code"),
    path("people/", views.account_list, name="people"),
    path("people/<int:pk>/reset/", views.account_reset, name="account_reset"),
    path("people/<int:pk>/close/", views.account_close, name="account_close"),
    path("people/<int:pk>/revoke/", views.account_revoke, name="account_revoke"),
    path("audit/", views.audit_list, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
]
