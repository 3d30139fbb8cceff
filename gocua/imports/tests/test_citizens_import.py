"""One test per import rule of DESIGN.md "Import files"."""

import datetime as dt
import unicodedata

import pytest

from gocua.accounts.models import User
from gocua.geo.models import AdminUnit
from gocua.imports.citizens import citizens_import
from gocua.imports.readers import ImportFileError
from gocua.imports.tests.conftest import AN, BINH, CUONG, EN, VI, read_rejects
from gocua.people.models import Household, Resident, StageEvent

pytestmark = pytest.mark.django_db


def run(path, **kwargs):
    summary, notes = citizens_import(path, edition=2023, **kwargs)
    return summary.as_dict(), notes


def test_it_imports_english_headers(tay_ninh, write_csv):
    summary, _ = run(write_csv([AN, BINH, CUONG]))
    assert summary == {
        "rows": 3,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "warnings": 0,
        "rejects_file": None,
    }
    an = Resident.objects.get(national_id=AN[0])
    assert an.full_name == "Nguyễn Văn An"
    assert an.birth_date == dt.date(1990, 3, 5) and not an.birth_year_only
    assert an.sex == "M" and an.phone == "0912345678"
    assert an.unit.name == "Khu phố 1" and an.unit.parent.code == "25456"
    assert an.household.code == "H001" and an.household.address == "12 Trần Hưng Đạo"
    assert an.eid_stage == "none" and an.eid_level == 0
    assert Resident.objects.get(national_id=CUONG[0]).phone == "0345678901"


def test_it_imports_vietnamese_headers_after_title_rows_ignoring_stt(tay_ninh, write_csv):
    titles = [["CÔNG AN PHƯỜNG 1"], ["DANH SÁCH CÔNG DÂN CHƯA KÍCH HOẠT"], ["Ngày 20/11/2026"], []]
    rows = [[1, *AN], [2, *BINH]]
    summary, _ = run(write_csv(rows, header=VI, titles=titles))
    assert summary["inserted"] == 2 and summary["rejected"] == 0


def test_it_matches_headers_ignoring_case_spacing_and_diacritics(tay_ninh, write_csv):
    header = [
        "SO CCCD",
        "ho  va ten",
        "NGAY SINH",
        "gioi tinh",
        "so dien thoai",
        "ma don vi",
        "Thôn",
        "ma ho",
        "dia chi",
    ]
    summary, _ = run(write_csv([AN], header=header))
    assert summary["inserted"] == 1


def test_it_reads_a_csv_with_bom_crlf_and_semicolons(tay_ninh, write_csv):
    path = write_csv([AN, BINH], header=VI[1:], delimiter=";", bom=True, crlf=True)
    with open(path, "rb") as fh:
        raw = fh.read()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    summary, _ = run(path)
    assert summary["inserted"] == 2


def test_it_skips_blank_lines_and_the_signature_block(tay_ninh, write_csv):
    rows = [
        AN,
        [""] * 9,
        [],
        ["", "Người lập biểu", "", "", "", "", "", "", ""],
        ["", "Trưởng Công an phường", "", "", "", "", "", "", ""],
    ]
    summary, _ = run(write_csv(rows))
    assert summary["rows"] == 1 and summary["inserted"] == 1 and summary["rejected"] == 0


def test_it_normalises_names_to_nfc(tay_ninh, write_csv):
    decomposed = unicodedata.normalize("NFD", "Nguyễn  Văn An")
    run(write_csv([[AN[0], decomposed, *AN[2:]]]))
    name = Resident.objects.get(national_id=AN[0]).full_name
    assert name == "Nguyễn Văn An" and unicodedata.is_normalized("NFC", name)


def test_it_reads_a_real_xlsx_with_numeric_ids_and_excel_dates(tay_ninh, write_xlsx):
    rows = [
        ["DANH SÁCH CÔNG DÂN"],
        [],
        VI,
        [
            1,
            72090001234,
            "Nguyễn Văn An",
            dt.datetime(1990, 3, 5),  # noqa: DTZ001 - Excel cells are naive
            "Nam",
            912345678,
            25456,
            "Khu phố 1",
            "H001",
            "12 Trần Hưng Đạo",
        ],
        [2, 72195001235, "Trần Thị Bình", 1995, "Nữ", None, 25456, "Khu phố 1", "H001", None],
    ]
    summary, notes = run(write_xlsx({"Sheet1": rows}))
    assert summary["inserted"] == 2 and summary["rejected"] == 0
    an = Resident.objects.get(national_id="072090001234")
    assert an.birth_date == dt.date(1990, 3, 5) and an.phone == "0912345678"
    binh = Resident.objects.get(national_id="072195001235")
    assert binh.birth_year_only and binh.birth_date == dt.date(1995, 1, 1)
    assert notes == []


