from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone

from gocua.accounts.models import ApiToken, AuditEntry, User
from gocua.accounts.services import password_changed, token_revoke, tokens_revoke_all


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "role", "unit", "is_active", "is_superuser")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("username", "full_name")
    raw_id_fields = ("unit",)
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("GõCửa", {"fields": ("full_name", "role", "unit")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("GõCửa", {"fields": ("full_name", "role", "unit")}),
    )

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            # Saved: the account's tokens were made with the old password.
            password_changed(user=User.objects.get(pk=id), by=request.user, request=request)
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            tokens_revoke_all(user=obj, by=request.user, reason="deactivated", request=request)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "prefix", "label")
    readonly_fields = ("user", "key_hash", "prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("user", "label", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False  # tokens are made by POST /api/v1/auth/token, shown once

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row stays as a record

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True).select_related("user__unit"):
            token_revoke(token=token, by=request.user, request=request)
        self.message_user(request, f"revoked at {timezone.localtime():%H:%M}")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ("at", "username", "action", "object_type", "object_id", "unit", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("username", "object_id")
    date_hierarchy = "at"
    list_select_related = ("unit",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
