"""Superuser views of campaign data (day-to-day work goes through the pages and services)."""

from django.contrib import admin

from gocua.campaigns.models import Assignment, Campaign, Member, Team, UnitTarget


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "province", "start_date", "window_days", "deadline", "is_current")
    list_filter = ("is_current",)
    raw_id_fields = ("province",)


@admin.register(UnitTarget)
class UnitTargetAdmin(admin.ModelAdmin):
    list_display = ("campaign", "unit", "metric", "value")
    list_filter = ("metric",)
    raw_id_fields = ("campaign", "unit")


class MemberInline(admin.TabularInline):
    model = Member
    fields = ("full_name", "affiliation", "phone", "is_leader", "user", "active")
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "campaign")
    search_fields = ("name", "unit__name", "unit__code")
    raw_id_fields = ("campaign", "unit")
    inlines = [MemberInline]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("full_name", "team", "affiliation", "is_leader", "active")
    list_filter = ("affiliation", "active", "is_leader")
    search_fields = ("full_name", "team__name")
    raw_id_fields = ("team", "user")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("member", "hamlet", "assigned_at")
    raw_id_fields = ("member", "hamlet")