def test_it_reads_the_first_sheet_that_has_a_header_and_says_which(tay_ninh, write_xlsx):
    path = write_xlsx(
        {
            "Hướng dẫn": [["Điền danh sách ở trang sau"]],
            "Danh sách": [EN, AN],
            "Tổng hợp": [EN, BINH],
        }
    )
    summary, notes = run(path)
    assert summary["inserted"] == 1
    assert Resident.objects.filter(national_id=AN[0]).exists()
    assert "đọc trang 'Danh sách'" in notes[0] and "'Hướng dẫn'" in notes[0]


def test_it_rejects_a_row_per_broken_rule_naming_line_field_and_reason(
    tay_ninh, write_csv, tmp_path
):
    bad = [
        ["073090001299", "Sai Mã Tỉnh", "05/03/1990", "Nam", "", "25456", "", "", ""],  # line 2
        ["072190001298", "Sai Giới Tính", "05/03/1990", "Nam", "", "25456", "", "", ""],
        ["072091001297", "Sai Năm Sinh", "05/03/1990", "Nam", "", "25456", "", "", ""],
        ["072090001296", "Ngày Tương Lai", "05/03/2090", "Nam", "", "25456", "", "", ""],
        ["072090001295", "Không Giới Tính", "05/03/1990", "X", "", "25456", "", "", ""],
        ["072090001294", "Sai Mã Xã", "05/03/1990", "Nam", "", "99999", "", "", ""],
        ["072090001293", "Mã Huyện", "05/03/1990", "Nam", "", "703", "", "", ""],
        ["", "Thiếu Số", "05/03/1990", "Nam", "", "25456", "", "", ""],
        ["072090001292", "", "05/03/1990", "Nam", "", "25456", "", "", ""],
        AN,  # line 11: valid, kept
    ]
    rejects = tmp_path / "rejects.csv"
    summary, _ = run(write_csv(bad), rejects_path=str(rejects))
    assert summary["rejected"] == 9 and summary["inserted"] == 1
    table = read_rejects(rejects)
    assert table[0] == ["Dòng", "Cột", "Lý do", *EN]
    by_line = {int(r[0]): (r[1], r[2], r[3:]) for r in table[1:]}
    assert by_line[2][:2] == ("Số định danh cá nhân", "mã tỉnh 073 không tồn tại")
    assert by_line[3][:2] == (
        "Số định danh cá nhân",
        "chữ số thứ 4 (1) là của nữ, nhưng dòng ghi giới tính nam",
    )
    assert by_line[4][:2] == (
        "Số định danh cá nhân",
        "chữ số thứ 5–6 (91) không khớp năm sinh 1990",
    )
    assert by_line[5][0] == "Ngày sinh" and "là ngày trong tương lai" in by_line[5][1]
    assert by_line[6][0] == "Giới tính"
    assert by_line[7][:2] == ("Mã xã", "không có xã nào mã 99999 trong danh mục năm 2023")
    assert by_line[8][:2] == ("Mã xã", "703 là mã quận/huyện; hãy ghi mã xã")
    assert by_line[9][:2] == ("Số định danh cá nhân", "bị trống")
    assert by_line[10][:2] == ("Họ và tên", "bị trống")
    assert by_line[2][2] == bad[0]  # the original cells follow
    assert Resident.objects.filter(national_id=AN[0]).exists()


def test_it_keeps_the_row_but_drops_a_phone_with_an_unknown_prefix(tay_ninh, write_csv, tmp_path):
    warnings = []
    rejects = tmp_path / "rejects.csv"
    row = [*AN[:4], "0111222333", *AN[5:]]
    summary, _ = run(write_csv([row]), rejects_path=str(rejects), on_warning=warnings.append)
    assert summary["inserted"] == 1 and summary["warnings"] == 1
    assert Resident.objects.get(national_id=AN[0]).phone == ""
    assert len(read_rejects(rejects)) == 1  # header only: warnings are not rejects
    assert warnings == [
        "dòng 2: 072******234: số điện thoại 01*****333: "
        "đầu số 011 không phải đầu số di động Việt Nam; đã bỏ số này"
    ]
    assert AN[0] not in warnings[0] and "0111222333" not in warnings[0]


