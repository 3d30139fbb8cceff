"""Importing a resident list (danh sách dân cư) from CSV or XLSX.

Guarantees: valid rows are never lost because of invalid ones; each chunk of rows is one
transaction, so a run killed midway and run again ends in the state of one clean run;
re-importing the same file changes nothing; memory does not grow with the file.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from functools import partial
from operator import itemgetter
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gocua.accounts.models import User
from gocua.accounts.selectors import WHOLE_INSTALLATION, Jurisdiction, jurisdiction_for
from gocua.accounts.services import audit_record
from gocua.changes.outbox import residents_added, residents_changed
from gocua.geo.models import AdminUnit, Level
from gocua.geo.services import hamlets_ensure
from gocua.imports.background import in_background
from gocua.imports.chunks import ParsedChunk, decode_chunk_as, encode_chunk, parse_chunks
from gocua.imports.jobs import ImportSummary, chunk_commit, import_run
from gocua.imports.models import ImportJob
from gocua.imports.readers import Table, open_table, text_of
from gocua.imports.rejects import Rejects
from gocua.imports.rows import (
    RowError,
    check_controls,
    check_length,
    check_utf8,
    parse_level,
    parse_stage,
    picker,
)
from gocua.imports.seen import SeenSet
from gocua.imports.speed import collector_paused, wal_checkpoints_spaced
from gocua.imports.staging import (
    HOUSEHOLDS,
    STORED_FIELDS,
    UNITS,
    Stored,
    copy_used,
    households_by_address,
    households_by_code,
    households_insert,
    resident_ids,
    residents_copy,
    residents_insert,
    residents_stored,
)
from gocua.lib import limits
from gocua.lib import nid as nid_lib
from gocua.lib import phone as phone_lib
from gocua.lib.bulk import (
    COPY_NULL,
    analyze,
    copy_escape,
    copy_fields,
    copy_unescape,
    db_datetime,
    references_locked,
)
from gocua.lib.dates import DateError, parse_birth
from gocua.lib.ranges import compress
from gocua.lib.text import key, nfc
from gocua.people.funnel import ELDERLY_AGE, eid_level_for
from gocua.people.models import Household, Resident, ResidentMove, StageEvent, name_search_of
from gocua.people.services import resident_moves_record
from gocua.people.walking import walk_key_for

CHUNK_ROWS = 5000
SEX_WORDS = {"nam": "M", "male": "M", "m": "M", "nu": "F", "female": "F", "f": "F"}


class Citizen(NamedTuple):
    """A parsed row, made only of str/int/bool/None and tuples of them (dates as ISO text) so
    that chunks cross the process boundary as plain tuples and bind to SQLite without
    per-value adapters.

    Only what the writing process needs: the person's own columns travel once, inside
    `resident_values`; `person()` reads them back for the rare row that updates a stored
    resident. (Sent twice, they were a third of what the parsing process serialised.)"""

    line: int
    national_id: str
    hamlet: str
    household_code: str
    address: str
    eid_stage: str | None
    eid_level: int | None
    # Worked out in the parsing process too, so that the writing process (the bottleneck) only
    # looks things up and splices:
    place: tuple[int, str | None]  # (commune id, hamlet key or None when the row has no hamlet)
    # A new resident's columns before unit_id (see RESIDENT_COLUMNS): a COPY text fragment on
    # PostgreSQL, a tuple on SQLite.
    resident_values: str | tuple

    def person(self) -> "Person":
        values = self.resident_values
        if values.__class__ is tuple:
            return Person(*values[1:7])
        # __class__ is cheaper per row than isinstance, but mypy does not narrow on it
        _nid, name, born, year_only, sex, phone, elderly, _rest = values.split("\t", 7)  # type: ignore[union-attr]
        return Person(copy_unescape(name), born, year_only == "t", sex, phone, elderly == "t")


class Person(NamedTuple):
    """A row's own columns (RESIDENT_COLUMNS 1–6), as `Citizen.person()` reads them back."""

    full_name: str
    birth_date: str  # ISO yyyy-mm-dd
    birth_year_only: bool
    sex: str
    phone: str
    elderly: bool


_citizen = partial(tuple.__new__, Citizen)  # positional, from C: NamedTuple(**kw) is slow


_DIGIT = re.compile(r"\d")


def _text(value: object) -> str:
    # Per cell: __class__ is cheaper than isinstance, but mypy does not narrow on it.
    return value if value.__class__ is str else text_of(value)  # type: ignore[return-value]


