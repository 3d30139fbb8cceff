"""The Django admin, for superusers only: staff who are not superusers get nothing (404)."""

from functools import update_wrapper

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse


class GocuaAdminSite(AdminSite):
    site_header = "GõCửa"
    site_title = "GõCửa"

    def has_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise Http404
            return inner(request, *args, **kwargs)

        return update_wrapper(wrapper, view)

    def login(self, request, extra_context=None):
        # One login page for the whole site, so django-axes and the audit log see every login.
        if request.user.is_authenticated:
            raise Http404
        return redirect_to_login(
            request.GET.get("next") or reverse("admin:index"), settings.LOGIN_URL
        )