def test_it_lets_the_first_row_win_a_conflict_in_one_file(tay_ninh, write_csv, tmp_path):
    rejects = tmp_path / "rejects.csv"
    other = [AN[0], "Nguyễn Văn Ân", *AN[2:]]
    summary, _ = run(write_csv([AN, BINH, other, AN]), rejects_path=str(rejects))
    assert summary == {
        "rows": 4,
        "inserted": 2,
        "updated": 0,
        "unchanged": 1,
        "rejected": 1,
        "warnings": 0,
        "rejects_file": str(rejects),
    }
    assert Resident.objects.get(national_id=AN[0]).full_name == "Nguyễn Văn An"
    line, field, reason = read_rejects(rejects)[1][:3]
    assert (line, field) == ("4", "Số định danh cá nhân")
    assert reason == "trùng: 072******234 đã có ở dòng 2 với dữ liệu khác (giữ dòng đầu tiên)"


def test_it_detects_conflicts_across_chunks(tay_ninh, write_csv, monkeypatch):
    monkeypatch.setattr("gocua.imports.citizens.CHUNK_ROWS", 1)
    other = [AN[0], "Nguyễn Văn Ân", *AN[2:]]
    summary, _ = run(write_csv([AN, BINH, other]))
    assert summary["rejected"] == 1 and summary["inserted"] == 2


def test_it_changes_nothing_when_the_same_file_is_imported_again(tay_ninh, write_csv):
    path = write_csv([AN, BINH, CUONG])
    run(path)
    before = list(Resident.objects.order_by("id").values())
    summary, _ = run(path)
    assert summary["unchanged"] == 3 and summary["inserted"] == summary["updated"] == 0
    assert list(Resident.objects.order_by("id").values()) == before
    assert Household.objects.count() == 2
    assert AdminUnit.objects.filter(level="hamlet").count() == 2


def test_it_updates_what_changed_and_keeps_what_an_empty_cell_omits(tay_ninh, write_csv):
    run(write_csv([AN]))
    moved = [AN[0], AN[1], AN[2], AN[3], "", "25456", "Khu phố 2", "H009", "1 Nguyễn Trãi"]
    summary, _ = run(write_csv([moved], name="second.csv"))
    assert summary["updated"] == 1
    an = Resident.objects.get(national_id=AN[0])
    assert an.unit.name == "Khu phố 2" and an.household.code == "H009"
    assert an.phone == "0912345678"  # an empty phone cell does not erase the stored one
    only_commune = [*AN[:6], "", "", ""]
    summary, _ = run(write_csv([only_commune], name="third.csv"))
    assert summary["unchanged"] == 1  # the commune alone keeps the hamlet already known


def test_it_updates_each_of_a_person_s_columns_exactly(tay_ninh, write_csv):
    # The writing process reads these back from the columns the parsing process formatted
    # (COPY text on PostgreSQL): a backslash in a name must come back as it was.
    run(write_csv([AN]))
    changed = [AN[0], "Nguyễn Văn\\An Hai", "1990", AN[3], "0987654321", *AN[5:]]
    summary, _ = run(write_csv([changed], name="second.csv"))
    assert summary["updated"] == 1
    an = Resident.objects.get(national_id=AN[0])
    assert (an.full_name, an.birth_date, an.birth_year_only, an.sex, an.phone) == (
        "Nguyễn Văn\\An Hai",
        dt.date(1990, 1, 1),
        True,
        "M",
        "0987654321",
    )
    summary, _ = run(write_csv([changed], name="third.csv"))
    assert summary["unchanged"] == 1


def test_a_dry_run_counts_everything_and_writes_nothing(tay_ninh, write_csv):
    summary, _ = run(write_csv([AN, BINH, CUONG]), dry_run=True)
    assert summary["inserted"] == 3
    assert Resident.objects.count() == 0 and Household.objects.count() == 0
    assert not AdminUnit.objects.filter(level="hamlet").exists()


