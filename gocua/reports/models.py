"""Rollups: the per-unit, per-day counts dashboards and reports read.

The design (what is counted, how it stays current, how birthdays are handled) is explained in
gocua/reports/rollups/__init__.py. These tables are derived data: `gocua rollup rebuild` recomputes all
of them from residents, stage events and visits.
"""

import datetime as dt

from django.db import models


class RollupState(models.Model):
    """One row (pk=1): for which minimum age and from which day the rollups were built, and
    the last day rolled forward. No row means the rollups were never built (reads then fall
    back to live queries over the source tables)."""

    first_day = models.DateField()
    day = models.DateField()  # the last day that has rows (today, once rolled)
    min_age = models.PositiveSmallIntegerField()
    built_at = models.DateTimeField()
    # `gocua rollup roll` re-reads residents edited since then (a safety net for write paths
    # that forgot to record their change in gocua.changes).
    swept_at = models.DateTimeField(null=True, blank=True)
    # When the worker last counted what was queued (gocua.changes): readers say "figures as of"
    # this moment, and never fold themselves.
    folded_at = models.DateTimeField(null=True, blank=True)
    # Set when something the rows were built with changed (the minimum age, an earlier first
    # day): the rows still answer, marked "recounting, figures as of" this moment, until the
    # rebuild the change queued replaces them.
    stale_since = models.DateTimeField(null=True, blank=True)
    # Not stored: set by rollups.rollup_state for the page to say what is still waiting
    # ("counting N new residents").
    residents_waiting: int = 0
    waiting_since: dt.datetime | None = None
    visits_waiting: int = 0
    residents_edited: int = 0

    def __str__(self) -> str:
        return f"rollups {self.first_day}..{self.day} (min age {self.min_age})"


class ResidentSnapshot(models.Model):
    """What the rollups last counted for one resident.

    The incremental path compares this with the resident's row now (and its new stage events)
    and applies the difference, so callers only say *which* residents changed, never how.
    Plain integer columns rather than foreign keys: the row must outlive nothing and cost
    little to write (one per resident, written in bulk)."""

    resident_id = models.BigIntegerField(primary_key=True)
    unit_id = models.BigIntegerField()
    birth_date = models.DateField()
    active = models.BooleanField()  # neither deceased nor moved out
    stage = models.PositiveSmallIntegerField()  # gocua.people.funnel.STAGE_CODES
    level = models.PositiveSmallIntegerField()
    last_event_id = models.BigIntegerField(default=0)

    # No index on birth_date: the daily roll's "who turns min_age today?" scans the table once
    # a night (0.1 s for a province), where the index cost every import a third of the time
    # it takes to count its new residents.

    def __str__(self) -> str:
        return f"resident {self.resident_id} as counted"


class UnitDay(models.Model):
    """Counts of one unit's whole subtree on one day.

    Stage columns are the day's *changes* of the stock of residents eligible that day (alive,
    resident, aged min_age or more) by confirmed stage: the stock on day D is the sum of the
    rows up to D, the first day's row being the opening stock. Field columns are that day's
    flows (visits made that day, claims made that day and how many of those the confirmed
    stage now supports). A missing row means zeros."""

    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    st_none = models.IntegerField(default=0, db_default=0)
    st_registered = models.IntegerField(default=0, db_default=0)
    st_approved = models.IntegerField(default=0, db_default=0)
    st_failed = models.IntegerField(default=0, db_default=0)
    st_activated = models.IntegerField(default=0, db_default=0)
    st_used = models.IntegerField(default=0, db_default=0)
    level2 = models.IntegerField(default=0, db_default=0)
    visits = models.IntegerField(default=0, db_default=0)
    households = models.IntegerField(default=0, db_default=0)
    contacted = models.IntegerField(default=0, db_default=0)
    claims_registered = models.IntegerField(default=0, db_default=0)
    claims_activated = models.IntegerField(default=0, db_default=0)
    claims_used = models.IntegerField(default=0, db_default=0)
    confirmed_registered = models.IntegerField(default=0, db_default=0)
    confirmed_activated = models.IntegerField(default=0, db_default=0)
    confirmed_used = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "day"], name="unitday_unit_day")]
        indexes = [models.Index(fields=["day"], name="unitday_day")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day}"


STOCK_COLUMNS = [
    "st_none",
    "st_registered",
    "st_approved",
    "st_failed",
    "st_activated",
    "st_used",
    "level2",
]
FLOW_COLUMNS = [
    "visits",
    "households",
    "contacted",
    "claims_registered",
    "claims_activated",
    "claims_used",
    "confirmed_registered",
    "confirmed_activated",
    "confirmed_used",
]


class MemberDay(models.Model):
    """One team member's field work on one day (visits by visit date)."""

    member = models.ForeignKey("campaigns.Member", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    visits = models.IntegerField(default=0, db_default=0)
    households = models.IntegerField(default=0, db_default=0)
    contacted = models.IntegerField(default=0, db_default=0)
    claims = models.IntegerField(default=0, db_default=0)
    confirmed = models.IntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="memberday_member_day")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}"


MEMBER_COLUMNS = ["visits", "households", "contacted", "claims", "confirmed"]


class StageRegression(models.Model):
    """A confirmed stage that went backwards (e.g. activated → registered), from StageEvent.

    Kept by the rollups so the reconciliation page lists them in O(regressions), not by
    scanning the whole event history."""

    event_id = models.BigIntegerField(primary_key=True)
    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    from_stage = models.CharField(max_length=10)
    to_stage = models.CharField(max_length=10)

    class Meta:
        indexes = [models.Index(fields=["unit", "at"], name="regression_unit_at")]

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.from_stage} → {self.to_stage}"
