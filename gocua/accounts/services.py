"""Writes for accounts: users, API tokens and the audit log."""

import datetime as dt
import getpass
import hashlib
import ipaddress
import os
import secrets
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from gocua.accounts.models import ApiToken, AuditEntry, Role, User
from gocua.geo.models import AdminUnit, Level
from gocua.lib.bulk import insert_one
from gocua.lib.masking import scrub
from gocua.lib.ranges import compress
from gocua.lib.rows import Columns, cache_related
from gocua.lib.text import key, nfc


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why, for a person."""


# ---------------------------------------------------------------------------------------- audit


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind GOCUA_TRUSTED_PROXY_COUNT reverse proxies
    the address the outermost trusted proxy saw (counted from the right of X-Forwarded-For,
    so a client cannot choose it). django-axes uses this too (AXES_CLIENT_IP_CALLABLE)."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


def _scrubbed(value):
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
    user: User | None,
    action: str,
    object_type: str,
    object_id: object,
    unit: AdminUnit | None,
    request=None,
    detail: dict | None = None,
    command_line: bool = False,
) -> AuditEntry:
    """Append one entry to the audit log: who, when, what, which unit, from which IP.

    Every import, export, create, update and every view of a resident's full record must call
    this, in every app (accounts, people, imports, campaigns, fieldwork, reports, api): e.g.
    `audit_record(user=request.user, action="export", object_type="kpi_report",
    object_id=unit.code, unit=unit, request=request, detail={"format": "xlsx"})`.
    Actions in use: create, update, delete, import, export, view, login, logout,
    password_change, token_create, token_revoke. `detail` is for counts and options, never for
    personal data (anything shaped like a national ID or phone is masked anyway).
    `command_line=True` (no user): the entry is named `cli:<os user>` and says it acted with
    the whole installation's authority.
    Append-only: entries are never updated or deleted. Joins the caller's transaction.
    """
    if user is not None and not user.is_authenticated:
        user = None
    detail = dict(detail or {})
    username = user.get_username() if user else ""
    if command_line and user is None:
        username = command_line_actor()
        detail["authority"] = "installation"
    entry = AuditEntry(
        user=user,
        username=username,
        action=action[:20],
        object_type=object_type[:50],
        object_id=str(object_id if object_id is not None else "")[:64],
        unit=unit,
        ip=client_ip(request),
        detail=_scrubbed(detail),
    )
    # Written without the ORM's compiler (every API write audits); a new row, never an update.
    insert_one(entry)
    return entry


def audit_view(
    *,
    user: User,
    object_type: str,
    unit: AdminUnit | None,
    residents: Iterable[int] = (),
    request=None,
    detail: dict | None = None,
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


# ----------------------------------------------------------------------------------- logins


def login_failed(request, *, username: str | None) -> None:
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
        request._mark_post_parse_error()
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


# ---------------------------------------------------------------------------------------- users


def _hamlets_of(commune: AdminUnit, hamlets: str | Sequence[str]) -> list[AdminUnit]:
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


def _assign_hamlets(user: User, commune: AdminUnit, hamlets: list[AdminUnit], affiliation: str):
    """Through the campaigns services (as a trusted caller): the commune's team in the current
    campaign (created when missing), the user's membership in it, one assignment per hamlet."""
    from gocua.campaigns.models import Member, Team
    from gocua.campaigns.selectors import current_campaign
    from gocua.campaigns.services import (
        OperationRefused,
        assignment_add,
        member_add,
        team_create,
    )

    campaign = current_campaign(commune)
    if campaign is None:
        raise AccountError(
            f"{commune.name}'s province has no current campaign to assign hamlets in: create "
            "the campaign first "
            "(or create the user without --hamlets and assign later)"
        )
    try:
        team = Team.objects.filter(campaign=campaign, unit=commune).first()
        if team is None:
            team = team_create(campaign=campaign, unit=commune)
        member = Member.objects.filter(team=team, user=user).first()
        if member is None:
            member = member_add(
                team=team,
                full_name=user.get_full_name() or user.get_username(),
                affiliation=affiliation,
                user=user,
            )
        for hamlet in hamlets:
            assignment_add(member=member, hamlet=hamlet)
    except OperationRefused as exc:
        raise AccountError(str(exc)) from None


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    unit: AdminUnit,
    password: str,
    full_name: str = "",
    hamlets: str | Sequence[str] | None = None,
    affiliation: str = "other",
    created_by: User | None = None,
    request=None,
) -> User:
    """Create an account bound to one unit, and for a field member assign hamlets of their
    commune ('all' or names matched ignoring case, spacing and diacritics) in the current
    campaign (its Team and Member are created when missing).

    Atomic: on any AccountError nothing is written. Audited as `create user`.
    Who may call it: the `gocua user create` command, and pages restricted to province admins.
    """
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
    if role not in Role.values:
        raise AccountError(f"role must be one of {', '.join(Role.values)}, not {role!r}")
    if role == Role.FIELD_MEMBER and unit.level != Level.COMMUNE:
        raise AccountError(
            f"a field member belongs to a commune; {unit.name} ({unit.code}) is a {unit.level}"
        )
    if hamlets is not None and role != Role.FIELD_MEMBER:
        raise AccountError("--hamlets is only for field members")
    if not password:
        raise AccountError("the password is empty")
    user = User(username=username, role=role, unit=unit, full_name=(full_name or "").strip())
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise AccountError("password rejected: " + " ".join(exc.messages)) from None
    user.set_password(password)
    user.save()
    chosen = _hamlets_of(unit, hamlets) if hamlets is not None else []
    if chosen:
        _assign_hamlets(user, unit, chosen, affiliation)
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
def user_password_set(*, user: User, password: str, by: User | None, request=None) -> None:
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


def password_changed(*, user: User, by: User | None, request=None) -> None:
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
def user_deactivate(*, user: User, by: User | None, request=None) -> None:
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
    tokens_revoke_all(user=user, by=by, reason="deactivated", request=request)


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
    request=None,
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
def token_revoke(*, token: ApiToken, by: User | None, request=None) -> bool:
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
    *, user: User, by: User | None, reason: str, request=None, sessions: bool = True
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


_TOKEN = Columns(ApiToken, "t")
_TOKEN_USER = Columns(User, "u")
_TOKEN_UNIT = Columns(AdminUnit, "un")
_TOKEN_SQL = (
    f"SELECT {_TOKEN.sql}, {_TOKEN_USER.sql}, {_TOKEN_UNIT.sql} FROM {_TOKEN.table} "
    f'JOIN {_TOKEN_USER.table} ON u."id" = t."user_id" '
    f'LEFT JOIN {_TOKEN_UNIT.table} ON un."id" = u."unit_id" '
    'WHERE t."key_hash" = %s AND t."revoked_at" IS NULL'
)


def token_authenticate(key_text: str) -> tuple[ApiToken, User] | None:
    """The live token and its active user for a presented key, else None: revoked, past its
    expiry, unused for GOCUA_TOKEN_IDLE_DAYS, made before its user's last password change,
    or belonging to a deactivated user.

    Touches `last_used_at` at most once a minute per token, so a busy client does not turn
    every read into a write."""
    if not key_text or len(key_text) > 200:
        return None
    # Every API request asks this: one hand-written query (see gocua.lib.rows), not the
    # select_related queryset the ORM would rebuild each time.
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [token_hash(key_text)])
        row = cursor.fetchone()
    if row is None:
        return None
    token, rest = _TOKEN.take(row)
    user, rest = _TOKEN_USER.take(rest)
    cache_related(user, "unit", _TOKEN_UNIT.build(rest))
    cache_related(token, "user", user)
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
