"""Writes for field work: visits, outcomes, claims, follow-ups."""

import datetime as dt

from gocua.fieldwork.models import VisitOutcome

# Funnel order for comparing a claim with a confirmed stage.
STAGE_RANK = {"none": 0, "failed": 1, "registered": 1, "approved": 2, "activated": 3, "used": 4}


def claims_confirm(*, stages: dict[int, tuple[str, dt.datetime]]) -> int:
    """Mark open claims confirmed where an extract now shows the claimed stage (or later).

    Called by the stage import inside its transaction. Returns how many claims it confirmed."""
    if not stages:
        return 0
    open_claims = VisitOutcome.objects.filter(
        resident_id__in=list(stages), confirmed_at__isnull=True
    ).exclude(claimed_stage="").only("id", "resident_id", "claimed_stage")
    confirmed = []
    for claim in open_claims:
        stage, at = stages[claim.resident_id]
        if STAGE_RANK.get(stage, 0) >= STAGE_RANK.get(claim.claimed_stage, 99):
            claim.confirmed_at = at
            confirmed.append(claim)
    VisitOutcome.objects.bulk_update(confirmed, ["confirmed_at"], batch_size=500)
    return len(confirmed)
