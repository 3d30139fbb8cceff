import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gocua.accounts.audit_labels import (
    ACTION_LABELS,
    AccountNames,
    action_label,
    audit_rows_labelled,
    object_label,
)
from gocua.accounts.cards import login_card
from gocua.accounts.forms import AccountForm, CodeLoginForm
from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.models import Role, User
from gocua.accounts.selectors import (
    AnyUser,
    audit_entries_for_user,
    can_read_audit,
    effective_role,
    is_manager,
    live_tokens_by_user,
    scope_unit,
    units_for_user,
    users_for_user,
)
from gocua.accounts.services import (
    ROLE_RANK,
    AccountError,
    CodeRefused,
    account_create,
    audit_record,
    login_code_redeem,
    login_locked,
    password_changed,
    password_reset,
    roles_given_by,
    tokens_revoke_all,
    user_deactivate,
)
from gocua.geo.models import AdminUnit, Level
from gocua.lib.spreadsheet import csv_writer


def landing_url(user: AnyUser) -> str:
    """Where a person's work is: a field member's phone page, a unit manager's day (what is
    due today in their unit), everyone else's dashboard."""
    role = effective_role(user)
    if role == Role.FIELD_MEMBER:
        return reverse("field:page")
    if role == Role.UNIT_MANAGER:
        return reverse("fieldwork:today")
    return "/"


class LoginView(auth_views.LoginView):
    """Django's login (AuthenticationForm passes `request` to authenticate, so django-axes
    counts failures per user name and IP), plus an audit entry for each successful login.
    Without a `next`, a field member lands on the field page."""

    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return landing_url(self.request.user)

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
def audit_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The audit log of the province admin's subtree, newest first."""
    if not can_read_audit(request.user):
        raise Http404
    entries = audit_entries_for_user(request.user).select_related("unit")
    action = request.GET.get("action", "").replace("\x00", "").strip()[:20]
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_rows_labelled(page.object_list)
    return render(
        request,
        "accounts/audit_list.html",
        {
            "page": page,
            "action": action,
            "actions": [(code, str(label)) for code, label in ACTION_LABELS.items()],
            "query_string": urlencode({"action": action}) if action else "",
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def audit_export(request: AuthenticatedHttpRequest) -> StreamingHttpResponse:
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
        _("Thời điểm"),
        _("Người dùng"),
        _("Hành động"),
        _("Đối tượng"),
        _("Số hoặc tên đối tượng"),
        _("Mã đơn vị"),
        _("Tên đơn vị"),
        "IP",
        _("Chi tiết"),
    ]
    names = AccountNames()
    language = translation.get_language()

    def rows():
        yield "\ufeff" + writer.writerow(header)
        for e in entries.iterator(chunk_size=2000):
            # Streamed after the view returned: word the rows in the reader's language.
            with translation.override(language):
                row = (
                    action_label(e.action),
                    object_label(e.object_type),
                    names.object_name(e),
                )
            yield writer.writerow(
                [
                    "" if v is None else str(v)
                    for v in (
                        timezone.localtime(e.at).isoformat(timespec="seconds"),
                        e.username,
                        *row,
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


@require_http_methods(["GET", "POST"])
def code_login(request: HttpRequest) -> HttpResponse:
    """The first login with a login card: the name and one-time code, then one's own
    password. Refused codes count as failed logins (the same lockout as the login page)."""
    form = CodeLoginForm(request.POST or None, initial={"username": request.GET.get("u", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if login_locked(request, username=data["username"]):
            return lockout(request)
        try:
            user = login_code_redeem(
                username=data["username"],
                code=data["code"],
                password=data["password1"],
                request=request,
            )
        except CodeRefused as exc:
            form.add_error("code", str(exc))
        except AccountError as exc:
            form.add_error("password1", str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Đã đặt mật khẩu. Chào mừng %(name)s!")
                % {"name": user.get_full_name() or user.get_username()},
            )
            return redirect(landing_url(user))
    return render(request, "registration/code_login.html", {"form": form})


# --- accounts given by managers ------------------------------------------------------------


def _account_units(user: User) -> QuerySet[AdminUnit]:
    return units_for_user(user).exclude(level=Level.HAMLET).order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The accounts of the manager's jurisdiction; a province admin gives unit managers and
    viewers their accounts here (volunteers get theirs from their team's roster)."""
    user = request.user
    roles = roles_given_by(user)
    if not is_manager(user):
        raise Http404
    form = AccountForm(request.POST or None, roles=roles, units=_account_units(user))
    if request.method == "POST" and roles and form.is_valid():
        data = form.cleaned_data
        try:
            new, code = account_create(
                actor=user,
                role=data["role"],
                unit=data["unit"],
                full_name=data["full_name"],
                username=data["username"],
                request=request,
            )
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            card = login_card(request, user=new, code=code, where=data["unit"].name)
            return render(
                request,
                "accounts/login_cards.html",
                {"cards": [card], "title": new.get_full_name(), "back": reverse("accounts:people")},
            )
    page = Paginator(
        users_for_user(user).select_related("unit").order_by("unit__path", "role", "username"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    phones = live_tokens_by_user([u.pk for u in page])
    for u in page:
        u.phone_login = phones.get(u.pk)
        u.manageable = _manageable(user, u)
    return render(
        request, "accounts/account_list.html", {"page": page, "form": form if roles else None}
    )


def _manageable(actor: User, account: User) -> bool:
    """Whether `actor` may reset, close or log out `account`: inside their jurisdiction, not
    themselves, and not a role above their own."""
    if account.pk == actor.pk or account.is_superuser:
        return False
    role = effective_role(actor)
    rank = ROLE_RANK.get(role, -1) if role is not None else -1
    return (
        ROLE_RANK.get(account.role, 9) <= rank
        and users_for_user(actor).filter(pk=account.pk).exists()
    )


def _account_or_404(request: AuthenticatedHttpRequest, pk: int) -> User:
    if not is_manager(request.user):
        raise Http404
    account = users_for_user(request.user).filter(pk=pk).select_related("unit").first()
    if account is None or not _manageable(request.user, account):
        raise Http404
    return account


@login_required
@require_POST
def account_reset(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    code = password_reset(user=account, by=request.user, request=request)
    card = login_card(
        request, user=account, code=code, where=account.unit.name if account.unit else ""
    )
    return render(
        request,
        "accounts/login_cards.html",
        {
            "cards": [card],
            "title": account.get_full_name() or account.username,
            "back": reverse("accounts:people"),
        },
    )


@login_required
@require_POST
def account_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    user_deactivate(user=account, by=request.user, request=request)
    messages.success(request, _("Đã khoá tài khoản %(name)s.") % {"name": account.username})
    return redirect("accounts:people")


@login_required
@require_POST
def account_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    count = tokens_revoke_all(user=account, by=request.user, reason="lost_phone", request=request)
    messages.success(
        request,
        _("Đã thu hồi %(n)d phiên đăng nhập trên điện thoại của %(name)s.")
        % {"n": count, "name": account.username},
    )
    return redirect("accounts:people")
