"""What every API router shares: authentication, the error schema and its documented statuses.

Routers in other apps import from here (never from `gocua.api.api`, which imports them):

    from ninja import Router
    from gocua.api.common import ERRORS, ErrorOut, api_user

    router = Router(tags=["worklist"])

    @router.get("", response={200: WorklistOut, **ERRORS})
    def worklist(request):
        user = api_user(request)   # authenticated by the NinjaAPI's default auth
        ...                        # scope with gocua.accounts.selectors, 404 outside it
        return Status(200, {...})  # ninja.Status; plain tuples are deprecated
"""

from typing import Annotated

from django.conf import settings
from django.http import HttpRequest
from ninja import Schema
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import AfterValidator

from gocua.accounts.models import User
from gocua.accounts.services import token_authenticate


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Use for every string field of an input schema: PostgreSQL text cannot hold NUL (0x00), and a
# NUL that reaches a query is a 500 instead of a 422.
Text = Annotated[str, AfterValidator(_no_nul)]


class ErrorOut(Schema):
    """Every error answers `{"detail": "<a message a person can read>"}`."""

    detail: str


# Statuses any authenticated route may answer besides its own (documented for OpenAPI so
# schemathesis and clients know them): not authenticated, not found / out of scope, bad input.
ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# POST routes also answer 400 when the body is not JSON, 403 for a session without CSRF token.
BODY_ERRORS = {400: ErrorOut, 403: ErrorOut, **ERRORS}


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`; the token is looked up by its SHA-256."""

    def __call__(self, request: HttpRequest):
        value = request.headers.get(self.header, "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_authenticate(token)
        if found is None:
            return None
        api_token, user = found
        request.user = user  # so shared code (audit_record, selectors) sees the same person
        request.api_token = api_token
        return user


class SessionAuth(APIKeyCookie):
    """The browser session (pages that call the API); unsafe methods need the CSRF token.

    Unlike ninja's own SessionAuth, a request without a session is simply not authenticated
    here (401), instead of failing a CSRF check it never needed (403)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if not key or not request.user.is_authenticated:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS") and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header")
        return request.user


bearer_auth = BearerAuth()
session_auth = SessionAuth()


def api_user(request: HttpRequest) -> User:
    """The authenticated user of an API request (bearer token or session)."""
    return request.auth
