"""Importing a VNeID status extract (national_id, eid_stage, eid_level, stage_at, last_used_at).

Each applied change writes a StageEvent; a row older than the stored stage is counted as stale
and ignored; rows are applied in file order, so an extract that carries a person's history
twice ends on the latest. Same guarantees as the citizens import (chunked, idempotent, streaming).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from django.utils import timezone
from django.utils.translation import gettext as _

from gocua.accounts.models import User
from gocua.accounts.selectors import WHOLE_INSTALLATION, Jurisdiction, jurisdiction_for
from gocua.accounts.services import audit_record
from gocua.changes.outbox import residents_changed
from gocua.fieldwork.services import claims_confirm
from gocua.imports.background import in_background
from gocua.imports.chunks import ParsedChunk, parse_chunks
from gocua.imports.jobs import ImportSummary, chunk_commit, import_run
from gocua.imports.models import ImportJob
from gocua.imports.readers import open_table
from gocua.imports.rejects import Rejects
from gocua.imports.rows import RowError, parse_level, parse_stage
from gocua.lib import nid as nid_lib
from gocua.lib.dates import DateError, parse_datetime
from gocua.lib.ranges import compress
from gocua.people.funnel import eid_level_for
from gocua.people.models import Resident, StageEvent

CHUNK_ROWS = 5000


@dataclass(slots=True, eq=False)
class StageRow:
    line: int
    national_id: str
    eid_stage: str
    eid_level: int | None
    stage_at: dt.datetime
    last_used_at: dt.datetime | None
    cells: list


def parse_stage_row(
    line: int, cells: list, columns: dict[str, int], now: dt.datetime, tz: dt.tzinfo
) -> StageRow | None:
    def cell(field: str) -> object:
        index = columns.get(field)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        return value.strip() if isinstance(value, str) else value

    raw_nid = cell("national_id")
    if raw_nid in (None, "") and cell("full_name") in (None, ""):
        return None
    try:
        national_id = nid_lib.normalize(raw_nid)
    except nid_lib.NationalIdError as exc:
        raise RowError("national_id", str(exc)) from None
    stage = parse_stage(cell("eid_stage"))
    if stage is None:
        raise RowError("eid_stage", _("bị trống"))
    level = parse_level(cell("eid_level"))
    try:
        stage_at = parse_datetime(cell("stage_at"), tz)
    except DateError as exc:
        raise RowError("stage_at", str(exc)) from None
    try:
        last_used_at = parse_datetime(cell("last_used_at"), tz)
    except DateError as exc:
        raise RowError("last_used_at", str(exc)) from None
    if stage_at is not None and stage_at > now + dt.timedelta(days=1):
        raise RowError("stage_at", _future(stage_at))
    if last_used_at is not None and last_used_at > now + dt.timedelta(days=1):
        raise RowError("last_used_at", _future(last_used_at))
    if stage == "used" and last_used_at is None:
        last_used_at = stage_at
    return StageRow(line, national_id, stage, level, stage_at or now, last_used_at, cells)


def _future(moment: dt.datetime) -> str:
    return _("%(moment)s là thời điểm trong tương lai") % {"moment": f"{moment:%d/%m/%Y %H:%M}"}


def stages_import(
    path: str,
    *,
    dry_run: bool = False,
    rejects_path: str | None = None,
    user: User | None = None,
    request=None,
    file_name: str | None = None,
    job: ImportJob | None = None,
    on_warning: Callable[[str], None] = lambda text: None,
    on_progress: Callable[[int], None] = lambda rows: None,
    background: bool = True,
) -> tuple[ImportSummary, list[str]]:
    """Apply a status extract for `user`, or with the whole installation's authority when
    `user` is None (the command line): a row about a person outside the user's jurisdiction
    is rejected with the words used for an unknown ID. Audited: one entry for the run, one
    per chunk naming the residents it changed. Raises ImportFileError before writing if the
    file is unreadable. Returns the summary and notes about the file."""
    table = open_table(path, kind="stages")
    jurisdiction = jurisdiction_for(user) if user is not None else WHOLE_INSTALLATION
    now = timezone.now()
    tz = timezone.get_current_timezone()

    def parse(line: int, cells: list, warn: Callable[[str], None]) -> StageRow | None:
        return parse_stage_row(line, cells, table.columns, now, tz)

    def body(job: ImportJob, rejects: Rejects, summary: ImportSummary) -> ImportSummary:
        chunks = parse_chunks(table.rows, parse, CHUNK_ROWS, table.position)
        if background:  # a threaded web worker must not fork (see citizens_import)
            chunks = in_background(chunks)
        run = _Run(job, rejects, summary, jurisdiction, user, dry_run)
        for parsed in chunks:
            if parsed.last_line <= job.resume_line:  # committed by an earlier run of this job
                continue
            run.chunk_apply(parsed)
            on_progress(summary.rows)
        return summary

    summary = import_run(
        kind=ImportJob.Kind.STAGES,
        table=table,
        path=path,
        user=user,
        request=request,
        file_name=file_name,
        job=job,
        edition=None,
        dry_run=dry_run,
        rejects_path=rejects_path,
        body=body,
    )
    return summary, table.notes


class _Run:
    """What a status extract's chunks share while they are applied."""

    def __init__(
        self,
        job: ImportJob,
        rejects: Rejects,
        summary: ImportSummary,
        jurisdiction: Jurisdiction,
        user: User | None,
        dry_run: bool,
    ) -> None:
        self.job, self.rejects, self.summary = job, rejects, summary
        self.jurisdiction, self.user, self.dry_run = jurisdiction, user, dry_run

    def reject(self, line: int, field: str, reason: str, cells: list) -> None:
        self.summary.rejected += 1
        self.rejects.add(line, field, reason, cells)

    def chunk_apply(self, parsed: ParsedChunk) -> None:
        self.summary.rows += parsed.rows
        for rejected in parsed.rejects:
            self.reject(*rejected)

        def write() -> None:
            if not parsed.records:
                return
            changed = _apply_chunk(
                parsed.records, self.job, self.summary, self.reject, self.jurisdiction
            )
            if changed and not self.dry_run:
                audit_record(
                    user=self.user,
                    command_line=self.user is None,
                    action="import",
                    object_type="residents",
                    object_id=self.job.pk,
                    unit=self.user.unit if self.user is not None else None,
                    detail={"job": self.job.pk, "updated": compress(changed)},
                )

        chunk_commit(
            job=self.job,
            summary=self.summary,
            rejects=self.rejects,
            parsed=parsed,
            dry_run=self.dry_run,
            write=write,
        )


