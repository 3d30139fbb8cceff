"""Importing a resident list (danh sách dân cư) from CSV or XLSX.

Guarantees: valid rows are never lost because of invalid ones; each chunk of rows is one
transaction, so a run killed midway and run again ends in the state of one clean run;
re-importing the same file changes nothing; memory does not grow with the file.
"""

import datetime as dt
import re
from collections.abc import Callable
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from gocua.geo.models import AdminUnit, Level
from gocua.geo.services import hamlets_ensure
from gocua.imports.common import (
    ImportSummary,
    Rejects,
    RowError,
    SeenSet,
    check_utf8,
    collector_paused,
    decode_chunk_as,
    encode_chunk,
    import_run,
    in_background,
    join_cells,
    parse_chunks,
    parse_level,
    parse_stage,
    picker,
    save_progress,
    split_cells,
)
from gocua.imports.models import ImportJob
from gocua.imports.readers import Table, open_table, text_of
from gocua.lib import nid as nid_lib
from gocua.lib import phone as phone_lib
from gocua.lib.bulk import bulk_insert, db_datetime, select_in
from gocua.lib.dates import DateError, parse_birth
from gocua.lib.text import key, nfc
from gocua.people.models import Household, Resident, StageEvent
from gocua.reports.rollups import rollup_residents_changed

CHUNK_ROWS = 5000
SEX_WORDS = {"nam": "M", "male": "M", "m": "M", "nu": "F", "female": "F", "f": "F"}


class Citizen(NamedTuple):
    """A parsed row, made only of str/int/bool/None (dates as ISO text, cells as one string)
    so that chunks cross the process boundary with `marshal`, several times faster than
    pickle, and bind to SQLite without per-value adapters."""

    line: int
    national_id: str
    full_name: str
    birth_date: str  # ISO yyyy-mm-dd
    birth_year_only: bool
    sex: str
    phone: str
    unit_code: str
    hamlet: str
    household_code: str
    address: str
    eid_stage: str | None
    eid_level: int | None
    elderly: bool
    cells: str  # the original cells joined by CELL_SEPARATOR, for the rejects file

    def digest(self) -> int:
        """Equal rows give equal digests within one run (Python's hash is per process, and
        the seen-set lives only as long as the run)."""
        return hash(
            (
                self.full_name,
                self.birth_date,
                self.birth_year_only,
                self.sex,
                self.phone,
                self.unit_code,
                key(self.hamlet),
                self.household_code,
                self.address,
                self.eid_stage,
                self.eid_level,
            )
        )


_DIGIT = re.compile(r"\d")


def _text(value: object) -> str:
    return value if value.__class__ is str else text_of(value)


CITIZEN_FIELDS = (
    "national_id",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "unit_code",
    "hamlet",
    "household_id",
    "address",
    "eid_stage",
    "eid_level",
)


def parse_citizen(
    line: int, values: list, cells: list, today: dt.date, warn: Callable[[str], None]
) -> Citizen | None:
    """One row → a Citizen, or None for a row to skip silently. Raises RowError.

    `values` are the row's cells picked in CITIZEN_FIELDS order (see imports.common.picker)."""
    (
        raw_nid,
        raw_name,
        raw_birth,
        raw_sex,
        raw_phone,
        raw_unit,
        raw_hamlet,
        raw_household,
        raw_address,
        raw_stage,
        raw_level,
    ) = values
    if raw_nid in (None, "") and (
        raw_name in (None, "") or raw_birth in (None, "") and not raw_unit
    ):
        # A blank line, or the signature block under the table ("Người lập biểu", a title).
        return None
    check_utf8(raw_name, raw_hamlet, raw_address)
    if raw_name in (None, ""):
        raise RowError("full_name", "missing")
    name = nfc(str(raw_name))
    if _DIGIT.search(name):
        raise RowError("full_name", "contains digits")
    try:
        national_id = nid_lib.normalize(raw_nid)
    except nid_lib.NationalIdError as exc:
        raise RowError("national_id", str(exc)) from None

    sex = SEX_WORDS.get(key(str(raw_sex))) if raw_sex not in (None, "") else None
    if sex is None:
        raise RowError(
            "sex", f"{raw_sex!r} is not Nam/Nữ, male/female or M/F" if raw_sex else "missing"
        )
    try:
        birth = parse_birth(raw_birth, today)
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
    try:
        phone = phone_lib.normalize(raw_phone)
    except phone_lib.PhoneError as exc:
        warn(f"phone {phone_lib.mask(text_of(raw_phone))} {exc}; phone dropped")

    unit_code = _text(raw_unit)
    if not unit_code:
        raise RowError("unit_code", "missing")
    return Citizen(
        line=line,
        national_id=national_id,
        full_name=name,
        birth_date=born.isoformat(),
        birth_year_only=year_only,
        sex=sex,
        phone=phone,
        unit_code=unit_code,
        hamlet=nfc(_text(raw_hamlet)),
        household_code=_text(raw_household),
        address=nfc(_text(raw_address)),
        eid_stage=parse_stage(raw_stage),
        eid_level=parse_level(raw_level),
        elderly=_is_elderly(born, today),
        cells=join_cells(cells),
    )