def _name(raw: object) -> str:
    if raw in (None, ""):
        raise RowError("full_name", _("bị trống"))
    name = nfc(str(raw))
    if _DIGIT.search(name):
        raise RowError("full_name", _("có chữ số"))
    check_length("full_name", name, limits.PERSON_NAME)
    return name


def _national_id(raw: object) -> str:
    try:
        return nid_lib.normalize(raw)
    except nid_lib.NationalIdError as exc:
        raise RowError("national_id", str(exc)) from None


def _sex(raw: object) -> str:
    sex = SEX_WORDS.get(key(str(raw))) if raw not in (None, "") else None
    if sex is None:
        raise RowError(
            "sex",
            _("“%(value)s” không phải Nam/Nữ, male/female hay M/F") % {"value": raw}
            if raw
            else _("bị trống"),
        )
    return sex


def _check_born(national_id: str, born_year: int, sex: str) -> None:
    """The ID's century-and-sex digit and birth year agree with the row's."""
    if national_id[3:6] != nid_lib.digits_for(born_year, sex):
        try:
            nid_lib.check_against(national_id, birth_year=born_year, sex=sex)
        except nid_lib.NationalIdError as exc:
            raise RowError("national_id", str(exc)) from None


def _phone(raw: object, warn: Callable[[str], None]) -> str:
    """The phone number, or "" with a warning when it is not one: the row is kept."""
    try:
        return phone_lib.normalize(raw)
    except phone_lib.PhoneError as exc:
        warn(
            _("số điện thoại %(phone)s: %(why)s; đã bỏ số này")
            % {"phone": phone_lib.mask(text_of(raw)), "why": exc}
        )
        return ""


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


