"""Importing a resident list (danh sách dân cư) from CSV or XLSX.

Guarantees: valid rows are never lost because of invalid ones; each chunk of rows is one
transaction, so a run killed midway and run again ends in the state of one clean run;
re-importing the same file changes nothing; memory does not grow with the file.
"""

import datetime as dt
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from gocua.geo.models import AdminUnit, Level
from gocua.geo.services import hamlet_get_or_create
from gocua.imports.common import (
    ImportSummary,
    Rejects,
    RowError,
    SeenSet,
    bulk_insert,
    check_utf8,
    db_datetime,
    parse_level,
    parse_stage,
)
from gocua.imports.models import ImportJob
from gocua.imports.readers import Table, open_table, text_of
from gocua.lib import nid as nid_lib
from gocua.lib import phone as phone_lib
from gocua.lib.dates import DateError, parse_birth
from gocua.lib.text import key, nfc
from gocua.people.models import Household, Resident, StageEvent

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000
SEX_WORDS = {"nam": "M", "male": "M", "m": "M", "nu": "F", "female": "F", "f": "F"}


@dataclass(slots=True, eq=False)
class Citizen:
    line: int
    national_id: str
    full_name: str
    birth_date: dt.date
    birth_year_only: bool
    sex: str
    phone: str
    unit_code: str
    hamlet: str
    household_code: str
    address: str
    eid_stage: str | None
    eid_level: int | None
    cells: list

    def digest(self) -> int:
        text = "|".join(
            map(
                str,
                (self.full_name, self.birth_date, self.birth_year_only, self.sex, self.phone,
                 self.unit_code, key(self.hamlet), self.household_code, self.address,
                 self.eid_stage, self.eid_level),
            )
        )
        data = text.encode()
        # 63 bits, so it fits a signed SQLite INTEGER.
        return zlib.crc32(data) << 31 ^ zlib.adler32(data)


def parse_citizen(
    line: int, cells: list, columns: dict[str, int], today: dt.date, warn: Callable[[str], None]
) -> Citizen | None:
    """One row → a Citizen, or None for a row to skip silently. Raises RowError."""

    def cell(field: str) -> object:
        index = columns.get(field)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        return value.strip() if isinstance(value, str) else value

    raw_nid, raw_name = cell("national_id"), cell("full_name")
    if raw_nid in (None, "") and (
        raw_name in (None, "") or cell("birth_date") in (None, "") and not cell("unit_code")
    ):
        # A blank line, or the signature block under the table ("Người lập biểu", a title).
        return None
    check_utf8(cells)
    if raw_name in (None, ""):
        raise RowError("full_name", "missing")
    name = nfc(str(raw_name))
    if any(ch.isdigit() for ch in name):
        raise RowError("full_name", "contains digits")
    try:
        national_id = nid_lib.normalize(raw_nid)
    except nid_lib.NationalIdError as exc:
        raise RowError("national_id", str(exc)) from None

    raw_sex = cell("sex")
    sex = SEX_WORDS.get(key(str(raw_sex))) if raw_sex not in (None, "") else None
    if sex is None:
        raise RowError("sex", f"{raw_sex!r} is not Nam/Nữ, male/female or M/F" if raw_sex else "missing")
    try:
        birth = parse_birth(cell("birth_date"), today)
    except DateError as exc:
        raise RowError("birth_date", str(exc)) from None
    if birth is None:
        raise RowError("birth_date", "missing")
    born, year_only = birth
    try:
        nid_lib.check_against(national_id, birth_year=born.year, sex=sex)
    except nid_lib.NationalIdError as exc:
        raise RowError("national_id", str(exc)) from None

    phone = ""
    raw_phone = cell("phone")
    try:
        phone = phone_lib.normalize(raw_phone)
    except phone_lib.PhoneError as exc:
        warn(f"phone {phone_lib.mask(text_of(raw_phone))} {exc}; phone dropped")

    unit_code = text_of(cell("unit_code"))
    if not unit_code:
        raise RowError("unit_code", "missing")
    return Citizen(
        line=line,
        national_id=national_id,
        full_name=name,
        birth_date=born,
        birth_year_only=year_only,
        sex=sex,
        phone=phone,
        unit_code=unit_code,
        hamlet=nfc(text_of(cell("hamlet"))),
        household_code=text_of(cell("household_id")),
        address=nfc(text_of(cell("address"))),
        eid_stage=parse_stage(cell("eid_stage")),
        eid_level=parse_level(cell("eid_level")),
        cells=cells,
    )