class CitizenImport:
    """One run over one file. Use `citizens_import()`; this class only holds the run's state."""

    def __init__(
        self,
        *,
        table: Table,
        job: ImportJob,
        edition: int,
        dry_run: bool,
        rejects: Rejects,
        scope_paths: list[str] | None,
        on_warning: Callable[[str], None],
        on_progress: Callable[[int], None],
        background: bool = True,
    ) -> None:
        self.table, self.job, self.edition, self.dry_run = table, job, edition, dry_run
        self.rejects, self.scope_paths = rejects, scope_paths
        self.on_warning, self.on_progress = on_warning, on_progress
        self.background = background
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
        self.hamlets: dict[tuple[int, str], AdminUnit] = {
            (h.parent_id, h.name_key): h
            for h in AdminUnit.objects.filter(edition=edition, level=Level.HAMLET)
        }

    # -- reading -----------------------------------------------------------------------------
    def run(self) -> ImportSummary:
        pick = picker(self.table.columns, CITIZEN_FIELDS)
        today = self.today

        def parse(line: int, cells: list, warn: Callable[[str], None]) -> Citizen | None:
            return parse_citizen(line, pick(cells), cells, today, warn)

        with collector_paused():
            try:
                chunks = parse_chunks(self.table.rows, parse, CHUNK_ROWS)
                if self.background:
                    chunks = in_background(chunks, encode=encode_chunk, decode=_decode)
                for parsed in chunks:
                    self.summary.rows += parsed.rows
                    for line, field, reason, cells in parsed.rejects:
                        self.reject(line, field, reason, cells)
                    for line, national_id, text in parsed.warnings:
                        self.warn(line, national_id, text)
                    if parsed.records:
                        self.write_chunk(parsed.records)
                    else:
                        self.rejects.flush()
                        self.on_progress(self.summary.rows)
            finally:
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
            save_progress(self.job, self.summary)
            if self.dry_run:
                transaction.set_rollback(True)
        self.rejects.flush()
        self.on_progress(self.summary.rows)

    def _commune(self, citizen: Citizen) -> AdminUnit:
        commune = self.communes.get(citizen.unit_code)
        if commune is None:
            level = self.other_levels.get(citizen.unit_code)
            if level:
                raise RowError(
                    "unit_code", f"{citizen.unit_code} is a {level}; give the commune code (Mã xã)"
                )
            raise RowError(
                "unit_code",
                f"no commune with code {citizen.unit_code} in the {self.edition} edition",
            )
        if self.scope_paths is not None and not commune.path.startswith(tuple(self.scope_paths)):
            raise RowError("unit_code", f"commune {citizen.unit_code} is outside your jurisdiction")
        return commune

    def _place(self, chunk: list[Citizen]) -> list[tuple[Citizen, AdminUnit]]:
        """Each row's unit: its hamlet (created when new) or its commune; rejects bad codes."""
        with_commune: list[tuple[Citizen, AdminUnit]] = []
        for citizen in chunk:
            try:
                with_commune.append((citizen, self._commune(citizen)))
            except RowError as exc:
                self.reject(citizen.line, exc.field, exc.reason, split_cells(citizen.cells))
        missing = {}
        for citizen, commune in with_commune:
            if citizen.hamlet:
                cache_key = (commune.id, key(citizen.hamlet))
                if cache_key not in self.hamlets:
                    missing.setdefault(cache_key, (commune, citizen.hamlet))
        if missing:
            self._hamlets_create(list(missing.values()))
        return [
            (c, self.hamlets[(u.id, key(c.hamlet))] if c.hamlet else u) for c, u in with_commune
        ]

    def _hamlets_create(self, wanted: list[tuple[AdminUnit, str]]) -> None:
        if not self.dry_run:
            self.hamlets.update(hamlets_ensure(wanted))
            return
        for commune, name in wanted:
            # Nothing is written in a dry run: an unsaved stand-in takes the new hamlet's place.
            self.hamlets[(commune.id, key(name))] = AdminUnit(
                edition=commune.edition,
                level=Level.HAMLET,
                parent=commune,
                name=name,
                name_key=key(name),
                path=f"{commune.path}?/",
                province_code=commune.province_code,
            )

    def _write_chunk(self, chunk: list[Citizen]) -> None:
        # 1. Units (and the scope check) first: a rejected row must not count as "seen".
        placed = self._place(chunk)

        # 2. The same national ID earlier in the file: identical is unchanged, else a conflict.
        # Only a stored ID can have been met earlier in the file (an earlier valid row was
        # written), so a first import asks the seen-set nothing; a dry run writes nothing.
        existing = {row[0]: row for row in _stored_residents([c.national_id for c, _ in placed])}
        firsts: dict[str, tuple[Citizen, AdminUnit]] = {}
        digests: dict[str, tuple[int, int]] = {}
        earlier = self.seen.lookup(
            [c.national_id for c, _ in placed if self.dry_run or c.national_id in existing]
        )
        for citizen, unit in placed:
            digest = citizen.digest()
            prior = earlier.get(citizen.national_id) or digests.get(citizen.national_id)
            if prior is None:
                digests[citizen.national_id] = (digest, citizen.line)
                firsts[citizen.national_id] = (citizen, unit)
            elif prior[0] == digest:
                self.summary.unchanged += 1
            else:
                self.reject(
                    citizen.line,
                    "national_id",
                    f"conflict: {nid_lib.mask(citizen.national_id)} already appears on "
                    f"line {prior[1]} with different data (the first row wins)",
                    split_cells(citizen.cells),
                )
        self.seen.add([(n, d, ln) for n, (d, ln) in digests.items()])
        if not firsts:
            return

        rows = list(firsts.values())
        households = self._households(rows)
        new_rows: list[tuple] = []
        new_stage: list[tuple[str, str, int]] = []
        changed: list[Resident] = []
        restaged: list[Resident] = []
        events: list[StageEvent] = []
        stamp = db_datetime(self.now)
        for (citizen, unit), household_id in zip(rows, households, strict=True):
            national_id = citizen.national_id
            stored = existing.get(national_id)
            if stored is None:
                stage = citizen.eid_stage or "none"
                level = (
                    citizen.eid_level
                    if citizen.eid_level is not None
                    else (2 if stage != "none" else 0)
                )
                new_rows.append(
                    (
                        national_id,
                        citizen.full_name,
                        citizen.birth_date,
                        citizen.birth_year_only,
                        citizen.sex,
                        citizen.phone,
                        unit.id,
                        household_id,
                        unit.province_code,
                        citizen.elderly,
                        stage,
                        level,
                        stamp if stage != "none" else None,
                        stamp,
                    )
                )
                if stage != "none" or level:
                    new_stage.append((national_id, stage, level))
                continue
            resident = self._merge(stored, citizen, unit, household_id, events)
            if resident is None:
                self.summary.unchanged += 1
            elif resident.stage_at is not None:
                restaged.append(resident)
            else:
                changed.append(resident)
        self.summary.inserted += len(new_rows)
        self.summary.updated += len(changed) + len(restaged)
        if self.dry_run:
            return
        bulk_insert(Resident._meta.db_table, RESIDENT_COLUMNS, new_rows)
        if changed:
            Resident.objects.bulk_update(changed, STORED_FIELDS, batch_size=500)
        if restaged:
            Resident.objects.bulk_update(restaged, [*STORED_FIELDS, "stage_at"], batch_size=500)
        if new_stage:
            ids = dict(
                Resident.objects.filter(national_id__in=[n for n, _, _ in new_stage]).values_list(
                    "national_id", "id"
                )
            )
            events += [
                StageEvent(
                    resident_id=ids[n],
                    from_stage="none",
                    to_stage=s,
                    from_level=0,
                    to_level=lv,
                    at=self.now,
                    source=StageEvent.Source.IMPORT,
                    import_job=self.job,
                )
                for n, s, lv in new_stage
            ]
        StageEvent.objects.bulk_create(events, batch_size=1000)
        # Rollups (reports, issue 6): new residents, moves and stage changes of this chunk; the
        # rollups diff each resident against what they counted before, so no deltas here.
        rollup_residents_changed(
            national_ids=[row[0] for row in new_rows],
            resident_ids=[r.pk for r in (*changed, *restaged)],
        )

    def _merge(
        self,
        stored: tuple,
        citizen: Citizen,
        unit: AdminUnit,
        household_id: int | None,
        events: list[StageEvent],
    ) -> Resident | None:
        """The stored resident with the row applied (stage_at set when the stage changed), or
        None when nothing changes. Empty cells never erase what is stored."""
        _nid, resident_id, *values, stored_unit_parent = stored
        old = dict(zip(STORED_FIELDS, values, strict=True))
        new = dict(old)
        new.update(
            full_name=citizen.full_name,
            birth_date=citizen.birth_date,
            birth_year_only=citizen.birth_year_only,
            sex=citizen.sex,
            elderly=citizen.elderly,
        )
        if citizen.phone:
            new["phone"] = citizen.phone
        if household_id is not None:
            new["household_id"] = household_id
        # A row that names only the commune keeps the hamlet already known inside it.
        if not (unit.level == Level.COMMUNE and stored_unit_parent == unit.id):
            new["unit_id"] = unit.id
            new["province_code"] = unit.province_code
        stage = citizen.eid_stage or old["eid_stage"]
        level = citizen.eid_level if citizen.eid_level is not None else old["eid_level"]
        if (stage, level) != (old["eid_stage"], old["eid_level"]):
            events.append(
                StageEvent(
                    resident_id=resident_id,
                    from_stage=old["eid_stage"],
                    to_stage=stage,
                    from_level=old["eid_level"],
                    to_level=level,
                    at=self.now,
                    source=StageEvent.Source.IMPORT,
                    import_job=self.job,
                )
            )
            new.update(eid_stage=stage, eid_level=level)
        if new == old:
            return None
        resident = Resident(id=resident_id, **new)
        resident.birth_date = dt.date.fromisoformat(citizen.birth_date)
        if (stage, level) != (old["eid_stage"], old["eid_level"]):
            resident.stage_at = self.now
        return resident

    def _households(self, rows: list[tuple[Citizen, AdminUnit]]) -> list[int | None]:
        """Each row's household id: by Mã hộ, or by (hamlet, address) when the file has no
        code; None when the row names neither (or, in a dry run, for a new household)."""
        by_code: dict[str, int] = {}
        codes = {c.household_code: (c, u) for c, u in rows if c.household_code}
        if codes:
            by_code = dict(
                select_in(
                    f"SELECT code, id FROM {HOUSEHOLDS} WHERE code <> '' AND code {{in_}}",
                    list(codes),
                )
            )
            missing = [
                (u.id, code, c.address, u.province_code)
                for code, (c, u) in codes.items()
                if code not in by_code
            ]
            if missing and not self.dry_run:
                _households_insert(missing)
                by_code.update(
                    select_in(
                        f"SELECT code, id FROM {HOUSEHOLDS} WHERE code <> '' AND code {{in_}}",
                        [h[1] for h in missing],
                    )
                )
        by_address: dict[tuple[int, str], int] = {}
        addressed = {
            (u.id, c.address): (c, u) for c, u in rows if not c.household_code and c.address
        }
        if addressed:
            by_address = _households_by_address({k[1] for k in addressed})
            missing = [
                (unit_id, "", address, u.province_code)
                for (unit_id, address), (_c, u) in addressed.items()
                if (unit_id, address) not in by_address
            ]
            if missing and not self.dry_run:
                _households_insert(missing)
                by_address.update(_households_by_address({h[2] for h in missing}))
        return [
            by_code.get(c.household_code)
            if c.household_code
            else by_address.get((u.id, c.address))
            if c.address
            else None
            for c, u in rows
        ]