class CitizenParser:
    """The reading half of an import: a row's cells → a Citizen ready to write, or None for a
    row to skip silently. Raises RowError.

    Runs in the forked parsing process (see in_background), so it never touches the database:
    the units it checks rows against are loaded before the fork."""

    def __init__(
        self,
        *,
        columns: dict[str, int],
        text: bool,
        today: dt.date,
        now: dt.datetime,
        edition: int,
        communes: dict[str, AdminUnit],
        other_levels: dict[str, str],
        jurisdiction: Jurisdiction,
        seen: SeenSet,
    ) -> None:
        self.pick = picker(columns, CITIZEN_FIELDS, text=text)
        self.seen = seen
        self.today, self.edition = today, edition
        self.communes, self.other_levels = communes, other_levels
        self.jurisdiction = jurisdiction
        self.stamp = db_datetime(now)
        # PostgreSQL: the resident's columns leave this process already in COPY's text format.
        self.copy = copy_used()
        self.stamp_copy = copy_fields((self.stamp,))[:-1]
        self.births: dict[object, tuple[str, bool, int, bool]] = {}
        # Hamlet names repeat on every row of a hamlet, an address on each row of a household
        # (files list a household's members together): both are normalised once.
        self.hamlets: dict[object, tuple[str, str | None]] = {}
        self.last_address: tuple[object, str] = (None, "")

    def __call__(self, line: int, cells: list, warn: Callable[[str], None]) -> Citizen | None:
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
        ) = self.pick(cells)
        if raw_nid in (None, "") and (
            raw_name in (None, "") or raw_birth in (None, "") and not raw_unit
        ):
            # A blank line, or the signature block under the table ("Người lập biểu", a title).
            return None
        check_utf8(raw_name, raw_hamlet, raw_address)
        check_controls(("full_name", raw_name), ("hamlet", raw_hamlet), ("address", raw_address))
        name = _name(raw_name)
        national_id = _national_id(raw_nid)
        sex = _sex(raw_sex)
        birth = self.births.get(raw_birth) or self._birth(raw_birth)
        _check_born(national_id, birth[2], sex)
        phone = _phone(raw_phone, warn)
        unit_code = _text(raw_unit)
        if not unit_code:
            raise RowError("unit_code", _("bị trống"))
        hamlet, hamlet_key = self.hamlets.get(raw_hamlet) or self._hamlet(raw_hamlet)
        household_code = _text(raw_household)
        address = self._address(raw_address)
        check_length("household_id", household_code, limits.HOUSEHOLD_CODE)
        check_length("address", address, limits.ADDRESS)
        check_length("hamlet", hamlet, limits.UNIT_NAME)
        eid_stage = parse_stage(raw_stage)
        eid_level = parse_level(raw_level)
        # Checked last, as when the writing process did it: the row's warnings still count.
        commune = self._commune(unit_code, national_id)
        values = self._resident_values(national_id, name, birth, sex, phone, eid_stage, eid_level)
        return _citizen(
            (
                line,
                national_id,
                hamlet,
                household_code,
                address,
                eid_stage,
                eid_level,
                (commune.id, hamlet_key),
                values,
            )
        )

    def _address(self, raw: object) -> str:
        """The address, normalised once for the rows of a household (listed together)."""
        if raw.__class__ is not str or raw != self.last_address[0]:
            self.last_address = (raw, nfc(_text(raw)))
        return self.last_address[1]

    def _resident_values(
        self,
        national_id: str,
        name: str,
        birth: tuple[str, bool, int, bool],
        sex: str,
        phone: str,
        eid_stage: str | None,
        eid_level: int | None,
    ) -> str | tuple:
        """A new resident's columns before unit_id (see Citizen.resident_values)."""
        born, year_only, _year, elderly = birth
        stage = eid_stage or "none"
        level = eid_level_for(stage, eid_level)
        if self.copy:
            # copy_fields((national_id, name, ...)) by hand, four times faster: of these columns
            # only the name can hold a character COPY escapes (the others are digits, an ISO
            # date, fixed words and the run's timestamp).
            return (
                f"{national_id}\t{copy_escape(name)}\t{born}\t{_COPY_BOOL[year_only]}\t{sex}\t"
                f"{phone}\t{_COPY_BOOL[elderly]}\t{stage}\t{level}\t"
                f"{self.stamp_copy if stage != 'none' else COPY_NULL}\t{self.stamp_copy}\t"
                f"{copy_escape(name_search_of(name))}\t"
            )
        return (
            national_id,
            name,
            born,
            year_only,
            sex,
            phone,
            elderly,
            stage,
            level,
            self.stamp if stage != "none" else None,
            self.stamp,
            name_search_of(name),
        )

    def settle_repeats(self, chunk: ParsedChunk) -> ParsedChunk:
        """Keep the first row of the file with each national ID: a later identical row counts
        as unchanged, one with other data is rejected as a conflict (the first row wins).

        Runs where the rows are parsed, on each chunk as it is complete, so chunks keep their
        rows; only the first row with an ID reaches the writer."""
        records = chunk.records
        digests = list(map(_digest, records))
        priors = self.seen.meet(
            list(zip(map(_NATIONAL_ID, records), digests, map(_LINE, records), strict=True))
        )
        if not any(priors):
            return chunk
        cells_of = chunk.cells
        chunk.records, chunk.cells = [], []
        for citizen, cells, digest, prior in zip(records, cells_of, digests, priors, strict=True):
            if prior is None:
                chunk.records.append(citizen)
                chunk.cells.append(cells)
                continue
            chunk.late += 1
            if prior[0] == digest:
                chunk.unchanged += 1
            else:
                chunk.rejects.append(
                    (
                        citizen.line,
                        "national_id",
                        _(
                            "trùng: %(nid)s đã có ở dòng %(line)s với dữ liệu khác "
                            "(giữ dòng đầu tiên)"
                        )
                        % {"nid": nid_lib.mask(citizen.national_id), "line": prior[1]},
                        cells,
                    )
                )
        return chunk

    def _hamlet(self, raw: object) -> tuple[str, str | None]:
        """(name, key or None when the row names no hamlet), remembered."""
        name = nfc(_text(raw))
        value = (name, key(name) if name else None)
        if len(self.hamlets) < HAMLETS_REMEMBERED:
            self.hamlets[raw] = value
        return value

    def _birth(self, raw: object) -> tuple[str, bool, int, bool]:
        """(ISO date, year only, year, elderly), remembered: birth dates repeat a lot."""
        try:
            birth = parse_birth(raw, self.today)
        except DateError as exc:
            raise RowError("birth_date", str(exc)) from None
        if birth is None:
            raise RowError("birth_date", _("bị trống"))
        born, year_only = birth
        value = (born.isoformat(), year_only, born.year, _is_elderly(born, self.today))
        if len(self.births) < BIRTHS_REMEMBERED:
            self.births[raw] = value
        return value

    def _commune(self, unit_code: str, national_id: str) -> AdminUnit:
        commune = self.communes.get(unit_code)
        if commune is None:
            level = self.other_levels.get(unit_code)
            if level:
                raise RowError(
                    "unit_code",
                    _("%(code)s là mã %(level)s; hãy ghi mã xã")
                    % {"code": unit_code, "level": Level(level).label.lower()},
                    national_id=national_id,
                )
            raise RowError(
                "unit_code",
                _("không có xã nào mã %(code)s trong danh mục năm %(edition)s")
                % {"code": unit_code, "edition": self.edition},
                national_id=national_id,
            )
        if not self.jurisdiction.covers(commune.edition, commune.path):
            raise RowError(
                "unit_code",
                _("xã %(code)s ngoài phạm vi quản lý của bạn") % {"code": unit_code},
                national_id=national_id,
            )
        return commune


