"""Forms for the field-work pages: they parse input; the services validate the rules."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gocua.campaigns.forms import DATE
from gocua.campaigns.models import Member, Team
from gocua.fieldwork.models import FollowUp, Outcome, OutreachEvent, TrainingSession
from gocua.fieldwork.selectors import FLAG_LABELS, FLAGS
from gocua.geo.models import AdminUnit
from gocua.lib import limits
from gocua.lib.forms import LongTextField, TextField
from gocua.people.funnel import GAP_LABELS, GAPS

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class WorklistFilterForm(forms.Form):
    """Which list: a team, a hamlet, a member; narrowed by gap and flag."""

    team: "forms.ModelChoiceField[Team]" = forms.ModelChoiceField(
        label=_("Tổ"), queryset=None, required=False
    )
    hamlet: "forms.ModelChoiceField[AdminUnit]" = forms.ModelChoiceField(
        label=_("Ấp / khu phố"), queryset=None, required=False
    )
    member: "forms.ModelChoiceField[Member]" = forms.ModelChoiceField(
        label=_("Thành viên"), queryset=None, required=False
    )
    gap = forms.ChoiceField(
        label=_("Còn thiếu"),
        required=False,
        choices=[("", _("Tất cả"))] + [(g, GAP_LABELS[g]) for g in GAPS],
    )
    flag = forms.ChoiceField(
        label=_("Đối tượng"),
        required=False,
        choices=[("", _("Tất cả"))] + [(f, FLAG_LABELS[f]) for f in FLAGS],
    )

    def __init__(self, data, *, teams, hamlets, members):
        super().__init__(data)
        self.fields["team"].queryset = teams
        self.fields["team"].empty_label = _("— chọn tổ —")
        self.fields["hamlet"].queryset = hamlets
        self.fields["hamlet"].empty_label = _("Tất cả")
        self.fields["member"].queryset = members
        self.fields["member"].empty_label = _("Tất cả")


OUTCOME_CHOICES = [("", _("— không ghi —"))] + list(Outcome.choices)


class VisitForm(forms.Form):
    """One visit: who, when, a note, and per resident an outcome and a note.

    `client_id` is a hidden UUID made when the page is shown: submitting the same page twice
    sends the same UUID, and visits_record stores it once."""

    client_id = forms.UUIDField(widget=forms.HiddenInput)
    member = forms.ModelChoiceField(label=_("Thành viên đi thăm"), queryset=Member.objects.none())
    at = forms.DateTimeField(
        label=_("Thời điểm"), widget=DATETIME, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    note = LongTextField(label=_("Ghi chú về hộ"), required=False, max_length=limits.NOTE)

    def __init__(self, data=None, *, residents, members, fixed_member=None, client_id=None):
        initial = {
            "client_id": client_id or uuid.uuid4(),
            "at": timezone.localtime().replace(second=0, microsecond=0),
        }
        if fixed_member is not None:
            initial["member"] = fixed_member.pk
        else:
            walkers = list(members[:2])
            if len(walkers) == 1:  # the one member who walks this hamlet
                initial["member"] = walkers[0].pk
        super().__init__(data, initial=initial)
        self.residents = residents
        self.fields["member"].queryset = members
        if fixed_member is not None:
            self.fields["member"].widget = forms.HiddenInput()
        for r in residents:
            self.fields[f"outcome_{r.pk}"] = forms.ChoiceField(
                label=r.full_name, choices=OUTCOME_CHOICES, required=False
            )
            self.fields[f"note_{r.pk}"] = TextField(
                label=_("Ghi chú"), required=False, max_length=limits.OUTCOME_NOTE
            )

    def resident_rows(self):
        return [(r, self[f"outcome_{r.pk}"], self[f"note_{r.pk}"]) for r in self.residents]

    def outcomes(self) -> list[tuple[int, str, str]]:
        return [
            (r.pk, self.cleaned_data[f"outcome_{r.pk}"], self.cleaned_data[f"note_{r.pk}"])
            for r in self.residents
            if self.cleaned_data.get(f"outcome_{r.pk}")
        ]

    def clean(self):
        data = super().clean()
        if not self.errors and not self.outcomes():
            raise forms.ValidationError(_("Hãy ghi kết quả cho ít nhất một người."))
        return data


class RescheduleForm(forms.Form):
    due_date = forms.DateField(label=_("Ngày hẹn mới"), widget=DATE)
    time_of_day = forms.ChoiceField(label=_("Buổi"), choices=FollowUp.TimeOfDay.choices)


class HomeSupportScheduleForm(forms.Form):
    date = forms.DateField(label=_("Ngày đến hỗ trợ"), widget=DATE)
    officers = forms.ModelMultipleChoiceField(
        label=_("Hai cán bộ công an"),
        queryset=Member.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Chỉ công an được thu nhận sinh trắc học: chọn đúng hai người."),
    )

    over_limit_ok = forms.BooleanField(
        label=_("Vẫn xếp lịch dù cán bộ đã đủ số lượt trong ngày"),
        required=False,
        help_text=_("Chỉ đánh dấu sau khi đã xem lịch của cán bộ trong ngày (bên dưới)."),
    )

    def __init__(self, *args, police, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officers"].queryset = police
        self.fields["officers"].label_from_instance = lambda m: f"{m.full_name} ({m.team.name})"

    def clean_officers(self):
        officers = self.cleaned_data["officers"]
        if len(officers) != 2:
            raise forms.ValidationError(_("Cần đúng hai cán bộ công an."))
        return officers


class CloseForm(forms.Form):
    reason = TextField(label=_("Lý do"), max_length=limits.REASON)


class DoneForm(forms.Form):
    note = TextField(label=_("Ghi chú"), max_length=limits.REASON, required=False)


class OutreachForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Đơn vị"), queryset=AdminUnit.objects.none())
    team: "forms.ModelChoiceField[Team]" = forms.ModelChoiceField(
        label=_("Tổ"), queryset=None, required=False
    )
    kind = forms.ChoiceField(label=_("Loại"), choices=OutreachEvent.Kind.choices)
    place = TextField(label=_("Địa điểm"), max_length=limits.PLACE)
    date = forms.DateField(label=_("Ngày"), widget=DATE)
    people_reached = forms.IntegerField(label=_("Số người được tiếp cận"), min_value=0, initial=0)
    dossiers_collected = forms.IntegerField(label=_("Hồ sơ thu nhận"), min_value=0, initial=0)
    activations_helped = forms.IntegerField(
        label=_("Tài khoản hỗ trợ kích hoạt"), min_value=0, initial=0
    )
    note = LongTextField(label=_("Ghi chú"), required=False, max_length=limits.NOTE)

    def __init__(self, *args, units, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["team"].queryset = teams


class TrainingForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Đơn vị"), queryset=AdminUnit.objects.none())
    date = forms.DateField(label=_("Ngày"), widget=DATE)
    topic = forms.ChoiceField(label=_("Nội dung"), choices=TrainingSession.Topic.choices)
    organiser = TextField(
        label=_("Đơn vị tổ chức"),
        max_length=limits.PLACE,
        help_text=_("Ví dụ: Sở Thông tin và Truyền thông, Sở Lao động – Thương binh và Xã hội"),
    )
    note = LongTextField(label=_("Ghi chú"), required=False, max_length=limits.NOTE)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units


class StaffForm(forms.Form):
    name = TextField(label=_("Họ và tên (cán bộ xã)"), max_length=limits.PERSON_NAME)
    passed = forms.BooleanField(label=_("Đạt"), required=False)
