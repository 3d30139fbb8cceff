"""Forms for the campaign pages: they parse input; the services validate the rules."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gocua.accounts.models import Role, User
from gocua.campaigns.models import Affiliation, Campaign, Metric
from gocua.campaigns.selectors import team_leader
from gocua.campaigns.services import OperationRefused
from gocua.geo.models import AdminUnit, Level
from gocua.lib import limits
from gocua.lib.forms import TextField
from gocua.people.funnel import DEFAULT_MIN_AGE

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_refusal(form: forms.Form, exc: OperationRefused) -> None:
    """Show a service's refusal on the field it concerns (or on the whole form)."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class PercentField(forms.DecimalField):
    """A target typed as a percentage (98,5) and stored as a fraction (0.985)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal("0.1"))
        kwargs.setdefault("max_value", Decimal("100"))
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, Decimal) and value <= 1:
            return (value * 100).normalize()
        return value

    def clean(self, value):
        cleaned = super().clean(value)
        return None if cleaned is None else (cleaned / 100).quantize(Decimal("0.0001"))


class CampaignForm(forms.Form):
    name = TextField(label=_("Tên chiến dịch"), max_length=200)
    start_date = forms.DateField(label=_("Ngày bắt đầu"), widget=DATE)
    window_days = forms.IntegerField(
        label=_("Số ngày cao điểm"), initial=60, min_value=1, max_value=366
    )
    deadline = forms.DateField(
        label=_("Hạn hoàn thành"),
        widget=DATE,
        required=False,
        help_text=_("Bỏ trống: ngày 31/12 của năm kết thúc đợt cao điểm."),
    )
    min_age = forms.IntegerField(label=_("Độ tuổi tối thiểu"), initial=DEFAULT_MIN_AGE, min_value=0)
    target_registration = PercentField(label=_("Chỉ tiêu đăng ký (%)"), initial=100)
    target_activation = PercentField(label=_("Chỉ tiêu kích hoạt (%)"), initial=100)
    target_usage = PercentField(label=_("Chỉ tiêu sử dụng (%)"), initial=80)
    district_team_police = forms.IntegerField(label=_("Tổ cấp huyện: công an"), initial=10)
    district_team_youth = forms.IntegerField(label=_("Tổ cấp huyện: đoàn viên"), initial=10)
    commune_team_police = forms.IntegerField(label=_("Tổ cấp xã: công an"), initial=2)
    commune_team_youth = forms.IntegerField(label=_("Tổ cấp xã: đoàn viên"), initial=10)
    home_support_per_officer_day = forms.IntegerField(
        label=_("Hỗ trợ tại nhà: số lượt tối đa của một cán bộ trong ngày"),
        initial=8,
        min_value=1,
        max_value=50,
        required=False,  # left out: the default on creation, unchanged on an edit
        help_text=_("Xếp lịch quá số này sẽ được cảnh báo và phải xác nhận."),
    )

    @classmethod
    def for_campaign(cls, campaign: Campaign, data=None) -> "CampaignForm":
        initial = {name: getattr(campaign, name) for name in cls.base_fields}
        return cls(data, initial=initial)


class CampaignCreateForm(CampaignForm):
    make_current = forms.BooleanField(label=_("Đặt làm chiến dịch hiện hành"), required=False)


class UnitTargetForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Đơn vị"), queryset=AdminUnit.objects.none())
    metric = forms.ChoiceField(label=_("Chỉ tiêu"), choices=Metric.choices)
    value = PercentField(label=_("Mức (%)"))

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province = campaign.province
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = AdminUnit.objects.filter(
            edition=province.edition,
            path__startswith=province.path,
            level__in=(Level.DISTRICT, Level.COMMUNE),
        ).order_by("path")


class MemberForm(forms.Form):
    full_name = TextField(label=_("Họ và tên"), max_length=limits.PERSON_NAME)
    affiliation = forms.ChoiceField(label=_("Lực lượng"), choices=Affiliation.choices)
    phone = TextField(label=_("Số điện thoại"), max_length=20, required=False, state_limit=False)
    user = forms.ModelChoiceField(
        label=_("Tài khoản GõCửa"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Để thành viên tự mở danh sách và ghi kết quả trên điện thoại."),
    )
    is_leader = forms.BooleanField(label=_("Tổ trưởng"), required=False)

    def __init__(self, *args, team, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        leader = team_leader(team)
        if leader is not None and leader != member:
            # Said before saving: ticking someone else replaces the current leader.
            self.fields["is_leader"].help_text = _(
                "Tổ trưởng hiện tại: %(name)s. Đánh dấu người này sẽ thay %(name)s làm tổ trưởng "
                "(mỗi tổ chỉ có một tổ trưởng)."
            ) % {"name": leader.full_name}
        unit = team.unit
        self.fields["user"].queryset = User.objects.filter(
            is_active=True,
            unit__edition=unit.edition,
            unit__path__startswith=unit.path,
            role__in=(Role.FIELD_MEMBER, Role.UNIT_MANAGER),
        ).order_by("username")
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.get_full_name() or u.username} ({u.username})"
        )
