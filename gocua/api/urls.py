from django.http import JsonResponse
from django.urls import re_path

from gocua.api.api import api

app_name = "api"


def not_found(request, rest: str = ""):
    """Anything under /api/v1/ that no route matches answers JSON too, never an HTML page."""
    return JsonResponse({"detail": "no such API route"}, status=404)


urlpatterns = [
    # Before ninja's own "api-root" (a link to the docs page, which we do not serve).
    re_path(r"^$", not_found, name="root"),
    *api.urls[0],
    re_path(r"^(?P<rest>.*)$", not_found, name="not_found"),
]
