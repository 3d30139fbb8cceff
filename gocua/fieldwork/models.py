import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    HELPED_INSTALL = "helped_install", _("Đã hỗ trợ cài ứng dụng")
    HELPED_REGISTER = "helped_register", _("Đã hỗ trợ đăng ký")
    HELPED_ACTIVATE = "helped_activate", _("Đã hỗ trợ kích hoạt")
    GUIDED_USAGE = "guided_usage", _("Đã hướng dẫn sử dụng")
    ALREADY_DONE = "already_done", _("Đã hoàn thành từ trước")
    NOT_HOME = "not_home", _("Không có nhà")
    MOVED_AWAY = "moved_away", _("Đã chuyển đi")
    DECEASED = "deceased", _("Đã mất")
    REFUSED = "refused", _("Từ chối")
    NO_SMARTPHONE = "no_smartphone", _("Không có điện thoại thông minh")
    PHONE_NOT_OWNED = "phone_not_owned", _("SIM không chính chủ")
    NEEDS_ID_CARD = "needs_id_card", _("Cần làm CCCD")
    NEEDS_HOME_SUPPORT = "needs_home_support", _("Cần hỗ trợ tại nhà")
    APP_ERROR = "app_error", _("Lỗi ứng dụng")


# Every outcome's code, for checking a phone's (Outcome.values builds a new list each time).
OUTCOME_CODES = frozenset(Outcome.values)

# Outcomes that claim a funnel step; the claim waits beside the confirmed stage until an
# extract confirms it.
# Keyed by the outcome's code: a visit carries it as a plain string.
CLAIM_STAGE: dict[str, str] = {
    Outcome.HELPED_REGISTER: "registered",
    Outcome.HELPED_ACTIVATE: "activated",
    Outcome.GUIDED_USAGE: "used",
}


class Visit(models.Model):
    """One visit to a household. Append-only; the client's UUID makes a sync idempotent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        "people.Household", on_delete=models.PROTECT, related_name="visits"
    )
    member = models.ForeignKey(
        "campaigns.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)

    # Not a column: set on the visits of a household's page by `household_visits`.
    outcome_list: list["VisitOutcome"]

    class Meta:
        indexes = [models.Index(fields=["household", "at"], name="visit_household_at")]

    def __str__(self) -> str:
        return f"{self.household} {self.at:%d/%m/%Y %H:%M}"


class Review(models.TextChoices):
    """What a unit manager decided about a reported death or move."""

    PENDING = "", _("Chờ xác nhận")
    CONFIRMED = "confirmed", _("Đã xác nhận")
    DISMISSED = "dismissed", _("Không đúng")


# Outcomes that report a change to the registry; a unit manager confirms them.
STATUS_OUTCOMES = ("deceased", "moved_away")


class VisitOutcome(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="outcomes")
    resident = models.ForeignKey(
        "people.Resident", on_delete=models.CASCADE, related_name="visit_outcomes"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.CharField(max_length=500, blank=True)
    # For claims: the stage claimed, and when an extract confirmed it (null = unconfirmed).
    claimed_stage = models.CharField(max_length=10, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # A claim that skipped a step (e.g. "guided to use" someone the registry shows only as
    # approved): what the volunteer claimed; claimed_stage then holds the step it can really
    # be (fieldwork.services.claim_for). Blank for every other outcome.
    skipped_from = models.CharField(max_length=10, blank=True)
    # For `deceased` / `moved_away`: the registry changes only when a unit manager confirms.
    review = models.CharField(max_length=10, choices=Review.choices, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["resident"],
                condition=models.Q(outcome__in=["deceased", "moved_away"], review=""),
                name="outcome_to_review",
            ),
            models.Index(
                fields=["resident"],
                condition=~models.Q(claimed_stage="") & models.Q(confirmed_at__isnull=True),
                name="outcome_open_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident}: {self.outcome}"


class FollowUp(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Chưa làm")
        DONE = "done", _("Đã làm")
        RESCHEDULED = "rescheduled", _("Đã dời lịch")
        CANCELLED = "cancelled", _("Huỷ")

    class TimeOfDay(models.TextChoices):
        MORNING = "morning", _("Buổi sáng")
        AFTERNOON = "afternoon", _("Buổi chiều")
        EVENING = "evening", _("Buổi tối")

    household = models.ForeignKey(
        "people.Household", on_delete=models.CASCADE, related_name="follow_ups"
    )
    resident = models.ForeignKey(
        "people.Resident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    member = models.ForeignKey(
        "campaigns.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField()
    time_of_day = models.CharField(max_length=10, choices=TimeOfDay.choices)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not a column: set on a page of the follow-ups list by its view.
    late_days: int

    class Meta:
        indexes = [
            models.Index(
                fields=["due_date"], condition=models.Q(status="open"), name="followup_open_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.due_date:%d/%m/%Y} {self.time_of_day}"


class HomeSupportRequest(models.Model):
    """Home support for the elderly and the sick: only police collect biometrics."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Chờ xếp lịch")
        SCHEDULED = "scheduled", _("Đã xếp lịch")
        DONE = "done", _("Đã hỗ trợ")
        CANCELLED = "cancelled", _("Huỷ")

    resident = models.ForeignKey(
        "people.Resident", on_delete=models.CASCADE, related_name="home_support_requests"
    )
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField()
    scheduled_for = models.DateField(null=True, blank=True)
    officers = models.ManyToManyField("campaigns.Member", blank=True, related_name="+")
    scheduled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=300, blank=True)

    # Not columns: set on a page of the home-support list by its view.
    age: int
    waiting_days: int

    class Meta:
        indexes = [
            models.Index(
                fields=["resident"],
                condition=models.Q(status__in=["requested", "scheduled"]),
                name="homesupport_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident} ({self.status})"


class OutreachEvent(models.Model):
    class Kind(models.TextChoices):
        AGENCY = "agency", _("Cơ quan")
        BUSINESS = "business", _("Doanh nghiệp")
        SCHOOL = "school", _("Trường học")
        MARKET = "market", _("Chợ")
        RESIDENTIAL = "residential", _("Khu dân cư")
        OTHER = "other", _("Khác")

    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("campaigns.Team", null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    place = models.CharField(max_length=200)
    date = models.DateField()
    people_reached = models.PositiveIntegerField(default=0)
    dossiers_collected = models.PositiveIntegerField(default=0)
    activations_helped = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["date"], name="outreach_date")]

    def __str__(self) -> str:
        return f"{self.place} {self.date:%d/%m/%Y}"


class TrainingSession(models.Model):
    class Topic(models.TextChoices):
        PROCESS = "process", _("Quy trình")
        LAW = "law", _("Pháp luật")
        FORMS = "forms", _("Biểu mẫu")

    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    topic = models.CharField(max_length=10, choices=Topic.choices)
    organiser = models.CharField(max_length=200)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.get_topic_display()} {self.date:%d/%m/%Y}"


class TrainingAttendance(models.Model):
    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendances"
    )
    member = models.ForeignKey(
        "campaigns.Member", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=120)  # commune staff without a roster entry
    passed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "member"],
                condition=models.Q(member__isnull=False),
                name="attendance_once",
            )
        ]

    def __str__(self) -> str:
        return self.name
