from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from gocua.accounts.models import Role, User
from gocua.geo.models import AdminUnit
from gocua.lib.forms import TextField


class CodeLoginForm(forms.Form):
    """The first login: the name and one-time code of a login card, and a password of one's
    own."""

    username = TextField(label=_("Tên đăng nhập"), max_length=150, state_limit=False)
    code = TextField(label=_("Mã dùng một lần (trên thẻ)"), max_length=20, state_limit=False)
    password1 = forms.CharField(
        label=_("Mật khẩu mới"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Nhập lại mật khẩu mới"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("Hai mật khẩu không giống nhau."))
        return data


class UnitChoiceField(forms.ModelChoiceField):
    """A unit shown with its code: two communes may have the same name."""

    def label_from_instance(self, obj: AdminUnit) -> str:
        return f"{obj.name} ({obj.code})"


class AccountForm(forms.Form):
    """An account a manager gives (a unit manager, a viewer): who, which role, which unit."""

    full_name = TextField(label=_("Họ và tên"), max_length=150)
    role = forms.ChoiceField(label=_("Vai trò"), choices=())
    unit = UnitChoiceField(label=_("Đơn vị"), queryset=AdminUnit.objects.none())
    username = TextField(
        label=_("Tên đăng nhập"),
        max_length=150,
        required=False,
        help_text=_("Để trống: tạo từ họ tên, không dấu (ví dụ annv)."),
        validators=[User.username_validator],
    )

    def __init__(
        self, *args: Any, roles: list[str], units: QuerySet[AdminUnit], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        role, unit = self.fields["role"], self.fields["unit"]
        assert isinstance(role, forms.ChoiceField) and isinstance(unit, UnitChoiceField)
        role.choices = [(r, Role(r).label) for r in roles]
        unit.queryset = units

    def clean_username(self):
        name = (self.cleaned_data.get("username") or "").strip()
        if name and User.objects.filter(username__iexact=name).exists():
            raise forms.ValidationError(_("Tên đăng nhập này đã có người dùng."))
        return name