def _digest(citizen: Citizen) -> int:
    """Equal rows give equal digests within one run (Python's hash is per process, and the
    seen-set lives only as long as the run). `resident_values` holds the person's columns and
    the run's timestamps, `place` the commune and the hamlet's key."""
    return hash(
        (
            citizen.resident_values,
            citizen.place,
            citizen.household_code,
            citizen.address,
            citizen.eid_stage,
            citizen.eid_level,
        )
    )


_COPY_BOOL = {True: "t", False: "f"}
BIRTHS_REMEMBERED = 100_000  # 120 years of days is 44,000 dates
HAMLETS_REMEMBERED = 20_000  # a province has a few thousand


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
        summary: ImportSummary,
        jurisdiction: Jurisdiction,
        actor: User | None,
        on_warning: Callable[[str], None],
        on_progress: Callable[[int], None],
        background: bool = True,
    ) -> None:
        self.table, self.job, self.edition, self.dry_run = table, job, edition, dry_run
        self.rejects, self.jurisdiction, self.actor = rejects, jurisdiction, actor
        self.on_warning, self.on_progress = on_warning, on_progress
        self.background = background
        self.summary = summary
        self.warned: list[str] = []
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
        self.communes_by_id = {u.id: u for u in self.communes.values()}
        # Citizen.place → unit: a hamlet by (commune id, name key), a commune by (id, None).
        self.places: dict[tuple[int | None, str | None], AdminUnit] = {
            (h.parent_id, h.name_key): h
            for h in AdminUnit.objects.filter(edition=edition, level=Level.HAMLET)
        }
        self.places.update({(u.id, None): u for u in self.communes.values()})
        self.parse = CitizenParser(
            columns=table.columns,
            text=table.kind == "csv",
            today=self.today,
            now=self.now,
            edition=edition,
            communes=self.communes,
            other_levels=self.other_levels,
            jurisdiction=jurisdiction,
            seen=self.seen,
        )

    # -- reading -----------------------------------------------------------------------------
    def run(self) -> ImportSummary:
        with collector_paused(), wal_checkpoints_spaced():
            try:
                chunks: Iterator[ParsedChunk] = map(
                    self.parse.settle_repeats,
                    parse_chunks(self.table.rows, self.parse, CHUNK_ROWS, self.table.position),
                )
                if self.background:
                    # A restricted import may still reject a row when it meets the registry
                    # (a person of another unit): its cells must reach the rejects file.
                    encode = partial(encode_chunk, cells=not self.jurisdiction.is_whole)
                    chunks = in_background(chunks, encode=encode, decode=_decode)
                resume = self.job.resume_line
                for parsed in chunks:
                    if parsed.last_line <= resume:
                        # Committed by an earlier run of this job (its worker was killed): its
                        # counts are in the job; parsed again only to know the IDs it holds.
                        continue
                    self.summary.rows += parsed.rows
                    self.summary.unchanged += parsed.unchanged
                    for line, field, reason, cells in parsed.rejects:
                        self.reject(line, field, reason, cells)
                    for line, national_id, text in parsed.warnings:
                        self.warn(line, national_id, text)
                    self.write_chunk(parsed)
            finally:
                self.seen.close()
        return self.summary

    def reject(self, line: int, field: str, reason: str, cells: list) -> None:
        self.summary.rejected += 1
        self.rejects.add(line, field, reason, cells)

    def warn(self, line: int, national_id: str, text: str) -> None:
        self.summary.warnings += 1
        message = _("dòng %(line)s: %(nid)s: %(text)s") % {
            "line": line,
            "nid": nid_lib.mask(national_id),
            "text": text,
        }
        self.warned.append(message)
        self.on_warning(message)

    # -- writing ----------------------------------------------------------------------------
    def write_chunk(self, parsed: ParsedChunk) -> None:
        def write() -> None:
            if not (parsed.records or parsed.late):  # only rejects: nothing to write
                return
            touched = self._write_chunk(parsed.records, parsed.cells)
            if touched is not None and not self.dry_run:
                self._audit(parsed.records, touched)

        chunk_commit(
            job=self.job,
            summary=self.summary,
            rejects=self.rejects,
            parsed=parsed,
            dry_run=self.dry_run,
            write=write,
            warnings=self.warned,
        )
        self.warned = []
        self.on_progress(self.summary.rows)

    def _place(self, chunk: list[Citizen]) -> list[AdminUnit]:
        """Each row's unit: its hamlet (created when new) or its commune."""
        places = list(map(_PLACE, chunk))
        missing = set(places).difference(self.places)
        if missing:
            wanted: dict[tuple[int, str | None], tuple[AdminUnit, str]] = {}
            for citizen in chunk:  # a new hamlet is named as its first row spells it
                if citizen.place in missing:
                    commune = self.communes_by_id[citizen.place[0]]
                    wanted.setdefault(citizen.place, (commune, citizen.hamlet))
            self._hamlets_create(list(wanted.values()))
        return list(map(self.places.__getitem__, places))

    def _hamlets_create(self, wanted: list[tuple[AdminUnit, str]]) -> None:
        if not self.dry_run:
            self.places.update(hamlets_ensure(wanted).items())
            return
        for commune, name in wanted:
            # Nothing is written in a dry run: an unsaved stand-in takes the new hamlet's place.
            self.places[(commune.id, key(name))] = AdminUnit(
                edition=commune.edition,
                level=Level.HAMLET,
                parent=commune,
                name=name,
                name_key=key(name),
                path=f"{commune.path}?/",
                province_code=commune.province_code,
            )

    def _write_chunk(self, chunk: list[Citizen], cells: list[list]) -> "Touched | None":
        """Write one chunk; returns which residents it inserted, updated and moved."""
        # Only the first row of the file with each ID is here (see settle_repeats).
        existing = {r.national_id: r for r in residents_stored(list(map(_NATIONAL_ID, chunk)))}
        if not self.jurisdiction.is_whole:
            chunk = self._outside_rejected(chunk, cells, existing)
        # Units and the scope were checked while parsing: a rejected row never counts as "seen".
        units = self._place(chunk)
        rows = list(zip(chunk, units, strict=True))
        if not rows:
            return None

        keys, found, missing = _households_named(rows)
        # The new households and residents below refer only to the chunk's units and to the
        # households found: each is locked once for the chunk (see references_locked), and the
        # households this transaction creates need no lock. Nothing is written in a dry run.
        references = {
            UNITS: {u.id for u in units},
            HOUSEHOLDS: {found[k] for k in keys if k in found},
        }
        with nullcontext() if self.dry_run else references_locked(references):
            if missing and not self.dry_run:
                found.update(_households_insert(missing))
            sorted_rows = self._sorted(rows, keys, found, existing)
            new, changed, restaged = sorted_rows.new, sorted_rows.changed, sorted_rows.restaged
            events, moves = sorted_rows.events, sorted_rows.moves
            self.summary.inserted += len(new)
            self.summary.updated += len(changed) + len(restaged)
            if self.dry_run:
                return None
            inserted = dict(
                zip((c.national_id for c, _u, _h in new), self._residents_insert(new), strict=True)
            )
        _updates_save(changed, restaged)
        events += self._first_stage_events(new, inserted)
        StageEvent.objects.bulk_create(events, batch_size=1000)
        if moves:
            self._moves_record(moves)
        # Rollups: the chunk's new residents, moves and stage changes are recorded in the
        # outbox and counted by the worker, each resident diffed against what the rollups
        # counted before, so no deltas here.
        residents_added(inserted.values())
        residents_changed([r.pk for r in (*changed, *restaged)])
        return Touched(
            inserted=list(inserted.values()),
            updated=[r.pk for r in (*changed, *restaged)],
            moved=[resident_id for resident_id, _from, _to in moves],
        )

    def _sorted(
        self,
        rows: list[tuple[Citizen, AdminUnit]],
        keys: list["HouseholdKey"],
        found: dict["HouseholdKey", int],
        existing: dict[str, Stored],
    ) -> "SortedRows":
        """The chunk's rows sorted into new residents, stored ones changed (restaged when their
        stage changed) and the stage events and moves the changes make; unchanged ones are
        counted."""
        out = SortedRows([], [], [], [], [])
        for (citizen, unit), household in zip(rows, keys, strict=True):
            household_id = found.get(household)
            stored = existing.get(citizen.national_id) if existing else None
            if stored is None:
                out.new.append((citizen, unit, household_id))
                continue
            resident = self._merge(stored, citizen, unit, household_id, out.events, out.moves)
            if resident is None:
                self.summary.unchanged += 1
            elif resident.stage_at is not None:
                out.restaged.append(resident)
            else:
                out.changed.append(resident)
        return out

    def _first_stage_events(
        self, new: list[tuple[Citizen, AdminUnit, int | None]], inserted: dict[str, int]
    ) -> list[StageEvent]:
        """A stage event for each new resident whose row gives a stage or a level."""
        events = []
        for citizen, _unit, _household in new:
            if citizen.eid_stage is None and citizen.eid_level is None:
                continue
            stage = citizen.eid_stage or "none"
            level = eid_level_for(stage, citizen.eid_level)
            if stage != "none" or level:
                events.append(
                    StageEvent(
                        resident_id=inserted[citizen.national_id],
                        from_stage="none",
                        to_stage=stage,
                        from_level=0,
                        to_level=level,
                        at=self.now,
                        source=StageEvent.Source.IMPORT,
                        import_job=self.job,
                    )
                )
        return events

    def _moves_record(self, moves: list[tuple[int, int, int]]) -> None:
        resident_moves_record(
            moves=moves,
            at=self.now,
            by=self.actor,
            source=ResidentMove.Source.IMPORT,
            import_job=self.job,
        )

    def _audit(self, chunk: list[Citizen], touched: "Touched") -> None:
        """One entry per chunk (in its transaction) saying which residents it inserted, updated
        and moved, by database id: no national ID in the log, every person resolvable by a
        province admin (/residents/<id>/)."""
        audit_record(
            user=self.actor,
            command_line=self.actor is None,
            action="import",
            object_type="residents",
            object_id=self.job.pk,
            unit=self.actor.unit if self.actor is not None else None,
            detail={
                "job": self.job.pk,
                "lines": [chunk[0].line, chunk[-1].line] if chunk else [],
                "inserted": compress(touched.inserted),
                "updated": compress(touched.updated),
                "moved": compress(touched.moved),
            },
        )

    def _outside_rejected(
        self, chunk: list[Citizen], cells: list[list], existing: dict[str, "Stored"]
    ) -> list[Citizen]:
        """The chunk without the rows that name a person registered, or a household (Mã hộ)
        kept, in a unit outside the jurisdiction; those rows are rejected: nobody is updated,
        moved or attached to another unit's household. The reason does not say where the
        person or household is, and a dry run answers the same."""
        codes = {c.household_code for c in chunk if c.household_code}
        foreign_codes = _households_outside(codes, self.jurisdiction) if codes else set()
        kept = []
        for citizen, row_cells in zip(chunk, cells, strict=True):
            stored = existing.get(citizen.national_id)
            if stored is not None and not self.jurisdiction.covers(
                stored.unit_edition, stored.unit_path
            ):
                self.reject(citizen.line, "national_id", str(OUTSIDE_PERSON), row_cells)
                del existing[citizen.national_id]
            elif citizen.household_code in foreign_codes:
                reason = OUTSIDE_HOUSEHOLD % {"code": citizen.household_code}
                self.reject(citizen.line, "household_id", reason, row_cells)
            else:
                kept.append(citizen)
        return kept

    def _residents_insert(self, new: list[tuple[Citizen, AdminUnit, int | None]]) -> list[int]:
        """Insert the new residents; returns their ids, in order. The parsing process formatted
        all but the last columns (staging.RESIDENT_COLUMNS). Inside the chunk's references_locked."""
        if not new:
            return []
        ids = resident_ids(len(new))
        if self.parse.copy:
            units = {u.id: u for _c, u, _h in new}
            ends = {i: copy_fields((i, u.province_code)) for i, u in units.items()}
            text = "".join(
                [
                    f"{i}\t{c.resident_values}{ends[u.id]}{COPY_NULL if h is None else h}\n"
                    for i, (c, u, h) in zip(ids, new, strict=True)
                ]
            )
            residents_copy(text)
        else:
            residents_insert(
                [
                    (i, *c.resident_values, u.id, u.province_code, h)
                    for i, (c, u, h) in zip(ids, new, strict=True)
                ]
            )
        return ids

    def _merge(
        self,
        stored: "Stored",
        citizen: Citizen,
        unit: AdminUnit,
        household_id: int | None,
        events: list[StageEvent],
        moves: list[tuple[int, int, int]],
    ) -> Resident | None:
        """The stored resident with the row applied (stage_at set when the stage changed), or
        None when nothing changes. Empty cells never erase what is stored. A row that puts the
        person in another commune is a move: it is added to `moves` (resident, from unit, to
        unit), and the old commune's household is left behind."""
        resident_id = stored.id
        stored_unit_parent = stored.unit_parent_id
        old = dict(zip(STORED_FIELDS, stored.values, strict=True))
        new = dict(old)
        person = citizen.person()
        new.update(
            full_name=person.full_name,
            birth_date=person.birth_date,
            birth_year_only=person.birth_year_only,
            sex=person.sex,
            elderly=person.elderly,
        )
        if person.phone:
            new["phone"] = person.phone
        moved = _commune_id(unit) != stored.commune_id
        if moved:
            moves.append((resident_id, stored.unit_id, unit.id))
            new["household_id"] = household_id
        elif household_id is not None:
            new["household_id"] = household_id
        # A row that names only the commune keeps the hamlet already known inside it.
        if not (unit.level == Level.COMMUNE and stored_unit_parent == unit.id):
            new["unit_id"] = unit.id
            new["province_code"] = unit.province_code
        stage, level = _stage_merged(citizen, old["eid_stage"], old["eid_level"])
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
        resident = Resident(id=resident_id, name_search=name_search_of(new["full_name"]), **new)
        resident.birth_date = dt.date.fromisoformat(person.birth_date)
        if (stage, level) != (old["eid_stage"], old["eid_level"]):
            resident.stage_at = self.now
        return resident


