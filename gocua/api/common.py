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

import json
from typing import Annotated
from urllib.parse import parse_qs

import pydantic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
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


# --- bodies a route reads itself -------------------------------------------------------------

# No body of the API nests deeper than a few levels (the sync: body → visits → visit → outcomes
# → outcome); a deeper one is an attack on the parser or on validation, not a request.
MAX_JSON_DEPTH = 16


class BodyError(ValueError):
    """A request body that cannot be read: the status to answer, a message for a person, and
    the body as far as it could be read (`guess`), e.g. to count a login it names."""

    def __init__(self, status: int, message: str, guess: object = None) -> None:
        super().__init__(message)
        self.status, self.message, self.guess = status, message, guess

    @property
    def username(self) -> str | None:
        return username_in(self.guess)


def username_in(body: object) -> str | None:
    """The user name a login body names, if any (to count a refused attempt against it)."""
    if isinstance(body, dict) and isinstance(body.get("username"), str):
        return body["username"][:150]
    return None


def _too_deep(value: object, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _guess(raw: bytes) -> object:
    """What a body that is not declared as JSON says, if it can be read at all."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    try:
        form = parse_qs(raw.decode("utf-8"), max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        return None
    return {key: values[0] for key, values in form.items()}


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{limit // 1048576} MB" if limit >= 1048576 else f"{limit // 1024} KB"
    return f"request body too large: the limit is {size}"


def json_body(request: HttpRequest) -> object:
    """The request's JSON body, checked as every route that reads its own body needs: sent as
    `application/json`, within the size limit, valid JSON, at most MAX_JSON_DEPTH levels deep.
    Raises BodyError (415, 413 or 400) otherwise; never lets a parser error become a 500."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BodyError(413, too_large_message()) from None
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise BodyError(
            415,
            "send the body as JSON with 'Content-Type: application/json' "
            f"(this request says {content_type or 'nothing'!r})",
            _guess(raw),
        )
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BodyError(400, f"the body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(400, f"the body is not valid JSON: {exc}") from None
    if _too_deep(data, MAX_JSON_DEPTH):
        raise BodyError(400, f"the body is nested deeper than {MAX_JSON_DEPTH} levels", data)
    return data


def validation_message(exc: pydantic.ValidationError) -> str:
    """A pydantic error as one line a person can read: `field: what is wrong; ...`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "data"))
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def openapi_body(model: type[pydantic.BaseModel]) -> dict:
    """`openapi_extra` for a route that reads its JSON body itself: the model's JSON schema
    with its $defs inlined (ninja does not list such a model among the components)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.rsplit("/", 1)[1]]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": walk(schema)}},
        }
    }
