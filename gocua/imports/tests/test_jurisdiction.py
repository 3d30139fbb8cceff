"""Imports are entry points: a row may only reach units, people and households the importer
manages. Every import kind x every way a row can name something foreign (a national ID, a
household code, a unit code) x a commune and a district officer: the foreign resident is left
as it was (not updated, not moved, not linked), the row counts as rejected, and the reason
does not say where the person lives. A real move needs a jurisdiction that covers both units
(a district, the province or the command line) and is recorded for both sides.
"""

import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import make_resident
from gocua.accounts.models import AuditEntry
from gocua.imports.citizens import citizens_import
from gocua.imports.columns import field_label
from gocua.imports.services import import_upload
from gocua.imports.stages import stages_import
from gocua.imports.tests.conftest import EN, read_rejects
from gocua.lib.nid import make as make_nid
from gocua.lib.ranges import expand
from gocua.people.models import Household, Resident, ResidentMove

pytestmark = pytest.mark.django_db

STAGES = ["national_id", "eid_stage", "eid_level", "stage_at", "last_used_at"]


@dataclasses.dataclass
class Case:
    officer: object
    own: object  # a commune the officer manages
    foreign: object  # a commune outside the officer's jurisdiction
    resident: Resident  # lives in `foreign`
    household: Household  # in `foreign`


@pytest.fixture(params=["commune", "district"])
def case(request, tree, bob, dan):
    """Bob (commune officer of Xã A) against a person of Xã B in his own district; Dan
    (district officer of 703) against a person of a commune of the sibling district."""
    if request.param == "commune":
        officer, own, foreign, hamlet = bob, tree.xa_a, tree.xa_b, tree.b_kp1
    else:
        officer, own, foreign, hamlet = dan, tree.xa_a, tree.xa_c, tree.xa_c
    home = Household.objects.create(
        unit=hamlet, code="HH-FOREIGN", address="9 Đường Khác", province_code="72"
    )
    resident = make_resident(
        hamlet, name="Phạm Thị Ngoài", sex="F", household=home, phone="0987654321"
    )
    return Case(officer, own, foreign, resident, home)


def _row(national_id, *, name="Phạm Thị Ngoài", unit, household="", address="1 Đường Mới"):
    born = "1990-05-03"
    return [national_id, name, born, "Nữ", "0911222333", unit, "Khu phố 1", household, address]


def _csv(tmp_path, rows, header=EN, name="ds.csv"):
    path = tmp_path / name
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def _snapshot(resident: Resident) -> tuple:
    resident.refresh_from_db()
    return (
        resident.full_name,
        resident.phone,
        resident.unit_id,
        resident.household_id,
        resident.eid_stage,
        resident.birth_date,
    )


def _assert_rejected(summary, rejects_path, *, field, case):
    assert (summary["inserted"], summary["updated"], summary["rejected"]) == (0, 0, 1), summary
    table = read_rejects(rejects_path)
    assert [row[1] for row in table[1:]] == [field_label(field)]
    reason = table[1][2]
    assert "ngoài phạm vi quản lý" in reason
    # Nothing in the reason says where the person or household is.
    for revealing in (case.foreign.code, case.foreign.name, case.resident.unit.name):
        assert revealing not in reason


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_foreign_national_id_is_rejected_not_updated_nor_moved(case, tmp_path, dry_run):
    before = _snapshot(case.resident)
    rejects = tmp_path / "r.csv"
    summary, _ = citizens_import(
        _csv(tmp_path, [_row(case.resident.national_id, name="Tên Đổi", unit=case.own.code)]),
        edition=2023,
        user=case.officer,
        rejects_path=str(rejects),
        dry_run=dry_run,
    )
    # A dry run answers the same: it must not tell "exists elsewhere" from "would update".
    _assert_rejected(summary.as_dict(), rejects, field="national_id", case=case)
    assert _snapshot(case.resident) == before
    assert not ResidentMove.objects.exists()


def test_a_foreign_household_code_links_nobody_to_that_household(case, tmp_path):
    newcomer = make_nid(province_code="072", sex="F", birth_year=1990, serial=4242)
    rejects = tmp_path / "r.csv"
    summary, _ = citizens_import(
        _csv(tmp_path, [_row(newcomer, unit=case.own.code, household=case.household.code)]),
        edition=2023,
        user=case.officer,
        rejects_path=str(rejects),
    )
    _assert_rejected(summary.as_dict(), rejects, field="household_id", case=case)
    assert list(case.household.residents.all()) == [case.resident]
    assert not Resident.objects.filter(national_id=newcomer).exists()


def test_a_foreign_unit_code_is_rejected(case, tmp_path):
    newcomer = make_nid(province_code="072", sex="F", birth_year=1990, serial=4243)
    rejects = tmp_path / "r.csv"
    summary, _ = citizens_import(
        _csv(tmp_path, [_row(newcomer, unit=case.foreign.code)]),
        edition=2023,
        user=case.officer,
        rejects_path=str(rejects),
    )
    assert (summary.inserted, summary.rejected) == (0, 1)
    assert read_rejects(rejects)[1][1] == "Mã xã"
    assert not Resident.objects.filter(national_id=newcomer).exists()


