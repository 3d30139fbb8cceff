"""The outbox: what changed, written by the write paths in their own transaction.

Residents, visits and campaigns are written by apps that sit below the reports. They do not
tell the rollups (gocua.reports.rollups) about a change; they leave a row here, in the same
transaction as the change itself, and the worker folds the rows into the rollups and deletes
them. A change committed is therefore a change queued, whatever happens to the process after
the commit. Plain ids rather than foreign keys: rows that live seconds and must cost a phone's
post as little as possible."""

from django.db import models


class PendingVisit(models.Model):
    """A visit recorded but not yet added to the rollups' field counts.

    Recording a visit writes only this row; the fold adds the queued visits to the day rows in
    batches and deletes theirs. Keeping the rollups' lock and the hot province/district/commune
    day rows out of every phone's post is what lets posts from many phones run side by side."""

    visit_id = models.UUIDField(primary_key=True)

    def __str__(self) -> str:
        return f"visit {self.visit_id} to fold"


class PendingResidents(models.Model):
    """Residents an import inserted, not yet in the rollups: ids `first_id`..`last_id`.

    An import chunk writes one row per run of the ids it inserted (one INSERT, no lock); the
    worker counts the queued residents in batches, set-based. Until then pages say how many
    residents are still being counted. A rebuild counts everyone and empties the queue."""

    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    queued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"residents {self.first_id}..{self.last_id} to count"


class ChangedResident(models.Model):
    """A resident edited (moved, died, a new stage, a corrected birth date): the rollups
    compare it with what they counted before, so the row says only *who*, never how."""

    resident_id = models.BigIntegerField()
    queued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"resident {self.resident_id} to recount"


class CampaignChange(models.Model):
    """A campaign became current or changed its start date or minimum age: the worker checks
    whether the rollups, built for the old ones, can still answer."""

    queued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"campaign change of {self.queued_at}"
