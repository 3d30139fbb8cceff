import json
from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gocua.accounts.selectors import audit_entries_for_user, can_read_audit, scope_unit
from gocua.accounts.services import audit_record, password_changed
from gocua.lib.spreadsheet import csv_writer


class LoginView(auth_views.LoginView):
    """Django's login (AuthenticationForm passes `request` to authenticate, so django-axes
    counts failures per user name and IP), plus an audit entry for each successful login."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        audit_record(
            user=user,
            action="login",
            object_type="user",
            object_id=user.pk,
            unit=user.unit,
            request=self.request,
            detail={"via": "page"},
        )
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit_record(
                user=request.user,
                action="logout",
                object_type="user",
                object_id=request.user.pk,
                unit=request.user.unit,
                request=request,
            )
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # The phone's tokens were made with the old password: they end here.
        password_changed(user=self.request.user, by=self.request.user, request=self.request)
        return response


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes lockout answer: JSON for the API, a friendly page elsewhere (429 both)."""
    message = _(
        "Đăng nhập sai quá nhiều lần. Tài khoản tạm khóa trên máy này trong 15 phút; "
        "hãy thử lại sau hoặc liên hệ quản trị viên."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "accounts/lockout.html", {"message": message}, status=429)


PAGE_SIZE = 50


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit log of the province admin's subtree, newest first."""
    if not can_read_audit(request.user):
        raise Http404
    entries = audit_entries_for_user(request.user).select_related("unit")
    action = request.GET.get("action", "").replace("\x00", "").strip()[:20]
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/audit_list.html",
        {
            "page": page,
            "action": action,
            "query_string": urlencode({"action": action}) if action else "",
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The audit log as CSV (UTF-8 with BOM so Excel reads the diacritics)."""
    if not can_read_audit(request.user):
        raise Http404
    entries = audit_entries_for_user(request.user).select_related("unit").order_by("at", "id")
    audit_record(
        user=request.user,
        action="export",
        object_type="audit_log",
        object_id="",
        unit=scope_unit(request.user),
        request=request,
        detail={"format": "csv"},
    )
    writer = csv_writer(_Echo())
    header = [
        "at",
        "username",
        "action",
        "object_type",
        "object_id",
        "unit_code",
        "unit_name",
        "ip",
        "detail",
    ]

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for e in entries.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    "" if v is None else str(v)
                    for v in (
                        timezone.localtime(e.at).isoformat(timespec="seconds"),
                        e.username,
                        e.action,
                        e.object_type,
                        e.object_id,
                        e.unit.code if e.unit else "",
                        e.unit.name if e.unit else "",
                        e.ip or "",
                        json.dumps(e.detail or {}, ensure_ascii=False),
                    )
                ]
            )

    stamp = timezone.localdate().isoformat()
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gocua-audit-{stamp}.csv"'
    return response
