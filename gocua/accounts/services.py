"""Writes for accounts: users, API tokens and the audit log."""

import datetime as dt
import getpass
import hashlib
import ipaddress
import os
import secrets
from collections.abc import Iterable, Sequence
from typing import Any, cast

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from gocua.accounts.models import ApiToken, AuditEntry, LoginCode, Role, User
from gocua.accounts.selectors import AnyUser, effective_role, unit_visible
from gocua.geo.models import AdminUnit, Level
from gocua.lib.compiled import CompiledLookup
from gocua.lib.masking import scrub
from gocua.lib.ranges import compress
from gocua.lib.text import fold, key, nfc


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why, for a person."""


# ---------------------------------------------------------------------------------------- audit


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or behind GOCUA_TRUSTED_PROXY_COUNT reverse proxies
    the address the outermost trusted proxy saw (counted from the right of X-Forwarded-For,
    so a client cannot choose it). django-axes uses this too (AXES_CLIENT_IP_CALLABLE)."""
    if request is None:
        return None
    remote: str | None = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded: list[str] = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def _scrubbed(value: Any) -> Any:  # JSON: text, numbers, lists and dicts of them
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {str(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(v) for v in value]
    return value


def command_line_actor() -> str:
    """How the audit log names the command line: it has no user and acts with the whole
    installation's authority, so the entry names the operating-system account that ran it."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the password database
        name = str(os.getuid()) if hasattr(os, "getuid") else "?"
    return f"cli:{name}"[:150]


def audit_record(
    *,
    user: AnyUser,
    action: str,
    object_type: str,
    object_id: object,
    unit: AdminUnit | None,
    request: HttpRequest | None = None,
    detail: dict[str, object] | None = None,
    command_line: bool = False,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit log: who, when, what, which unit, from which IP (the
    request's, or `ip` as client_ip gave it to a service that has no request).

    Every import, export, create, update and every view of a resident's full record must call
    this, in every app (accounts, people, imports, campaigns, fieldwork, reports, api): e.g.
    `audit_record(user=request.user, action="export", object_type="kpi_report",
    object_id=unit.code, unit=unit, request=request, detail={"format": "xlsx"})`.
    Actions in use: create, update, delete, import, export, view, login, logout,
    password_change, token_create, token_revoke, backup, restore. `detail` is for counts and
    options, never for personal data (anything shaped like a national ID or phone is masked
    anyway).
    `command_line=True` (no user): the entry is named `cli:<os user>` and says it acted with
    the whole installation's authority.
    Append-only: entries are never updated or deleted. Joins the caller's transaction.
    """
    # The anonymous visitor of a page is nobody, as the command line is.
    actor = user if isinstance(user, User) else None
    detail = dict(detail or {})
    username = actor.get_username() if actor else ""
    if command_line and actor is None:
        username = command_line_actor()
        detail["authority"] = "installation"
    entry = AuditEntry(
        user=actor,
        username=username,
        action=action[:20],
        object_type=object_type[:50],
        object_id=str(object_id if object_id is not None else "")[:64],
        unit=unit,
        ip=client_ip(request) if request is not None else ip,
        detail=_scrubbed(detail),
    )
    entry.save(force_insert=True)  # a new row, never an update
    return entry


def audit_change(
    *,
    actor: User | None,
    action: str,
    obj: Model,
    unit: AdminUnit | None,
    address: str | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    """The entry of a service's write (create, update, delete) of the model instance `obj`,
    named by its model and key. Services record it themselves, so that the web, the API and
    the command line audit a write the same way: `actor` did it from `address` (client_ip of
    the request); no actor and no address is the command line."""
    return audit_record(
        user=actor,
        command_line=actor is None and address is None,
        action=action,
        object_type=obj._meta.model_name or "",  # always named: a concrete model
        object_id=obj.pk,
        unit=unit,
        ip=address,
        detail=detail or None,
    )


def audit_view(
    *,
    user: User,
    object_type: str,
    unit: AdminUnit | None,
    residents: Iterable[int] = (),
    request: HttpRequest | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    """Record that `user` was shown personal data: one entry per page or API answer (never
    one per resident), naming the residents shown by database id (compressed runs; no
    national ID) and how many, so a province admin can tell who saw whom."""
    ids = list(residents)
    return audit_record(
        user=user,
        action="view",
        object_type=object_type,
        object_id="",
        unit=unit,
        request=request,
        detail={"residents": len(ids), "ids": compress(ids), **(detail or {})},
    )


def audit_read(
    request: HttpRequest,
    object_type: str,
    residents: Iterable[int],
    *,
    unit: AdminUnit | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    """A page or API answer that showed personal data, recorded by its view or route: one
    audit_view entry for `request.user`, in `unit` (default: the user's own)."""
    # Behind a login, or let in by the API (whose auth sets request.user): one of our accounts.
    user = cast(User, request.user)
    return audit_view(
        user=user,
        object_type=object_type,
        unit=unit if unit is not None else user.unit,
        residents=residents,
        request=request,
        detail=detail,
    )


# ----------------------------------------------------------------------------------- logins


def login_failed(request: HttpRequest, *, username: str | None) -> None:
    """Count a refused login attempt against the user name it gives (django-axes' lockout),
    however malformed the request: an unreadable body is no way around the lockout.

    django-axes stores the request's form data with each failure; a body that cannot be read
    as a form (a multipart without a boundary, one over the size limit) is treated as an
    empty form here, as Django itself does once it has failed to parse one."""
    # Counted against the name as a person reads it: "bob" and "bob<NUL>" are the same
    # attempt (and PostgreSQL cannot store the NUL).
    username = nfc(username or "")
    if not username:
        return
    try:
        request.POST  # noqa: B018 - parse now, where a failure can be caught
    except Exception:  # noqa: BLE001 - MultiPartParserError, RequestDataTooBig, TooManyFields…
        request._mark_post_parse_error()  # type: ignore[attr-defined]  # Django's own, unstubbed
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def login_locked(request: HttpRequest, *, username: str) -> bool:
    """Whether too many failed logins from this address (for this user name, or for any)
    lock this attempt out, as on the login page (django-axes)."""

    locked: bool = AxesProxyHandler.is_locked(
        request, credentials={"username": nfc(username or "")}
    )
    return locked


# ---------------------------------------------------------------------------------------- users


def hamlets_named(commune: AdminUnit, hamlets: str | Sequence[str]) -> list[AdminUnit]:
    """The commune's hamlets named in `hamlets` ("all", or names matched ignoring case,
    spacing and diacritics), for a field member's account; AccountError names the unknown one."""
    available = list(
        AdminUnit.objects.filter(parent=commune, level=Level.HAMLET).order_by("name", "code")
    )
    if hamlets == "all":
        if not available:
            raise AccountError(
                f"{commune.name} ({commune.code}) has no hamlets yet: import its residents "
                "first, or generate a population"
            )
        return available
    by_key = {h.name_key or key(h.name): h for h in available}
    chosen: list[AdminUnit] = []
    for name in hamlets:
        hamlet = by_key.get(key(name))
        if hamlet is None:
            names = ", ".join(h.name for h in available) or "none"
            raise AccountError(
                f"no hamlet named {name!r} in {commune.name} ({commune.code}); its hamlets: {names}"
            )
        if hamlet not in chosen:
            chosen.append(hamlet)
    if not chosen:
        raise AccountError("--hamlets names no hamlet (say 'all' or NAME,NAME)")
    return chosen


def _username_free(username: str) -> str:
    """The user name, stripped, if it is valid and nobody has it (whatever its case)."""
    username = (username or "").strip()
    if not username:
        raise AccountError("the user name is empty")
    # The rule of every other path (the admin, Django's forms): letters, digits and @.+-_ only.
    try:
        User._meta.get_field("username").run_validators(username)
    except ValidationError as exc:
        raise AccountError(f"user name {username!r}: " + " ".join(exc.messages)) from None
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"a user named {username!r} already exists")
    return username


def _account_fits(
    role: str, unit: AdminUnit, *, hamlets: str | Sequence[str] | None, password: str | None
) -> None:
    """Raise AccountError when the role, its unit, the hamlets or the password do not fit."""
    if role not in Role.values:
        raise AccountError(f"role must be one of {', '.join(Role.values)}, not {role!r}")
    if role == Role.FIELD_MEMBER and unit.level not in (Level.COMMUNE, Level.DISTRICT):
        raise AccountError(
            f"a field member belongs to a commune (or a district's team); {unit.name} "
            f"({unit.code}) is a {unit.level}"
        )
    if hamlets is not None and role != Role.FIELD_MEMBER:
        raise AccountError("--hamlets is only for field members")
    if password is not None and not password:
        raise AccountError("the password is empty")


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    unit: AdminUnit,
    password: str | None,
    full_name: str = "",
    hamlets: str | Sequence[str] | None = None,
    created_by: User | None = None,
    request: HttpRequest | None = None,
) -> User:
    """Create an account bound to one unit. A field member's `hamlets` of their commune ('all'
    or names matched ignoring case, spacing and diacritics: hamlets_named) are checked and
    recorded in the audit entry here; `gocua.campaigns.services.user_create_assigned` assigns
    them in the current campaign, in the same transaction. `password=None` makes an
    account that can only be entered with a one-time code (login_code_issue): the web gives
    accounts that way, never printing a password.

    Atomic: on any AccountError nothing is written. Audited as `create user`.
    Who may call it: the `gocua user create` command (through user_create_assigned), and the
    services that check the actor's scope first (account_create, the campaigns'
    member_account_give).
    """
    username = _username_free(username)
    _account_fits(role, unit, hamlets=hamlets, password=password)
    user = User(username=username, role=role, unit=unit, full_name=nfc(full_name or ""))
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise AccountError("password rejected: " + " ".join(exc.messages)) from None
        user.set_password(password)
    user.save()
    chosen = hamlets_named(unit, hamlets) if hamlets is not None else []
    audit_record(
        user=created_by,
        command_line=created_by is None,
        action="create",
        object_type="user",
        object_id=user.pk,
        unit=unit,
        request=request,
        detail={"username": username, "role": role, "hamlets": [h.code for h in chosen]},
    )
    return user


@transaction.atomic
def user_password_set(
    *, user: User, password: str, by: User | None, request: HttpRequest | None = None
) -> None:
    """Give `user` a new password (validated like every password) and end every token made
    with the old one: a phone that was logged in must log in again. Audited as
    `password_change`; `by=None` is the command line."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise AccountError("password rejected: " + " ".join(exc.messages)) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    password_changed(user=user, by=by, request=request)


def password_changed(*, user: User, by: User | None, request: HttpRequest | None = None) -> None:
    """What follows a password change on any path (this module, the page's form, the admin):
    the user's tokens are revoked and the change is audited."""
    audit_record(
        user=by,
        command_line=by is None and request is None,
        action="password_change",
        object_type="user",
        object_id=user.pk,
        unit=user.unit,
        request=request,
        detail={"username": user.get_username()},
    )
    tokens_revoke_all(user=user, by=by, reason="password_change", request=request, sessions=False)


@transaction.atomic
def user_deactivate(*, user: User, by: User | None, request: HttpRequest | None = None) -> None:
    """Close an account: it can no longer log in, and its tokens are revoked. Idempotent.
    Audited as `deactivate`; `by=None` is the command line."""
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(
            user=by,
            command_line=by is None and request is None,
            action="deactivate",
            object_type="user",
            object_id=user.pk,
            unit=user.unit,
            request=request,
            detail={"username": user.get_username()},
        )
    LoginCode.objects.filter(user=user, used_at__isnull=True, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    tokens_revoke_all(user=user, by=by, reason="deactivated", request=request)


# ---------------------------------------------------------------- accounts given in the web

# Roles by what they may do: an actor never gives a role above their own.
ROLE_RANK: dict[str, int] = {
    Role.VIEWER: 0,
    Role.FIELD_MEMBER: 1,
    Role.UNIT_MANAGER: 2,
    Role.PROVINCE_ADMIN: 3,
}


def roles_given_by(actor: User) -> list[str]:
    """The roles `actor` may give: a province admin gives unit managers, viewers and other
    admins of the province; a unit manager gives viewers (their volunteers get accounts from
    the team's roster)."""

    role = effective_role(actor)
    if role == Role.PROVINCE_ADMIN:
        return [Role.UNIT_MANAGER, Role.VIEWER, Role.PROVINCE_ADMIN]
    if role == Role.UNIT_MANAGER:
        return [Role.VIEWER]
    return []


def username_suggest(full_name: str) -> str:
    """A free login name from a person's name, without diacritics: the given name and the
    initials of the others ("Nguyễn Văn An" → "annv"), then "annv2", "annv3"… when taken."""
    parts = [p for p in fold(full_name or "").replace("-", " ").split() if p.isalnum()]
    base = (parts[-1] + "".join(p[0] for p in parts[:-1])) if parts else "thanhvien"
    base = "".join(ch for ch in base if ch.isascii() and ch.isalnum())[:24] or "thanhvien"
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


@transaction.atomic
def account_create(
    *,
    actor: User,
    role: str,
    unit: AdminUnit,
    full_name: str,
    username: str = "",
    request: HttpRequest | None = None,
) -> tuple[User, str]:
    """An account given in the web by a manager, inside their jurisdiction and never with a
    role above their own (see roles_given_by): returns the user and the one-time code for
    their login card. Raises AccountError."""

    if role not in roles_given_by(actor):
        raise AccountError(_("Bạn không thể cấp tài khoản với vai trò này."))
    if not unit_visible(actor, unit):
        raise AccountError(_("Đơn vị này nằm ngoài phạm vi quản lý của bạn."))
    user = user_create(
        username=username or username_suggest(full_name),
        role=role,
        unit=unit,
        password=None,
        full_name=full_name,
        created_by=actor,
        request=request,
    )
    _row, code = login_code_issue(user=user, by=actor, request=request)
    return user, code


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, no 1/I: read off paper
CODE_SALT = "gocua.accounts.LoginCode"


def _code_digest(code: str) -> str:
    text = "".join(ch for ch in code.upper() if ch.isalnum())
    return salted_hmac(CODE_SALT, text, algorithm="sha256").hexdigest()


@transaction.atomic
def login_code_issue(
    *, user: User, by: User | None, request: HttpRequest | None = None
) -> tuple[LoginCode, str]:
    """A one-time code for `user` to set their own password (a new account, a forgotten or
    reset password): returns the row and the code, shown once (on the login card); only its
    keyed digest is kept. Ends the user's earlier codes. Audited as `login_code`."""
    now = timezone.now()
    LoginCode.objects.filter(user=user, used_at__isnull=True, ended_at__isnull=True).update(
        ended_at=now
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))
    code = f"{code[:4]}-{code[4:]}"
    row = LoginCode.objects.create(
        user=user,
        code_hash=_code_digest(code),
        expires_at=now + dt.timedelta(hours=settings.LOGIN_CODE_HOURS),
        created_by=by,
    )
    audit_record(
        user=by,
        command_line=by is None and request is None,
        action="login_code",
        object_type="user",
        object_id=user.pk,
        unit=user.unit,
        request=request,
        detail={"username": user.get_username(), "expires": row.expires_at.isoformat()},
    )
    return row, code


@transaction.atomic
def password_reset(*, user: User, by: User | None, request: HttpRequest | None = None) -> str:
    """A manager resets a person's password: the old one stops working at once (and the
    account is logged out everywhere); returns a new one-time code for a login card."""
    user.set_unusable_password()
    user.save(update_fields=["password"])
    tokens_revoke_all(user=user, by=by, reason="password_reset", request=request)
    _row, code = login_code_issue(user=user, by=by, request=request)
    return code


class CodeRefused(AccountError):
    """A one-time code that does not open the account: wrong, used, expired or replaced."""


def login_code_redeem(
    *, username: str, code: str, password: str, request: HttpRequest | None = None
) -> User:
    """Set a password with a one-time code: the code must be the user's latest, unused and
    unexpired, and the account active. The code is then spent (once, even for two requests at
    the same moment). A refused attempt counts as a failed login for that user name (the same
    lockout as the login page), outside any transaction so that it stays counted. Audited."""
    now = timezone.now()
    row = (
        LoginCode.objects.select_related("user__unit")
        .filter(
            code_hash=_code_digest(code or ""),
            user__username=(username or "").strip(),
            used_at__isnull=True,
            ended_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
        )
        .first()
    )
    if row is None:
        if request is not None:
            login_failed(request, username=username)
        raise CodeRefused(
            _("Mã không đúng, đã dùng hoặc đã hết hạn. Hãy nhờ cán bộ phụ trách cấp mã mới.")
        )
    user = row.user
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from None
    with transaction.atomic():
        # Spent once: a second request with the same code finds it used.
        if not LoginCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
            raise CodeRefused(_("Mã này vừa được dùng."))
        user.set_password(password)
        user.save(update_fields=["password"])
        _code_redeemed_audit(user, request)
    return user


def _code_redeemed_audit(user: User, request: HttpRequest | None) -> None:
    audit_record(
        user=user,
        action="login_code_used",
        object_type="user",
        object_id=user.pk,
        unit=user.unit,
        request=request,
        detail={"username": user.get_username()},
    )


# --------------------------------------------------------------------------------------- tokens

TOKEN_PREFIX = "gc_"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
STAMP_SALT = "gocua.accounts.ApiToken.password_stamp"


def token_hash(key_text: str) -> str:
    return hashlib.sha256(key_text.encode()).hexdigest()


def password_stamp(user: User) -> str:
    """A keyed digest of the user's password hash and login generation: it changes with the
    password, and when the account is logged out everywhere."""
    value = (
        user.password if not user.login_generation else (f"{user.password}|{user.login_generation}")
    )
    return salted_hmac(STAMP_SALT, value, algorithm="sha256").hexdigest()


def token_expiry(*, now: dt.datetime, campaign_deadline: dt.date | None) -> dt.datetime:
    """When a token made `now` ends at the latest: GOCUA_TOKEN_MAX_DAYS later, or
    GOCUA_TOKEN_AFTER_DEADLINE_DAYS after the campaign's deadline, whichever is sooner."""
    latest = now + dt.timedelta(days=settings.TOKEN_MAX_DAYS)
    if campaign_deadline is None:
        return latest
    end = dt.datetime.combine(
        campaign_deadline + dt.timedelta(days=settings.TOKEN_AFTER_DEADLINE_DAYS + 1),
        dt.time(),
        tzinfo=timezone.get_current_timezone(),
    )
    return min(latest, end)


@transaction.atomic
def token_create(
    *,
    user: User,
    campaign_deadline: dt.date | None,
    label: str = "",
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """A new bearer token for `user`: returns (row, key). The key is shown once and never
    stored (only its SHA-256). `campaign_deadline`: the deadline of the current campaign of
    the user's province (the token ends 30 days after it), None when there is none.
    Audited as `token_create`."""
    key_text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        key_hash=token_hash(key_text),
        prefix=key_text[:10],
        label=label[:100],
        expires_at=token_expiry(now=now, campaign_deadline=campaign_deadline),
        password_stamp=password_stamp(user),
    )
    audit_record(
        user=user,
        action="token_create",
        object_type="api_token",
        object_id=token.pk,
        unit=user.unit,
        request=request,
        detail={"prefix": token.prefix, "expires": token.expires_at.date().isoformat()},
    )
    return token, key_text


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User | None, request: HttpRequest | None = None) -> bool:
    """Revoke a token; True if it was live. Idempotent. Audited as `token_revoke`."""
    now = timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        token.revoked_at = now
        audit_record(
            user=by,
            action="token_revoke",
            object_type="api_token",
            object_id=token.pk,
            unit=token.user.unit if token.user_id else None,
            request=request,
            detail={"prefix": token.prefix},
        )
    return bool(changed)


@transaction.atomic
def tokens_revoke_all(
    *,
    user: User,
    by: User | None,
    reason: str,
    request: HttpRequest | None = None,
    sessions: bool = True,
) -> int:
    """Revoke every live token of `user`; returns how many. With `sessions` (a lost phone, a
    deactivated account) the account is also logged out of every browser, so the phone's
    page cannot trade its session for a new token; a password change ends the sessions by
    itself. One audit entry, `tokens_revoke`, with the reason. `by=None` is the command line."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    if sessions:
        User.objects.filter(pk=user.pk).update(login_generation=F("login_generation") + 1)
        user.refresh_from_db(fields=["login_generation"])
    if revoked or sessions:
        audit_record(
            user=by,
            command_line=by is None and request is None,
            action="tokens_revoke",
            object_type="user",
            object_id=user.pk,
            unit=user.unit,
            request=request,
            detail={
                "tokens": revoked,
                "sessions": sessions,
                "reason": reason,
                "username": user.get_username(),
            },
        )
    return revoked


# Every API request asks this: one query, the token with its user and the user's unit (read
# by every API answer), its SQL built once (see gocua.lib.compiled).
_TOKEN_LOOKUP: CompiledLookup[ApiToken] = CompiledLookup(
    lambda key_hash: ApiToken.objects.select_related("user__unit").filter(
        key_hash=key_hash, revoked_at__isnull=True
    ),
    "sample key hash",
)


def token_authenticate(key_text: str) -> tuple[ApiToken, User] | None:
    """The live token and its active user for a presented key, else None: revoked, past its
    expiry, unused for GOCUA_TOKEN_IDLE_DAYS, made before its user's last password change,
    or belonging to a deactivated user.

    Touches `last_used_at` at most once a minute per token, so a busy client does not turn
    every read into a write."""
    if not key_text or len(key_text) > 200:
        return None
    token = _TOKEN_LOOKUP.first(token_hash(key_text))
    if token is None:
        return None
    user = token.user
    if not user.is_active:
        return None
    now = timezone.now()
    if now >= token.expires_at:
        return None
    if now - (token.last_used_at or token.created_at) >= dt.timedelta(
        days=settings.TOKEN_IDLE_DAYS
    ):
        return None
    if not constant_time_compare(token.password_stamp, password_stamp(user)):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token, token.user
