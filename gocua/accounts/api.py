"""API routes of accounts: tokens and the current user (mounted at /api/v1/ by gocua.api.api)."""

import pydantic
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from gocua.accounts.http import TokenRequest
from gocua.accounts.privacy import sees_full_identity
from gocua.accounts.selectors import can_see_residents, effective_role
from gocua.accounts.services import login_failed, token_create, token_revoke
from gocua.api.common import (
    ERRORS,
    BodyError,
    ErrorOut,
    Text,
    api_user,
    bearer_auth,
    json_body,
    openapi_body,
    username_in,
    validation_message,
)
from gocua.campaigns.selectors import campaign_deadline_for
from gocua.people.records import assigned_hamlets

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: Text = Field(..., max_length=150)
    password: Text = Field(..., max_length=1024)
    label: Text = Field("", max_length=100, description="what the token is for, e.g. 'phone'")


class TokenOut(Schema):
    token: str


class RevokeOut(Schema):
    revoked: bool


class UnitOut(Schema):
    edition: int
    code: str
    name: str
    level: str


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    unit: UnitOut | None
    hamlets: list[UnitOut] = Field(description="a field member's assigned hamlets")
    can_see_residents: bool
    sees_full_identity: bool


def _unit(unit) -> dict | None:
    if unit is None:
        return None
    return {"edition": unit.edition, "code": unit.code, "name": unit.name, "level": unit.level}


@router.post(
    "/auth/token",
    auth=None,
    response={
        200: TokenOut,
        400: ErrorOut,
        401: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    openapi_extra=openapi_body(TokenIn),
    summary="Exchange a user name and password for a bearer token",
)
def token_obtain(request: HttpRequest):
    """The token is shown once; only its SHA-256 is stored. Failed attempts count towards the
    same lockout as the login page (django-axes): past the limit the answer is 429.

    The body is a JSON object, sent as `application/json`. Anything else (another content
    type, a broken or nested body, a missing or mistyped field) answers 4xx, never 5xx, and
    still counts as a failed attempt for the user it names: a malformed request is no way
    around the lockout."""
    try:
        body = json_body(request)
        data = TokenIn.model_validate(body)
    except BodyError as exc:
        login_failed(request, username=exc.username)
        return Status(exc.status, {"detail": exc.message})
    except pydantic.ValidationError as exc:
        login_failed(request, username=username_in(body))
        return Status(422, {"detail": validation_message(exc)})
    user = authenticate(request, username=data.username, password=data.password)
    if user is None:
        return Status(
            401, {"detail": "Sai tên đăng nhập hoặc mật khẩu (wrong user name or password)"}
        )
    # The API's login: last_login, and django-axes resets the failure count.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    _, key = token_create(
        user=user,
        label=data.label,
        campaign_deadline=campaign_deadline_for(user),
        request=request,
    )
    return Status(200, {"token": key})


@router.post(
    "/auth/revoke",
    auth=bearer_auth,
    response={200: RevokeOut, **ERRORS},
    summary="Revoke the bearer token this request carries",
)
def token_revoke_current(request: TokenRequest) -> Status:
    """After this the token answers 401 everywhere. To revoke a lost phone's token, a
    superuser uses the admin (API tokens → Revoke)."""
    revoked = token_revoke(token=request.api_token, by=api_user(request), request=request)
    return Status(200, {"revoked": revoked})


@router.get("/me", response={200: MeOut, **ERRORS}, summary="Who the token belongs to")
def me(request: HttpRequest):
    user = api_user(request)
    return Status(
        200,
        {
            "username": user.get_username(),
            "full_name": user.get_full_name(),
            "role": effective_role(user) or user.role,
            "unit": _unit(user.unit),
            "hamlets": [_unit(h) for h in assigned_hamlets(user).order_by("path")],
            "can_see_residents": can_see_residents(user),
            "sees_full_identity": sees_full_identity(user),
        },
    )