RESIDENT_COLUMNS = [  # the other flags and last_used_at take their database defaults
    "national_id",
    "full_name",
    "birth_date",
    "birth_year_only",
    "sex",
    "phone",
    "unit_id",
    "household_id",
    "province_code",
    "elderly",
    "eid_stage",
    "eid_level",
    "stage_at",
    "updated_at",
]
STORED_FIELDS = [
    "full_name",
    "birth_date",
    "birth_year_only",
    "sex",
    "phone",
    "unit_id",
    "household_id",
    "province_code",
    "elderly",
    "eid_stage",
    "eid_level",
]


def _stored_residents(national_ids: list[str]) -> list[tuple]:
    """(national_id, id, *STORED_FIELDS, unit's parent id) with values as a Citizen has them
    (dates as ISO text, booleans as bool) whichever the database."""
    rows = select_in(
        f"SELECT r.national_id, r.id, {', '.join('r.' + f for f in STORED_FIELDS)}, u.parent_id "
        f"FROM {Resident._meta.db_table} r JOIN {AdminUnit._meta.db_table} u ON u.id = r.unit_id "
        "WHERE r.national_id {in_}",
        national_ids,
    )
    return [
        (
            nid,
            rid,
            name,
            str(born),
            bool(year_only),
            sex,
            phone,
            unit_id,
            household_id,
            province,
            bool(elderly),
            stage,
            level,
            parent,
        )
        for (
            nid,
            rid,
            name,
            born,
            year_only,
            sex,
            phone,
            unit_id,
            household_id,
            province,
            elderly,
            stage,
            level,
            parent,
        ) in rows
    ]


