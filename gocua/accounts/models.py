from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", "Chỉ huy cấp tỉnh"
    UNIT_MANAGER = "unit_manager", "Cán bộ quản lý đơn vị"
    FIELD_MEMBER = "field_member", "Thành viên tổ công tác"
    VIEWER = "viewer", "Người xem"


class User(AbstractUser):
    """A person with one role bound to one unit (a field member: their commune)."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    unit = models.ForeignKey(
        "geo.AdminUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; revoking sets `revoked_at`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class AuditEntry(models.Model):
    """Append-only: who did what, when, in which unit, from where."""

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