def _stage_merged(citizen: Citizen, stage: str, level: int) -> tuple[str, int]:
    """The stored (stage, level) with the row's applied: a blank cell keeps what is stored."""
    new_stage = citizen.eid_stage or stage
    if citizen.eid_stage is not None:
        # A stage with a blank level: the same rule as for a new resident and an extract.
        return new_stage, eid_level_for(new_stage, citizen.eid_level, level)
    return new_stage, citizen.eid_level if citizen.eid_level is not None else level


def _commune_id(unit: AdminUnit) -> int | None:
    return unit.parent_id if unit.level == Level.HAMLET else unit.id


def _households_outside(codes: set[str], jurisdiction: Jurisdiction) -> set[str]:
    """The household codes (Mã hộ) among `codes` kept by a unit outside `jurisdiction`."""
    return {
        code
        for code, edition, path in Household.objects.filter(code__in=codes)
        .exclude(code="")
        .values_list("code", "unit__edition", "unit__path")
        if not jurisdiction.covers(edition, path)
    }


class SortedRows(NamedTuple):
    """A chunk's rows as CitizenImport._sorted sorts them."""

    new: list[tuple[Citizen, AdminUnit, int | None]]
    changed: list[Resident]
    restaged: list[Resident]
    events: list[StageEvent]
    moves: list[tuple[int, int, int]]  # (resident, from unit, to unit)


