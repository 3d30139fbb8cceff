import functools

from django.http import JsonResponse
from django.urls import re_path

from gocua.api.api import api

app_name = "api"


def not_found(request, rest: str = ""):
    """Anything under /api/v1/ that no route matches answers JSON too, never an HTML page."""
    return JsonResponse({"detail": "no such API route"}, status=404)


def _json_method_not_allowed(view):
    """ninja answers a wrong method with an empty text/html 405; ours is JSON like every error."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            replacement = JsonResponse(
                {"detail": f"method {request.method} not allowed here; use {allowed}"},
                status=405,
            )
            replacement["Allow"] = allowed
            return replacement
        return response

    return wrapper


_ninja = api.urls[0]
for _pattern in _ninja:
    _pattern.callback = _json_method_not_allowed(_pattern.callback)

urlpatterns = [
    # Before ninja's own "api-root" (a link to the docs page, which we do not serve).
    re_path(r"^$", not_found, name="root"),
    *_ninja,
    re_path(r"^(?P<rest>.*)$", not_found, name="not_found"),
]
