from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # set_language: the header's Tiếng Việt / English switch (a POST with the CSRF token).
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("gocua.accounts.urls")),
    path("residents/", include("gocua.people.urls")),
    path("campaigns/", include("gocua.campaigns.urls")),
    path("imports/", include("gocua.imports.urls")),
    path("fieldwork/", include("gocua.fieldwork.urls")),
    path("field/", include("gocua.field.urls")),
    path("api/v1/", include("gocua.api.urls")),
    path("", include("gocua.reports.urls")),
]