def _updates_save(changed: list[Resident], restaged: list[Resident]) -> None:
    if changed:
        Resident.objects.bulk_update(changed, [*STORED_FIELDS, "name_search"], batch_size=500)
    if restaged:
        Resident.objects.bulk_update(
            restaged, [*STORED_FIELDS, "name_search", "stage_at"], batch_size=500
        )


class Touched(NamedTuple):
    """The residents a chunk wrote, by id, for its audit entry."""

    inserted: list[int]
    updated: list[int]
    moved: list[int]


# Reasons of a row refused because of who or what it names: they must not reveal where a person
# or a household of another unit is (the same words whichever unit it is).
OUTSIDE_PERSON = gettext_lazy(
    "ngoài phạm vi quản lý: số định danh này thuộc một đơn vị bạn không quản lý "
    "(nếu người này chuyển đến, công an huyện hoặc tỉnh sẽ làm thủ tục chuyển)"
)
OUTSIDE_HOUSEHOLD = gettext_lazy(
    "ngoài phạm vi quản lý: mã hộ %(code)s thuộc một đơn vị bạn không quản lý"
)


def _households_by_address(addresses: set[str]) -> dict["HouseholdKey", int]:
    rows = households_by_address(addresses)
    return {(unit_id, address): h_id for unit_id, address, h_id in rows}