def _residents_named(chunk: list[StageRow]) -> dict[str, Resident]:
    """The stored residents the chunk's rows name, with what applying a row reads."""
    return {
        r.national_id: r
        for r in Resident.objects.filter(national_id__in={row.national_id for row in chunk})
        .select_related("unit")
        .only(
            "id",
            "national_id",
            "eid_stage",
            "eid_level",
            "stage_at",
            "last_used_at",
            "unit__path",
            "unit__edition",
        )
    }


def _unknown(national_id: str) -> str:
    return _(
        "%(nid)s không có trong danh sách dân cư của đơn vị bạn (hãy nhập danh sách dân cư trước)"
    ) % {"nid": nid_lib.mask(national_id)}


def _row_apply(row: StageRow, resident: Resident, job: ImportJob, events: list[StageEvent]) -> bool:
    """Apply a row no older than what is stored to its resident (adding the stage event to
    `events`); False when it changes nothing."""
    level = eid_level_for(row.eid_stage, row.eid_level, resident.eid_level)
    stage_changed = (row.eid_stage, level) != (resident.eid_stage, resident.eid_level)
    newer_use = row.last_used_at is not None and (
        resident.last_used_at is None or row.last_used_at > resident.last_used_at
    )
    if not stage_changed and not newer_use and row.stage_at == resident.stage_at:
        return False
    if stage_changed:
        events.append(
            StageEvent(
                resident_id=resident.id,
                from_stage=resident.eid_stage,
                to_stage=row.eid_stage,
                from_level=resident.eid_level,
                to_level=level,
                at=row.stage_at,
                source=StageEvent.Source.EXTRACT,
                import_job=job,
            )
        )
        resident.eid_stage, resident.eid_level = row.eid_stage, level
        resident.stage_at = row.stage_at
    elif resident.stage_at is None or row.stage_at > resident.stage_at:
        resident.stage_at = row.stage_at
    if newer_use:
        resident.last_used_at = row.last_used_at
    return True


def _apply_chunk(
    chunk: list[StageRow],
    job: ImportJob,
    summary: ImportSummary,
    reject: Callable,
    jurisdiction: Jurisdiction,
) -> list[int]:
    """Apply a chunk's rows; returns the ids of the residents it changed."""
    residents = _residents_named(chunk)
    touched: dict[int, Resident] = {}
    events: list[StageEvent] = []
    for row in chunk:
        resident = residents.get(row.national_id)
        if resident is None or not jurisdiction.covers(resident.unit.edition, resident.unit.path):
            # The same words for "unknown" and "not yours": a rejects file must not reveal
            # that an ID exists in another jurisdiction.
            reject(row.line, "national_id", _unknown(row.national_id), row.cells)
            continue
        if resident.stage_at is not None and row.stage_at < resident.stage_at:
            summary.stale += 1  # type: ignore[operator]  # a stage import's summary counts them
            continue
        if _row_apply(row, resident, job, events):
            touched[resident.id] = resident
            summary.updated += 1
        else:
            summary.unchanged += 1
    if touched:
        Resident.objects.bulk_update(
            list(touched.values()),
            ["eid_stage", "eid_level", "stage_at", "last_used_at"],
            batch_size=500,
        )
        StageEvent.objects.bulk_create(events, batch_size=1000)
        # _row_apply gave each touched resident the row's stage date
        claims_confirm(
            stages={r.id: (r.eid_stage, cast(dt.datetime, r.stage_at)) for r in touched.values()}
        )
        # Rollups (reports, issue 6): only a changed stage changes the counts.
        residents_changed([event.resident_id for event in events])
    return list(touched)
