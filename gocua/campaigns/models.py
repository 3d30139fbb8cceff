import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # types of the attributes pages set; the selectors read these models
    from gocua.accounts.models import LiveTokens
    from gocua.campaigns.selectors import Composition

# The age a campaign counts from unless it says otherwise: a level-2 eID account is for citizens
# aged 14 or more (Decree 59/2022/NĐ-CP). gocua.people.funnel names it with the funnel's rules.
DEFAULT_MIN_AGE = 14


class Campaign(models.Model):
    """A peak plan: a window (default 60 days), a later deadline, targets and team rules."""

    name = models.CharField(max_length=200)
    province = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    window_days = models.PositiveSmallIntegerField(default=60)
    deadline = models.DateField()
    min_age = models.PositiveSmallIntegerField(default=DEFAULT_MIN_AGE)
    target_registration = models.DecimalField(max_digits=5, decimal_places=4, default=1)
    target_activation = models.DecimalField(max_digits=5, decimal_places=4, default=1)
    target_usage = models.DecimalField(max_digits=5, decimal_places=4, default=0.8)
    is_current = models.BooleanField(default=False)
    # Team composition rules (seed defaults: district 20 = 10 police + 10 youth;
    # commune 12 = 2 police + 10 youth).
    district_team_police = models.PositiveSmallIntegerField(default=10)
    district_team_youth = models.PositiveSmallIntegerField(default=10)
    commune_team_police = models.PositiveSmallIntegerField(default=2)
    commune_team_youth = models.PositiveSmallIntegerField(default=10)
    # Home support: how many visits one police officer can make in a day before scheduling
    # warns (fieldwork.services.home_support_schedule asks for a confirmation past it).
    home_support_per_officer_day = models.PositiveSmallIntegerField(default=8)

    class Meta:
        constraints = [
            # Each province runs its own current campaign.
            models.UniqueConstraint(
                fields=["province"],
                condition=models.Q(is_current=True),
                name="one_current_per_province",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def window_end(self) -> dt.date:
        return self.start_date + dt.timedelta(days=self.window_days - 1)


class Metric(models.TextChoices):
    REGISTRATION = "registration", _("Tỷ lệ đăng ký")
    ACTIVATION = "activation", _("Tỷ lệ kích hoạt")
    USAGE = "usage", _("Tỷ lệ sử dụng")


class UnitTarget(models.Model):
    """A per-unit override of one campaign target (applies to the unit's subtree)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="unit_targets")
    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=12, choices=Metric.choices)
    value = models.DecimalField(max_digits=5, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit", "metric"], name="unit_target")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.metric} {self.value}"


class Team(models.Model):
    """The VNeID team of one district or commune in a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="teams")
    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)

    # Not columns: set on the teams of a list by `teams_for_user`.
    affiliation_counts: dict[str, int]
    composition: "Composition"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "unit"], name="team_per_unit")]

    def __str__(self) -> str:
        return self.name


class Affiliation(models.TextChoices):
    POLICE = "police", _("Công an")
    YOUTH_UNION = "youth_union", _("Đoàn thanh niên")
    WOMEN_UNION = "women_union", _("Hội phụ nữ")
    COMMUNE_OFFICIAL = "commune_official", _("Cán bộ xã")
    OTHER = "other", _("Khác")


class Member(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    full_name = models.CharField(max_length=120)
    phone = models.CharField(max_length=10, blank=True)
    affiliation = models.CharField(max_length=20, choices=Affiliation.choices)
    is_leader = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    active = models.BooleanField(default=True)

    # Not columns: set on the members of a roster by the team's page.
    phone_login: "LiveTokens | None"
    hamlet_names: list[str]
    trained: bool

    class Meta:
        constraints = [
            # One leader per team, whatever writes the roster (campaigns.services.member_add /
            # member_update move the leadership; this is the net under them).
            models.UniqueConstraint(
                fields=["team"], condition=models.Q(is_leader=True), name="one_leader_per_team"
            )
        ]

    def __str__(self) -> str:
        return self.full_name


class Assignment(models.Model):
    """A hamlet given to a team member to walk."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="assignments")
    hamlet = models.ForeignKey("geo.AdminUnit", on_delete=models.CASCADE, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "hamlet"], name="assignment_once")]

    def __str__(self) -> str:
        return f"{self.member} → {self.hamlet}"