class CitizenImport:
    """One run over one file. Use `citizens_import()`; this class only holds the run's state."""

    def __init__(self, *, table: Table, job: ImportJob, edition: int, dry_run: bool,
                 rejects: Rejects, scope_paths: list[str] | None,
                 on_warning: Callable[[str], None], on_progress: Callable[[int], None]) -> None:
        self.table, self.job, self.edition, self.dry_run = table, job, edition, dry_run
        self.rejects, self.scope_paths = rejects, scope_paths
        self.on_warning, self.on_progress = on_warning, on_progress
        self.summary = ImportSummary()
        self.seen = SeenSet()
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.communes = {
            u.code: u for u in AdminUnit.objects.filter(edition=edition, level=Level.COMMUNE)
        }
        self.other_levels = dict(
            AdminUnit.objects.filter(edition=edition)
            .exclude(level=Level.COMMUNE)
            .values_list("code", "level")
        )
        self.hamlets: dict[tuple[int, str], AdminUnit] = {}
        self.units_by_id: dict[int, AdminUnit] = {u.id: u for u in self.communes.values()}

    # -- reading -----------------------------------------------------------------------------
    def run(self) -> ImportSummary:
        chunk: list[Citizen] = []
        columns = self.table.columns
        for line, cells in self.table.rows:
            line_warnings: list[str] = []
            try:
                citizen = parse_citizen(line, cells, columns, self.today, line_warnings.append)
            except RowError as exc:
                self.summary.rows += 1
                self.reject(line, exc.field, exc.reason, cells)
                continue
            if citizen is None:
                continue
            self.summary.rows += 1
            for text in line_warnings:
                self.warn(line, citizen.national_id, text)
            chunk.append(citizen)
            if len(chunk) >= CHUNK_ROWS:
                self.write_chunk(chunk)
                chunk = []
        if chunk:
            self.write_chunk(chunk)
        self.seen.close()
        return self.summary

    def reject(self, line: int, field: str, reason: str, cells: list) -> None:
        self.summary.rejected += 1
        self.rejects.add(line, field, reason, cells)

    def warn(self, line: int, national_id: str, text: str) -> None:
        self.summary.warnings += 1
        self.on_warning(f"line {line}: {nid_lib.mask(national_id)}: {text}")

    # -- writing ----------------------------------------------------------------------------
    def write_chunk(self, chunk: list[Citizen]) -> None:
        with transaction.atomic():
            self._write_chunk(chunk)
            self._save_progress()
            if self.dry_run:
                transaction.set_rollback(True)
        if self.dry_run:
            self.hamlets.clear()  # their rows were rolled back
        self.on_progress(self.summary.rows)

    def _save_progress(self) -> None:
        s = self.summary
        for name in ("rows", "inserted", "updated", "unchanged", "rejected", "warnings"):
            setattr(self.job, name, getattr(s, name))
        self.job.save(update_fields=["rows", "inserted", "updated", "unchanged", "rejected",
                                     "warnings"])

    def _resolve_unit(self, citizen: Citizen) -> AdminUnit:
        commune = self.communes.get(citizen.unit_code)
        if commune is None:
            level = self.other_levels.get(citizen.unit_code)
            if level:
                raise RowError("unit_code", f"{citizen.unit_code} is a {level}; give the commune code (Mã xã)")
            raise RowError("unit_code", f"no commune with code {citizen.unit_code} in the {self.edition} edition")
        if self.scope_paths is not None and not commune.path.startswith(tuple(self.scope_paths)):
            raise RowError("unit_code", f"commune {citizen.unit_code} is outside your jurisdiction")
        if not citizen.hamlet:
            return commune
        cache_key = (commune.id, key(citizen.hamlet))
        hamlet = self.hamlets.get(cache_key)
        if hamlet is None:
            hamlet = hamlet_get_or_create(commune=commune, name=citizen.hamlet)
            self.hamlets[cache_key] = hamlet
            self.units_by_id[hamlet.id] = hamlet
        return hamlet

    def _write_chunk(self, chunk: list[Citizen]) -> None:
        # 1. Units (and the scope check) first: a rejected row must not count as "seen".
        placed: list[tuple[Citizen, AdminUnit]] = []
        for citizen in chunk:
            try:
                placed.append((citizen, self._resolve_unit(citizen)))
            except RowError as exc:
                self.reject(citizen.line, exc.field, exc.reason, citizen.cells)

        # 2. The same national ID earlier in the file: identical is unchanged, else a conflict.
        firsts: dict[str, tuple[Citizen, AdminUnit]] = {}
        digests: dict[str, tuple[int, int]] = {}
        earlier = self.seen.lookup([c.national_id for c, _ in placed])
        for citizen, unit in placed:
            digest = citizen.digest()
            prior = earlier.get(citizen.national_id) or digests.get(citizen.national_id)
            if prior is None:
                digests[citizen.national_id] = (digest, citizen.line)
                firsts[citizen.national_id] = (citizen, unit)
            elif prior[0] == digest:
                self.summary.unchanged += 1
            else:
                self.reject(citizen.line, "national_id",
                            f"conflict: {nid_lib.mask(citizen.national_id)} already appears on "
                            f"line {prior[1]} with different data (the first row wins)",
                            citizen.cells)
        self.seen.add([(n, d, ln) for n, (d, ln) in digests.items()])
        if not firsts:
            return

        households = self._households(list(firsts.values()))
        existing = {
            r.national_id: r
            for r in Resident.objects.filter(national_id__in=list(firsts))
            .select_related("unit")
            .only(*MERGED_FIELDS, "national_id", "unit__parent_id", "unit__level")
        }
        new_rows: list[tuple] = []
        new_stage: list[tuple[str, str, int]] = []
        changed: list[Resident] = []
        events: list[StageEvent] = []
        stamp = db_datetime(self.now)
        for national_id, (citizen, unit) in firsts.items():
            household_id = households.get(citizen)
            resident = existing.get(national_id)
            if resident is None:
                stage = citizen.eid_stage or "none"
                level = citizen.eid_level if citizen.eid_level is not None else (2 if stage != "none" else 0)
                new_rows.append((
                    national_id, citizen.full_name, citizen.birth_date, citizen.birth_year_only,
                    citizen.sex, citizen.phone, unit.id, household_id, unit.province_code,
                    _is_elderly(citizen.birth_date, self.today), False, False, False, False,
                    False, False, stage, level, stamp if stage != "none" else None, None, stamp,
                ))
                if stage != "none" or level:
                    new_stage.append((national_id, stage, level))
                continue
            if self._merge(resident, citizen, unit, household_id, events):
                changed.append(resident)
            else:
                self.summary.unchanged += 1
        bulk_insert(Resident._meta.db_table, RESIDENT_COLUMNS, new_rows)
        self.summary.inserted += len(new_rows)
        if changed:
            Resident.objects.bulk_update(changed, MERGED_FIELDS, batch_size=500)
            self.summary.updated += len(changed)
        if new_stage:
            ids = dict(Resident.objects.filter(national_id__in=[n for n, _, _ in new_stage])
                       .values_list("national_id", "id"))
            events += [
                StageEvent(resident_id=ids[n], from_stage="none", to_stage=s, from_level=0,
                           to_level=lv, at=self.now, source=StageEvent.Source.IMPORT,
                           import_job=self.job)
                for n, s, lv in new_stage
            ]
        StageEvent.objects.bulk_create(events, batch_size=1000)

    def _merge(self, resident: Resident, citizen: Citizen, unit: AdminUnit,
               household_id: int | None, events: list[StageEvent]) -> bool:
        """Apply the row to a stored resident. Empty cells never erase what is stored."""
        before = _state(resident)
        resident.full_name = citizen.full_name
        resident.birth_date = citizen.birth_date
        resident.birth_year_only = citizen.birth_year_only
        resident.sex = citizen.sex
        if citizen.phone:
            resident.phone = citizen.phone
        if household_id is not None:
            resident.household_id = household_id
        # A row that names only the commune keeps the hamlet already known inside it.
        if not (unit.level == Level.COMMUNE and resident.unit.parent_id == unit.id):
            resident.unit_id = unit.id
            resident.province_code = unit.province_code
        resident.elderly = _is_elderly(citizen.birth_date, self.today)
        stage = citizen.eid_stage
        level = citizen.eid_level
        if (stage and stage != resident.eid_stage) or (level is not None and level != resident.eid_level):
            events.append(StageEvent(
                resident=resident, from_stage=resident.eid_stage, to_stage=stage or resident.eid_stage,
                from_level=resident.eid_level,
                to_level=level if level is not None else resident.eid_level,
                at=self.now, source=StageEvent.Source.IMPORT, import_job=self.job,
            ))
            resident.eid_stage = stage or resident.eid_stage
            resident.eid_level = level if level is not None else resident.eid_level
            resident.stage_at = self.now
        return before != _state(resident)

    def _households(self, rows: list[tuple[Citizen, AdminUnit]]) -> dict[Citizen, int | None]:
        """Households by Mã hộ, or by (hamlet, address) when the file has no code."""
        by_code: dict[str, int] = {}
        codes = {c.household_code: (c, u) for c, u in rows if c.household_code}
        if codes:
            by_code = dict(Household.objects.filter(code__in=list(codes)).values_list("code", "id"))
            missing = [
                Household(unit=u, code=code, address=c.address, province_code=u.province_code)
                for code, (c, u) in codes.items() if code not in by_code
            ]
            if missing and not self.dry_run:
                Household.objects.bulk_create(missing)
                by_code.update({h.code: h.id for h in missing})
        by_address: dict[tuple[int, str], int] = {}
        addressed = {(u.id, c.address): (c, u) for c, u in rows if not c.household_code and c.address}
        if addressed:
            for h_id, unit_id, address in Household.objects.filter(
                code="", unit_id__in={k[0] for k in addressed},
                address__in={k[1] for k in addressed},
            ).values_list("id", "unit_id", "address"):
                by_address[(unit_id, address)] = h_id
            missing = [
                Household(unit=u, code="", address=address, province_code=u.province_code)
                for (unit_id, address), (_c, u) in addressed.items()
                if (unit_id, address) not in by_address
            ]
            if missing and not self.dry_run:
                Household.objects.bulk_create(missing)
                by_address.update({(h.unit_id, h.address): h.id for h in missing})
        result: dict[Citizen, int | None] = {}
        for citizen, unit in rows:
            if citizen.household_code:
                result[citizen] = by_code.get(citizen.household_code)
            elif citizen.address:
                result[citizen] = by_address.get((unit.id, citizen.address))
        return result