def test_it_sets_the_stage_a_citizens_file_carries_with_an_event(tay_ninh, write_csv):
    header = [*EN, "eid_stage", "eid_level"]
    run(write_csv([[*AN, "Đã kích hoạt", "Mức 2"], [*BINH, "", ""]], header=header))
    an = Resident.objects.get(national_id=AN[0])
    assert (an.eid_stage, an.eid_level) == ("activated", 2)
    event = StageEvent.objects.get(resident=an)
    assert (event.from_stage, event.to_stage, event.source) == ("none", "activated", "import")
    assert Resident.objects.get(national_id=BINH[0]).eid_stage == "none"


def test_a_blank_level_follows_the_stage_as_in_a_stage_extract(tay_ninh, write_csv):
    # The level-2 account exists from approval on: a received dossier is not one.
    header = [*EN, "eid_stage", "eid_level"]
    path = write_csv([[*AN, "Đã thu nhận", ""], [*BINH, "Đã duyệt", ""]], header=header)
    run(path)
    an, binh = (Resident.objects.get(national_id=p[0]) for p in (AN, BINH))
    assert (an.eid_stage, an.eid_level) == ("registered", 0)
    assert (binh.eid_stage, binh.eid_level) == ("approved", 2)
    summary, _ = run(path)
    assert summary["unchanged"] == 2
    run(write_csv([[*AN, "Đã kích hoạt", ""]], header=header, name="again.csv"))
    assert Resident.objects.get(national_id=AN[0]).eid_level == 2


def test_an_interrupted_import_run_again_ends_as_one_clean_run(tay_ninh, write_csv, monkeypatch):
    people = [AN, BINH, CUONG]
    path = write_csv(people)
    monkeypatch.setattr("gocua.imports.citizens.CHUNK_ROWS", 1)
    original = __import__("gocua.imports.citizens", fromlist=["x"]).CitizenImport.write_chunk
    calls = {"n": 0}

    def dies_on_second_chunk(self, parsed):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the officer closed the terminal
        return original(self, parsed)

    monkeypatch.setattr("gocua.imports.citizens.CitizenImport.write_chunk", dies_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        run(path)
    assert Resident.objects.count() == 1  # the first chunk was committed
    monkeypatch.setattr("gocua.imports.citizens.CitizenImport.write_chunk", original)
    summary, _ = run(path)
    assert summary["unchanged"] == 1 and summary["inserted"] == 2
    assert sorted(Resident.objects.values_list("national_id", flat=True)) == sorted(
        p[0] for p in people
    )
    assert Household.objects.count() == 2


def test_a_unit_manager_import_touches_only_their_units(tay_ninh, write_csv):
    phuong1 = AdminUnit.objects.get(edition=2023, code="25456")
    officer = User.objects.create_user("officer", role="unit_manager", unit=phuong1)
    summary, _ = run(write_csv([AN, CUONG]), user=officer)
    assert summary["inserted"] == 1 and summary["rejected"] == 1
    assert not Resident.objects.filter(national_id=CUONG[0]).exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "không có tệp này"),
        (b"", "tệp trống"),
        (b"\xef\xbb\xbf\r\n\r\n", "tệp trống"),
        (b"%PDF-1.4\x00\x01\x02binary", "không phải tệp CSV hay XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "Excel 97"),
        ("ho ten,dia chi\nAn,Tây Ninh\n".encode(), "không tìm thấy dòng tiêu đề"),
        (b"national_id,full_name\n072090001234,An\n", "thiếu cột Ngày sinh, Giới tính"),
        (
            "national_id,full_name,birth_date,sex,unit_code\n072090001234,Trương Văn Hưng,"
            "05/03/1990,Nam,25456\n".encode("cp1258"),
            "tệp không phải UTF-8",
        ),
        (b"PK\x03\x04this is not really a zip", "không đọc được tệp XLSX"),
    ],
)
def test_it_refuses_files_it_cannot_read_before_writing_anything(
    tay_ninh, tmp_path, content, message
):
    path = tmp_path / "file.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        run(str(path))
    assert Resident.objects.count() == 0