# A row's household: its Mã hộ, or (unit id, address) when the file has no code, or None.
HouseholdKey = str | tuple[int, str] | None


def _household_key(code: str, unit_id: int, address: str) -> HouseholdKey:
    """The one rule, for a row and for a household just inserted alike."""
    return code or ((unit_id, address) if address else None)


def _households_named(
    rows: list[tuple[Citizen, AdminUnit]],
) -> tuple[list[HouseholdKey], dict[HouseholdKey, int], list[tuple[int, str, str, str, str]]]:
    """Each row's household key; the stored households among them (key → id); and the
    (unit_id, code, address, province_code, walk_key) of those to create. Reads only."""
    keys = [_household_key(c.household_code, u.id, c.address) for c, u in rows]
    found: dict[HouseholdKey, int] = {}
    missing: list[tuple[int, str, str, str, str]] = []
    codes = {c.household_code: (c, u) for c, u in rows if c.household_code}
    if codes:
        found.update(households_by_code(list(codes)))
        missing += [
            (u.id, code, c.address, u.province_code, walk_key_for(c.address, u))
            for code, (c, u) in codes.items()
            if code not in found
        ]
    addressed = {(u.id, c.address): (c, u) for c, u in rows if not c.household_code and c.address}
    if addressed:
        found.update(_households_by_address({k[1] for k in addressed}))
        missing += [
            (unit_id, "", address, u.province_code, walk_key_for(address, u))
            for (unit_id, address), (_c, u) in addressed.items()
            if (unit_id, address) not in found
        ]
    return keys, found, missing


