from django.contrib.admin.apps import AdminConfig


class GocuaAdminConfig(AdminConfig):
    """`django.contrib.admin` with a site only superusers may enter (see admin_site.py).

    Kept apart from admin_site.py: INSTALLED_APPS imports this module before models load."""

    default_site = "gocua.accounts.admin_site.GocuaAdminSite"
