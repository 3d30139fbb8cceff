"""Superuser views of field work. Visits are append-only: shown, never edited here."""

from django.contrib import admin

from gocua.fieldwork.models import (
    FollowUp,
    HomeSupportRequest,
    OutreachEvent,
    TrainingAttendance,
    TrainingSession,
    Visit,
    VisitOutcome,
)


class VisitOutcomeInline(admin.TabularInline):
    model = VisitOutcome
    fields = ("resident", "outcome", "note", "claimed_stage", "confirmed_at", "review")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ("id", "household", "member", "at", "received_at")
    date_hierarchy = "at"
    readonly_fields = (
        "id",
        "household",
        "member",
        "recorded_by",
        "at",
        "received_at",
        "note",
        "lat",
        "lon",
    )
    inlines = [VisitOutcomeInline]

    def has_add_permission(self, request) -> bool:
        return False  # visits come from visits_record (pages, API sync)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("household", "due_date", "time_of_day", "status", "member")
    list_filter = ("status", "time_of_day")
    raw_id_fields = ("household", "resident", "visit", "member")


@admin.register(HomeSupportRequest)
class HomeSupportRequestAdmin(admin.ModelAdmin):
    list_display = ("resident", "status", "requested_at", "scheduled_for")
    list_filter = ("status",)
    raw_id_fields = ("resident", "visit", "officers")


@admin.register(OutreachEvent)
class OutreachEventAdmin(admin.ModelAdmin):
    list_display = (
        "place",
        "kind",
        "date",
        "unit",
        "people_reached",
        "dossiers_collected",
        "activations_helped",
    )
    list_filter = ("kind",)
    raw_id_fields = ("unit", "team")


class TrainingAttendanceInline(admin.TabularInline):
    model = TrainingAttendance
    raw_id_fields = ("member",)
    extra = 0


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    list_display = ("date", "unit", "topic", "organiser")
    list_filter = ("topic",)
    raw_id_fields = ("unit",)
    inlines = [TrainingAttendanceInline]
