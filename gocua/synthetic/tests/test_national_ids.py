"""National IDs and the re-import: what the generator writes is what the import accepts."""

import csv
from collections import Counter

from gocua.imports.citizens import citizens_import
from gocua.lib import nid as nid_lib
from gocua.people.models import Resident

ENGLISH = [
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
]


def _residents(province):
    return Resident.objects.filter(
        unit__edition=province.unit.edition, unit__path__startswith=province.unit.path
    )


def test_it_gives_every_resident_a_valid_unique_national_id(province, db):
    rows = list(_residents(province).values_list("national_id", "birth_date", "sex"))
    assert len(rows) == province.people
    for national_id, born, sex in rows:
        assert nid_lib.normalize(national_id) == national_id
        nid_lib.check_against(national_id, birth_year=born.year, sex=sex)
    assert len({r[0] for r in rows}) == len(rows)
    registered_in = Counter(r[0][:3] for r in rows)
    assert registered_in["072"] / len(rows) > 0.8  # mostly born in Tây Ninh
    assert len(registered_in) > 5  # some born in other provinces


def test_it_reimports_with_no_rejects(province, db, tmp_path):
    path = tmp_path / "residents.csv"
    residents = _residents(province).select_related("unit__parent", "household")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ENGLISH)
        for r in residents.iterator():
            writer.writerow(
                [
                    r.national_id,
                    r.full_name,
                    str(r.birth_date.year)
                    if r.birth_year_only
                    else r.birth_date.strftime("%d/%m/%Y"),
                    "Nam" if r.sex == "M" else "Nữ",
                    r.phone,
                    r.unit.parent.code,
                    r.unit.name,
                    r.household.code,
                    r.household.address,
                    r.eid_stage,
                    r.eid_level,
                ]
            )
    warnings = []
    summary, _ = citizens_import(str(path), edition=2023, on_warning=warnings.append)
    assert summary.rejected == 0
    assert warnings == []
    assert summary.rows == province.people
    assert summary.unchanged == province.people