@pytest.mark.parametrize("background", [True, False])
def test_it_rejects_a_line_with_bytes_that_are_not_utf8_and_keeps_the_rest(
    tay_ninh, tmp_path, monkeypatch, background
):
    from gocua.imports.readers import Undecodable

    # As in a fresh process, which looks for such bytes only once its decoder has met one
    # (here well after the header, in the parsing process when there is one).
    monkeypatch.setattr(Undecodable, "seen", False)
    good = ",".join(AN).encode()
    bad = ",".join(BINH).encode().replace("Thị".encode(), "Thị".encode()[:2] + "ă".encode("cp1258"))
    path = tmp_path / "mixed.csv"
    path.write_bytes(",".join(EN).encode() + b"\n" + (good + b"\n") * 400 + bad + b"\n")
    summary, _ = run(str(path), background=background)
    assert summary["inserted"] == 1 and summary["unchanged"] == 399 and summary["rejected"] == 1


def test_a_second_run_into_emptied_tables_writes_the_same_rows(tay_ninh, write_csv, monkeypatch):
    """PostgreSQL: the residents staged and then inserted set-based (imports.staging) are the
    rows the file names, and a second run into emptied tables leaves the same rows."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite checks each row itself")

    def tables():
        return (
            sorted(Resident.objects.values_list("national_id", "unit__code", "household__code")),
            sorted(Household.objects.values_list("unit__code", "code", "address")),
        )

    path = write_csv([AN, BINH, CUONG])
    run(path)
    checked_here = tables()
    Resident.objects.all().delete()
    Household.objects.all().delete()
    run(path)
    assert tables() == checked_here and len(checked_here[0]) == 3


@pytest.mark.django_db(transaction=True)
def test_a_chunk_keeps_the_stored_household_and_hamlet_its_new_residents_join(
    tay_ninh, write_csv, monkeypatch
):
    """PostgreSQL: the chunk locks what its new rows refer to before it loads them
    (lib.bulk.references_locked), so nobody can delete them before it commits."""
    import psycopg
    from django.db import connection

    from gocua.imports import citizens

    if connection.vendor != "postgresql":
        pytest.skip("SQLite checks each row itself")
    run(write_csv([AN]))
    house = Household.objects.get(code=AN[7])
    settings = connection.settings_dict
    blocked = []
    residents_copy = citizens.residents_copy

    def copy_while_someone_deletes(*args):
        with psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"] or None,
            dbname=settings["NAME"],
            autocommit=True,
        ) as other:
            other.execute("SET lock_timeout = '200ms'")
            for table, pk in [("people_household", house.pk), ("geo_adminunit", house.unit_id)]:
                try:
                    other.execute(f"DELETE FROM {table} WHERE id = %s", [pk])
                except psycopg.errors.LockNotAvailable:
                    blocked.append(table)
        residents_copy(*args)

    monkeypatch.setattr(citizens, "residents_copy", copy_while_someone_deletes)
    summary, _ = run(write_csv([BINH], name="second.csv"))  # BINH joins AN's household H001
    assert summary["inserted"] == 1
    assert blocked == ["people_household", "geo_adminunit"]
    assert Resident.objects.get(national_id=BINH[0]).household == house


def test_it_refuses_a_text_longer_than_kept_naming_the_column_and_the_limit(
    tay_ninh, write_csv, tmp_path
):
    """A name or an address too long for the register is refused with its length and the limit
    (the web form and the API say the same), never cut."""
    rejects = tmp_path / "rejects.csv"
    long_name = [AN[0], "Nguyễn " * 20 + "An", *AN[2:]]
    summary, _ = run(write_csv([long_name]), rejects_path=str(rejects))
    assert summary["rejected"] == 1 and summary["inserted"] == 0
    header, row = read_rejects(rejects)
    assert row[:3] == ["2", "Họ và tên", "Dài 142 ký tự, tối đa 120 ký tự."]


def test_the_rejects_file_is_written_in_vietnamese_from_the_command_line(
    tay_ninh, write_csv, tmp_path
):
    """An official opens it: Vietnamese header, column names and reasons (the CLI's default)."""
    bad = [["", "Thiếu Số", "05/03/1990", "Nam", "", "25456", "", "", ""]]
    rejects = tmp_path / "r.csv"
    run(write_csv(bad), rejects_path=str(rejects))
    header, row = read_rejects(rejects)
    assert header[:3] == ["Dòng", "Cột", "Lý do"]
    assert row[:3] == ["2", "Số định danh cá nhân", "bị trống"]
