"""No cell written from data is live, in any export: a hamlet, unit or person named like a
formula reaches the officer's spreadsheet as text. Every XLSX is read back with openpyxl (a
formula cell has data_type "f"), every CSV cell is checked for the neutralising apostrophe;
only the totals the committee report builds itself may be formulas."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from conftest import make_resident
from gocua.imports.tests.conftest import EN
from gocua.reports import rollups

pytestmark = pytest.mark.django_db

EVIL = ['=HYPERLINK("http://x","y")', "=1+2", "+1+2", "-1+2", "@SUM(1)", "\tcmd", "\rcmd"]


@pytest.fixture
def evil_names(tree, campaign):
    """Hamlets and a commune named like formulas, with people in them, and rollups built."""
    tree.kp1.name = EVIL[0]
    tree.kp1.save(update_fields=["name"])
    tree.kp2.name = EVIL[1]
    tree.kp2.save(update_fields=["name"])
    tree.xa_b.name = EVIL[2]
    tree.xa_b.save(update_fields=["name"])
    for hamlet in (tree.kp1, tree.kp2, tree.b_kp1):
        make_resident(hamlet, stage="registered")
    rollups.rollup_rebuild()
    return tree


def formula_cells(book) -> list[tuple[str, str, object]]:
    return [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def _assert_xlsx_inert(data: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = [c.value for s in book.worksheets for r in s.iter_rows() for c in r]
    assert EVIL[0] in texts and EVIL[1] in texts  # there, as text
    for sheet, coordinate, value in formula_cells(book):
        # Only the report's own totals: sums and rates of its own cells.
        assert str(value).startswith(("=SUM(", "=IF(")), (sheet, coordinate, value)
        assert "HYPERLINK" not in str(value) and "1+2" not in str(value)
    for sheet in book.worksheets:
        assert not sheet._hyperlinks, f"{sheet.title}: a link from data"


def _assert_csv_inert(text: str) -> None:
    cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]
    for name in EVIL[:3]:
        assert "'" + name in cells, name
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        if cell.startswith("-"):  # a negative number the code computed is a number
            float(cell)


def test_the_committee_report_xlsx_is_inert_on_the_web(client, evil_names, alice):
    client.force_login(alice)
    response = client.get("/dashboard/2023/72/bao-cao.xlsx")
    assert response.status_code == 200
    _assert_xlsx_inert(response.content)


def test_the_committee_report_xlsx_is_inert_from_the_command_line(evil_names, tmp_path):
    path = tmp_path / "r.xlsx"
    call_command(
        "report", "kpi", "--unit", "72", "--depth", "3", "--format", "xlsx", "--output", str(path)
    )
    _assert_xlsx_inert(path.read_bytes())


def test_the_committee_report_csv_is_inert(client, evil_names, alice, tmp_path):
    client.force_login(alice)
    _assert_csv_inert(client.get("/dashboard/2023/72/bao-cao.csv").content.decode())
    path = tmp_path / "r.csv"
    call_command(
        "report",
        "committee",
        "--unit",
        "72",
        "--depth",
        "3",
        "--format",
        "csv",
        "--output",
        str(path),
    )
    _assert_csv_inert(path.read_text(encoding="utf-8"))


def test_the_kpi_csv_of_the_command_line_is_inert(evil_names, tmp_path):
    path = tmp_path / "k.csv"
    call_command(
        "report", "kpi", "--unit", "72", "--depth", "3", "--format", "csv", "--output", str(path)
    )
    _assert_csv_inert(path.read_text(encoding="utf-8"))


def test_the_daily_snapshot_is_inert_in_both_formats(client, evil_names, alice, tmp_path):
    client.force_login(alice)
    for unit in ("25456", "703"):
        base = f"/dashboard/2023/{unit}/so-lieu-ngay/"
        xlsx = client.get(base + "?format=xlsx")
        assert xlsx.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        assert not formula_cells(book) and not book.worksheets[0]._hyperlinks
        text = client.get(base + "?format=csv").content.decode()
        _assert_csv_inert_cells(text, EVIL[0] if unit == "25456" else EVIL[2])
    path = tmp_path / "s.csv"
    today = rollups.today().isoformat()
    call_command("report", "snapshot", "--unit", "703", "--from", today, "--output", str(path))
    _assert_csv_inert_cells(path.read_text(encoding="utf-8"), EVIL[2])


def _assert_csv_inert_cells(text: str, name: str) -> None:
    cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]
    assert "'" + name in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]


def test_the_rejects_file_is_inert_from_the_web_and_the_command_line(
    client, tree, bob, worker_runs, tmp_path
):
    # Every row is rejected (no birth date), whoever imports it.
    rows = [["072090001234", name, "", "Nam", "", "25459", "", "", ""] for name in EVIL]
    stream = io.StringIO()
    csv.writer(stream).writerows([EN, *rows])
    text = stream.getvalue()
    client.force_login(bob)
    with worker_runs():
        client.post(
            "/imports/",
            {"kind": "citizens", "file": SimpleUploadedFile("x.csv", text.encode(), "text/csv")},
        )
    job = bob.importjob_set.get()
    web = b"".join(client.get(f"/imports/{job.pk}/rejects.csv").streaming_content).decode()
    cli = tmp_path / "r.csv"
    source = tmp_path / "in.csv"
    source.write_text(text, encoding="utf-8")
    call_command("import", "citizens", str(source), "--rejects", str(cli))
    for body in (web, cli.read_text(encoding="utf-8")):
        cells = [c for row in csv.reader(io.StringIO(body)) for c in row]
        for name in EVIL[:-1]:  # (a CSV reader reads a lone carriage return as a line end)
            assert "'" + name in cells, name
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_the_audit_export_is_inert(client, tree, alice):
    from gocua.accounts.services import audit_record

    audit_record(user=alice, action="export", object_type=EVIL[1], object_id=EVIL[0], unit=tree.kp1)
    client.force_login(alice)
    body = b"".join(client.get("/accounts/audit/export.csv").streaming_content).decode()
    cells = [c for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) for c in row]
    assert "'" + EVIL[0] in cells and "'" + EVIL[1] in cells
