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

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any
from urllib.parse import parse_qs

import pydantic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.pagination import PaginationBase
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Strict

from gocua.accounts.models import User
from gocua.accounts.services import token_authenticate
from gocua.lib.limits import too_long
from gocua.lib.text import control_character


def _one_line(value: str) -> str:
    found = control_character(value)
    if found:
        raise ValueError(_("có ký tự điều khiển (%(char)s)") % {"char": found})
    return value


def _lines(value: str) -> str:
    found = control_character(value, multiline=True)
    if found:
        raise ValueError(_("có ký tự điều khiển (%(char)s)") % {"char": found})
    return value


# Every string field of an input schema is one of these. PostgreSQL text cannot hold NUL
# (0x00), and no person types a control character: refused with a 422 (or, in a sync batch,
# the one visit rejected), never a 500. `Text` is one line; `LongText` (notes, reasons) may
# hold tabs and line breaks.
Text = Annotated[str, AfterValidator(_one_line)]
LongText = Annotated[str, AfterValidator(_lines)]


# Strict input: the API takes what its documentation says and nothing a lax parser would
# guess. An id or a count in a JSON body is a JSON number (not `true`, not "12", not 1.5); a
# date is "YYYY-MM-DD" (not 0, which a lax parser reads as 1 January 1970); a moment is ISO
# 8601 text with its UTC offset (not a bare number, not a local time without an offset).
MAX_ID = 2**63 - 1  # ids are 64-bit in both databases; SQLite cannot bind a larger number
Id = Annotated[int, Strict(), pydantic.Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Strict(), pydantic.Field(ge=0, le=1_000_000)]
Coordinate = Annotated[float, Strict()]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip()):
        raise ValueError("must be a date written YYYY-MM-DD")
    if not isinstance(value, (str, dt.date)) or isinstance(value, dt.datetime):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _iso_moment(value: object) -> object:
    if not isinstance(value, (str, dt.datetime)):
        raise ValueError(
            "must be an ISO 8601 date and time with its offset, e.g. 2026-11-20T09:30:00+07:00"
        )
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_moment)]


class ErrorOut(Schema):
    """Every error answers `{"detail": "<a message a person can read>"}`."""

    detail: str


# Statuses any authenticated route may answer besides its own (documented for OpenAPI so
# schemathesis and clients know them): not authenticated, not found / out of scope, bad input.
ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# POST routes also answer 400 when the body is not JSON, 403 for a session without CSRF token,
# 413 for a body over the limit and 415 for one not sent as JSON.
BODY_ERRORS = {400: ErrorOut, 403: ErrorOut, 413: ErrorOut, 415: ErrorOut, **ERRORS}


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
        request.api_token = api_token  # type: ignore[attr-defined]  # read as TokenRequest
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
    user: User = request.auth  # type: ignore[attr-defined]  # django-ninja sets it
    return user


# --- pages of a list -------------------------------------------------------------------------


class PageQuery(Schema):
    """`?limit=&offset=` of a list; a route's query schema adds its filters to these two."""

    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10**9)


class OffsetPage(PaginationBase):
    """Paging for `ninja.pagination.paginate` that answers
    `{"items": [...], "count": <all of them>, "offset", "limit"}`:

        class OutreachQuery(PageQuery):
            start: IsoDate | None = None

        @router.get("/outreach", response={200: OutreachPageOut, **ERRORS})
        @paginate(OffsetPage, query=OutreachQuery, row=_outreach)
        def outreach_list(request, **page):
            query = page["query"]  # the whole OutreachQuery, read by the paginator
            return selectors.outreach_for(api_user(request), start=query.start)  # all of it

    The paginator reads the route's whole query (its filters and the page), so the view takes
    it from `**page` instead of declaring it: the OpenAPI lists the parameters in one schema,
    as it did before ninja did the paging. `row` turns one object of the page into its JSON;
    `shown(request, page)`, when given, is called with the objects of a page that is not empty
    (to record who saw which residents). The route declares its own `XxxPageOut` (items,
    count, offset, limit): ninja's would be named `PagedXxxOut` and leave out offset and
    limit, which the published OpenAPI and the phone's client rely on."""

    # ninja declares both as nested classes; a paginator names its own schema, or none.
    Input = PageQuery  # type: ignore[assignment]
    Output = None  # type: ignore[assignment]  # keep the route's declared page schema (see above)

    def __init__(
        self,
        *,
        query: type[PageQuery] = PageQuery,
        row: Callable[[Any], dict],
        shown: Callable[[HttpRequest, list], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pass_parameter="query", **kwargs)
        self.Input = query
        self.row, self.shown = row, shown

    def paginate_queryset(
        self, queryset, pagination: PageQuery, request: HttpRequest, **params: Any
    ) -> dict:
        offset, limit = pagination.offset, pagination.limit
        page = list(queryset[offset : offset + limit])
        count = self._items_count(queryset)
        if page and self.shown is not None:
            self.shown(request, page)
        return {
            "items": [self.row(item) for item in page],
            "count": count,
            "offset": offset,
            "limit": limit,
        }


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
    children: Iterable[object]
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


def error_text(error: Mapping[str, Any]) -> str:
    """What one pydantic error says; a text over its limit in the same words as the web forms
    and the imports (its length and the limit)."""
    if error.get("type") == "string_too_long":
        given = error.get("input")  # the API's own validation error drops it
        return too_long(error["ctx"]["max_length"], len(given) if isinstance(given, str) else None)
    return error.get("msg", "invalid")


def validation_message(exc: pydantic.ValidationError) -> str:
    """A pydantic error as one line a person can read: `field: what is wrong; ...`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "data"))
        parts.append(f"{where or 'request'}: {error_text(error)}")
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
