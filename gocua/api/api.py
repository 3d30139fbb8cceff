"""The one JSON API, version 1, mounted at /api/v1/ (OpenAPI at /api/v1/openapi.json).

This module only creates the NinjaAPI, answers its errors and mounts the routers; each domain
keeps its routes in its own app's `api.py`:

    gocua.accounts.api   tokens (POST /auth/token, /auth/revoke) and GET /me
    gocua.reports.api    GET /units/{code}/kpi
    gocua.fieldwork.api  the field page's token, the worklist, the visit sync, follow-ups,
                         home support, outreach

Authentication (bearer token or the browser session) and what every router shares live in
`gocua.api.common`. Adding routes for another domain is one line at the bottom of this file:
write a `Router` in your app's `api.py` (schemas `XxxIn`/`XxxOut` with explicit fields; import
`ERRORS`, `ErrorOut`, `OffsetPage` and `api_user` from `gocua.api.common`, never from this
module) and mount it here, e.g.

    api.add_router("", "gocua.fieldwork.api.router")

Every route is authenticated by default (bearer token, or the browser session with CSRF for
unsafe methods); `request.auth` / `api_user(request)` is the user. Scope every query with
`gocua.accounts.selectors` and answer 404 outside it (`unit_for_user_or_404`,
`resident_for_user_or_404`, `household_for_user_or_404`). Errors are always
`{"detail": "<readable message>"}`: raise `Http404("...")`, `ninja.errors.HttpError(status,
"...")`, or return `Status(status, {"detail": "..."})` with the status listed in `response=`.
A list answers one page through `ninja.pagination.paginate(OffsetPage, row=...)`.
A new version is a new NinjaAPI, never copied modules.
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from gocua.api.common import bearer_auth, error_text, session_auth, too_large_message

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="GõCửa API",
    version="1",
    description=(
        "Door-to-door VNeID campaign. Authenticate with `POST /api/v1/auth/token` then send "
        "`Authorization: Bearer <token>`. Everything outside your jurisdiction answers 404."
    ),
    urls_namespace="api",
    auth=[bearer_auth, session_auth],
    # The Swagger page loads from a CDN with inline scripts: no CDN here, and a strict CSP.
    docs_url=None,
)


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return api.create_response(request, {"detail": message}, status=status)


def _where(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "data")]
    return ".".join(parts) or "request"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    message = "; ".join(f"{_where(e.get('loc', ()))}: {error_text(e)}" for e in exc.errors)
    return _error(request, 422, message or "invalid request")


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request,
        401,
        "Authentication required: send 'Authorization: Bearer <token>' "
        "(tokens from POST /api/v1/auth/token); the token may be revoked or expired",
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Our own messages ("no such unit") carry no data; never echo the request back.
    message = str(exc) if exc.args and isinstance(exc.args[0], str) else ""
    return _error(request, 404, message or "not found")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, too_large_message())


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path)
    return _error(request, 500, "internal error; it was logged for the administrators")


# Routers: one line each. Mount yours below (see the module docstring).
api.add_router("", "gocua.accounts.api.router")
api.add_router("", "gocua.reports.api.router")
api.add_router("", "gocua.fieldwork.api.router")
