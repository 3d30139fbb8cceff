import datetime as dt
from collections.abc import Iterator
from typing import Any, NoReturn, TypedDict

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("Chỉ huy cấp tỉnh")
    UNIT_MANAGER = "unit_manager", _("Cán bộ quản lý đơn vị")
    FIELD_MEMBER = "field_member", _("Thành viên tổ công tác")
    VIEWER = "viewer", _("Người xem")


class LiveTokens(TypedDict):
    """An account's live API tokens (a logged-in phone): how many, and when one was last used."""

    count: int
    last_used: dt.datetime | None


class User(AbstractUser):
    """A person with one role bound to one unit (a field member: their commune).

    What the user may see is decided only by `gocua.accounts.selectors` (role + unit)."""

    # Not columns: set on the accounts of a page by the list that shows them.
    phone_login: LiveTokens | None
    manageable: bool

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    unit = models.ForeignKey(
        "geo.AdminUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # Vietnamese names do not split into first/last the way AbstractUser assumes.
    full_name = models.CharField(max_length=150, blank=True)
    # Raised to log the account out everywhere (a lost phone): every browser session and API
    # token was made with the old value and ends (see get_session_auth_hash and ApiToken).
    login_generation = models.PositiveIntegerField(default=0)

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name()

    def get_session_auth_hash(self) -> str:
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    def _session_hash(self, *, secret: str | bytes | None) -> str:
        """Django's session hash (an HMAC of the password hash), with the login generation:
        a session ends when the password changes, and when the account is logged out
        everywhere. Until the first such logout it equals Django's own, so upgrading ends no
        session."""
        value = (
            self.password
            if not self.login_generation
            else (f"{self.password}|{self.login_generation}")
        )
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            value,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; revoking sets `revoked_at`.

    A token ends (see `gocua.accounts.services.token_authenticate`): when revoked, when its
    user is deactivated or changes password (`password_stamp` no longer matches), after
    GOCUA_TOKEN_IDLE_DAYS unused, and at `expires_at` (the campaign's deadline plus
    GOCUA_TOKEN_AFTER_DEADLINE_DAYS, or GOCUA_TOKEN_MAX_DAYS after it was made, whichever
    comes first)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the key, enough for a person to tell their tokens apart.
    prefix = models.CharField(max_length=12, blank=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # A keyed digest of the user's password hash when the token was made: any later change of
    # password, on any path (a page, the command line, the admin), ends the token.
    password_stamp = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    """The audit log is append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("the audit log is append-only")

    def delete(self) -> NoReturn:
        raise TypeError("the audit log is append-only")


class AuditEntry(models.Model):
    """Append-only: who did what, when, in which unit, from where. Write with `audit_record`."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20)  # create/update/import/export/view/login…
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    unit = models.ForeignKey(
        "geo.AdminUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    # Not columns: set on the entries of a page by `audit_rows_labelled`.
    action_label: str
    object_label: str
    object_name: str

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A guard, not a side effect: an entry once written is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("the audit log is append-only")


class LoginCode(models.Model):
    """A one-time code that lets a person set their own password: printed on their login
    card by the manager who gave them the account (or reset it). Only a keyed digest of the
    code is stored; it works once, for 72 hours (GOCUA_LOGIN_CODE_HOURS), and a newer code for
    the same account ends it. No password is ever printed or sent."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Ended by a newer code, a deactivation, or its use.
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"login code of {self.user} until {self.expires_at:%Y-%m-%d %H:%M}"