def _households_insert(rows: list[tuple[int, str, str, str, str]]) -> dict[HouseholdKey, int]:
    """Insert (unit_id, code, address, province_code, walk_key) rows; returns each new
    household's key → id without a second query to find the ids. PostgreSQL: inside the chunk's
    references_locked, which covers the units."""
    returned = households_insert(rows)
    return {
        _household_key(code, unit_id, address): h_id for unit_id, code, address, h_id in returned
    }


_decode = decode_chunk_as(Citizen)
_PLACE = itemgetter(Citizen._fields.index("place"))
_NATIONAL_ID = itemgetter(Citizen._fields.index("national_id"))
_LINE = itemgetter(Citizen._fields.index("line"))


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
    user: User | None = None,
    request=None,
    file_name: str | None = None,
    job: ImportJob | None = None,
    on_warning: Callable[[str], None] = lambda text: None,
    on_progress: Callable[[int], None] = lambda rows: None,
    background: bool = True,
) -> tuple[ImportSummary, list[str]]:
    """Import a resident list for `user`, or with the whole installation's authority when
    `user` is None (the command line). Rows about units, people or households outside the
    user's jurisdiction are rejected (see jurisdiction_for); a person whom a row puts in
    another commune is moved, and the move recorded. Audited: one entry for the run, one per
    chunk naming the residents it touched.

    Raises ImportFileError when the file cannot be read at all (before anything is written).
    `background=False` parses in this process: a threaded web worker must not fork.
    Returns the summary and notes about the file (e.g. which sheet was read)."""
    table = open_table(path, kind="citizens")
    jurisdiction = jurisdiction_for(user) if user is not None else WHOLE_INSTALLATION

    def body(job: ImportJob, rejects: Rejects, summary: ImportSummary) -> ImportSummary:
        return CitizenImport(
            table=table,
            job=job,
            edition=edition,
            dry_run=dry_run,
            rejects=rejects,
            summary=summary,
            jurisdiction=jurisdiction,
            actor=user,
            on_warning=on_warning,
            on_progress=on_progress,
            background=background,
        ).run()

    summary = import_run(
        kind=ImportJob.Kind.CITIZENS,
        table=table,
        path=path,
        user=user,
        request=request,
        file_name=file_name,
        job=job,
        edition=edition,
        dry_run=dry_run,
        rejects_path=rejects_path,
        body=body,
    )
    if not dry_run:
        analyze([Resident, Household, StageEvent, AdminUnit])
    return summary, table.notes
