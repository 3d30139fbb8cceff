"""Writes of the registry that are not the imports' fast path."""

import datetime as dt
from typing import Any

from gocua.accounts.models import User
from gocua.accounts.services import command_line_actor
from gocua.people.models import ResidentMove


def resident_moves_record(
    *,
    moves: list[tuple[int, int, int]],
    at: dt.datetime,
    by: User | None,
    source: str,
    import_job: Any = None,  # an ImportJob: gocua.imports sits above this app
) -> list[ResidentMove]:
    """Record residents who moved between communes: (resident id, from unit id, to unit id).

    The caller has already moved them and checked that its jurisdiction covers both units;
    `by=None` is the command line (the whole installation's authority). Joins the caller's
    transaction. Append-only."""
    actor = by.get_username() if by is not None else command_line_actor()
    return ResidentMove.objects.bulk_create(
        [
            ResidentMove(
                resident_id=resident_id,
                from_unit_id=from_unit,
                to_unit_id=to_unit,
                at=at,
                recorded_by=by,
                actor=actor,
                source=source,
                import_job=import_job,
            )
            for resident_id, from_unit, to_unit in moves
        ],
        batch_size=1000,
    )
