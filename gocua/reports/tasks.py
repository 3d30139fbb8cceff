"""Background tasks of the reports: the rollups' rebuild, upkeep, folds and nightly roll.

Each is safe to run again after a worker died in the middle: each runs in one transaction
(or several, each complete) and leaves the rollups exact whatever happened before. They are
the only writers of the rollups (see gocua/reports/rollups/__init__.py)."""

from django_tasks import task

from gocua.reports import rollups


@task()
def rollup_rebuild() -> dict:
    """Recount every rollup from the source tables (minutes for a province): on the long-job
    queue, so the quick upkeep goes on meanwhile."""
    return rollups.rollup_rebuild()


@task(queue_name="quick")
def rollup_fold() -> int:
    """Count the visits phones posted and the residents edited since the last fold."""
    return rollups.rollup_fold()


@task(queue_name="quick")
def rollup_roll() -> list:
    """Just after midnight: roll to the new day, re-read residents edited by any path."""
    day, changed = rollups.rollup_roll()
    return [day.isoformat() if day else None, changed]


@task(queue_name="quick")
def rollup_maintain() -> str:
    """Every few seconds: the rollups exist and are current (see rollups.rollup_maintain)."""
    return rollups.rollup_maintain()


@task(queue_name="quick")
def rollup_catch_up() -> int:
    """Count the residents imports inserted since the last catch-up (while they go on)."""
    return rollups.rollup_catch_up()