RESIDENT_COLUMNS = [
    "national_id", "full_name", "birth_date", "birth_year_only", "sex", "phone", "unit_id",
    "household_id", "province_code", "elderly", "disabled", "no_smartphone", "away", "moved_out",
    "deceased", "needs_id_card", "eid_stage", "eid_level", "stage_at", "last_used_at", "updated_at",
]
MERGED_FIELDS = [
    "full_name", "birth_date", "birth_year_only", "sex", "phone", "unit", "household",
    "province_code", "elderly", "eid_stage", "eid_level", "stage_at",
]
ELDERLY_AGE = 60


def _state(resident: Resident) -> tuple:
    return tuple(getattr(resident, f.attname) for f in map(Resident._meta.get_field, MERGED_FIELDS))  # Law on the Elderly 2009: 60 and over


def _is_elderly(born: dt.date, today: dt.date) -> bool:
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= ELDERLY_AGE


def citizens_import(
    path: str,
    *,
    edition: int,
    dry_run: bool = False,
    rejects_path: str | None = None,
    user=None,
    scope_paths: list[str] | None = None,
    on_warning: Callable[[str], None] = lambda text: None,
    on_progress: Callable[[int], None] = lambda rows: None,
) -> tuple[ImportSummary, list[str]]:
    """Import a resident list. Raises ImportFileError when the file cannot be read at all
    (before anything is written). `scope_paths` limits rows to a user's units.
    Returns the summary and notes about the file (e.g. which sheet was read)."""
    table = open_table(path, kind="citizens")
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.CITIZENS, file_name=str(path)[-255:], user=user, edition=edition,
        sheet=table.sheet, rejects_file=rejects_path or "",
        status=ImportJob.Status.DRY_RUN if dry_run else ImportJob.Status.RUNNING,
    )
    rejects = Rejects(rejects_path, table.header)
    try:
        summary = CitizenImport(
            table=table, job=job, edition=edition, dry_run=dry_run, rejects=rejects,
            scope_paths=scope_paths, on_warning=on_warning, on_progress=on_progress,
        ).run()
    except Exception:
        job.status = ImportJob.Status.FAILED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        raise
    finally:
        rejects.close()
        table.close()
    summary.rejects_file = rejects_path
    if not dry_run:
        job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    log.info("citizens import %s: %s", job.pk, summary.as_dict())
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")
    return summary, table.notes