ELDERLY_AGE = 60


HOUSEHOLDS = Household._meta.db_table


def _households_by_address(addresses: set[str]) -> dict[tuple[int, str], int]:
    rows = select_in(
        f"SELECT unit_id, address, id FROM {HOUSEHOLDS} WHERE code = '' AND address {{in_}}",
        list(addresses),
    )
    return {(unit_id, address): h_id for unit_id, address, h_id in rows}


def _households_insert(rows: list[tuple[int, str, str, str]]) -> None:
    bulk_insert(Household._meta.db_table, ["unit_id", "code", "address", "province_code"], rows)


_decode = decode_chunk_as(Citizen)


def _is_elderly(born: dt.date, today: dt.date) -> bool:
    return (
        today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    ) >= ELDERLY_AGE


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
    background: bool = True,
) -> tuple[ImportSummary, list[str]]:
    """Import a resident list. Raises ImportFileError when the file cannot be read at all
    (before anything is written). `scope_paths` limits rows to a user's units.
    `background=False` parses in this process: a threaded web worker must not fork.
    Returns the summary and notes about the file (e.g. which sheet was read)."""
    table = open_table(path, kind="citizens")

    def body(job: ImportJob, rejects: Rejects) -> ImportSummary:
        return CitizenImport(
            table=table,
            job=job,
            edition=edition,
            dry_run=dry_run,
            rejects=rejects,
            scope_paths=scope_paths,
            on_warning=on_warning,
            on_progress=on_progress,
            background=background,
        ).run()

    summary = import_run(
        kind=ImportJob.Kind.CITIZENS,
        table=table,
        path=path,
        user=user,
        edition=edition,
        dry_run=dry_run,
        rejects_path=rejects_path,
        body=body,
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize")
    return summary, table.notes