def test_a_foreign_person_in_a_stage_extract_keeps_their_stage(case, tmp_path):
    before = _snapshot(case.resident)
    rejects = tmp_path / "r.csv"
    path = _csv(tmp_path, [[case.resident.national_id, "activated", "2", "2026-11-20", ""]], STAGES)
    summary, _ = stages_import(path, user=case.officer, rejects_path=str(rejects))
    assert (summary.updated, summary.rejected) == (0, 1)
    # The words of an unknown ID: the file must not reveal that the ID exists elsewhere.
    assert "không có trong danh sách dân cư của đơn vị bạn" in read_rejects(rejects)[1][2]
    assert _snapshot(case.resident) == before


def test_the_web_import_page_applies_the_same_rule(client, case, worker_runs):
    before = _snapshot(case.resident)
    text = "\n".join(",".join(r) for r in [EN, _row(case.resident.national_id, unit=case.own.code)])
    client.force_login(case.officer)
    with worker_runs():
        page = client.post(
            "/imports/",
            {"kind": "citizens", "file": SimpleUploadedFile("ds.csv", text.encode(), "text/csv")},
        )
    assert page.status_code == 302
    assert _snapshot(case.resident) == before
    job = case.officer.importjob_set.get()
    assert (job.inserted, job.updated, job.rejected) == (0, 0, 1)


def test_an_upload_for_a_viewer_or_volunteer_is_refused(tree, olivia, vy, tmp_path, settings):
    for user in (olivia, vy):
        upload = SimpleUploadedFile("x.csv", b"national_id\n", "text/csv")
        with pytest.raises(PermissionError):
            import_upload(user=user, kind="citizens", upload=upload, dry_run=False)


# --- moves -----------------------------------------------------------------------------------


def test_a_district_officer_applies_a_move_between_two_of_its_communes(
    tree, dan, bob, charlie, client, tmp_path
):
    home = Household.objects.create(unit=tree.b_kp1, code="HB-1", address="5 Lê Lợi")
    person = make_resident(tree.b_kp1, household=home, name="Võ Văn Chuyển", sex="F")
    summary, _ = citizens_import(
        _csv(tmp_path, [_row(person.national_id, name="Võ Văn Chuyển", unit="25456")]),
        edition=2023,
        user=dan,
    )
    assert (summary.updated, summary.rejected) == (1, 0)
    person.refresh_from_db()
    assert person.unit == tree.kp1
    # The old commune's household stays behind; the row's address is the new home.
    assert (person.household.unit, person.household.address) == (tree.kp1, "1 Đường Mới")
    assert list(home.residents.all()) == []
    move = ResidentMove.objects.get()
    assert (move.resident, move.from_unit, move.to_unit) == (person, tree.b_kp1, tree.kp1)
    assert (move.recorded_by, move.actor, move.source) == (dan, "dan", "import")
    # Both communes' officers see the move; Bob may now open the person, Charlie may not.
    for officer in (bob, charlie):
        client.force_login(officer)
        body = client.get("/residents/moves/").content.decode()
        assert "Võ Văn Chuyển" in body and "Phường 1" in body and "Phường 3" in body
        assert person.national_id not in body
    client.force_login(charlie)
    assert client.get(f"/residents/{person.pk}/").status_code == 404
    client.force_login(bob)
    assert "Chuyển nơi ở" in client.get(f"/residents/{person.pk}/").content.decode()
    # The chunk's audit entry names the moved resident by id.
    entry = AuditEntry.objects.get(object_type="residents")
    assert expand(entry.detail["moved"]) == [person.pk]
    assert expand(entry.detail["updated"]) == [person.pk]


def test_the_command_line_moves_across_districts_with_the_installations_authority(
    tree, tmp_path, monkeypatch
):
    monkeypatch.setattr("getpass.getuser", lambda: "canbo")
    person = make_resident(tree.xa_c, name="Đỗ Thị Xa", sex="F")
    summary, _ = citizens_import(
        _csv(tmp_path, [_row(person.national_id, name="Đỗ Thị Xa", unit="25456")]), edition=2023
    )
    assert summary.updated == 1
    move = ResidentMove.objects.get()
    assert (move.recorded_by, move.actor) == (None, "cli:canbo")
    run = AuditEntry.objects.get(object_type="import_job")
    assert run.username == "cli:canbo" and run.detail["authority"] == "installation"
    assert run.detail["updated"] == 1 and run.detail["outcome"] == "done"


def test_an_officers_unchanged_reimport_is_not_a_move(tree, bob, tmp_path):
    person = make_resident(tree.kp1, name="Ngô Văn Ở", sex="F")
    path = _csv(tmp_path, [_row(person.national_id, name="Ngô Văn Ở", unit="25456")])
    citizens_import(path, edition=2023, user=bob)
    summary, _ = citizens_import(path, edition=2023, user=bob)
    assert summary.unchanged == 1
    assert not ResidentMove.objects.exists()


def test_each_chunk_audits_the_residents_it_inserted(tree, bob, tmp_path):
    rows = [
        _row(make_nid(province_code="072", sex="F", birth_year=1990, serial=900 + i), unit="25456")
        for i in range(3)
    ]
    citizens_import(_csv(tmp_path, rows), edition=2023, user=bob)
    entry = AuditEntry.objects.get(object_type="residents")
    assert sorted(expand(entry.detail["inserted"])) == sorted(
        Resident.objects.values_list("pk", flat=True)
    )
    assert entry.user == bob and entry.detail["lines"] == [2, 4]
    assert not any(r[0] in str(entry.detail) for r in rows)  # no national ID in the log
