"""`gocua report kpi` on imported data, in each format (the KPI maths: gocua/reports/tests)."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command

from gocua.imports.citizens import citizens_import
from gocua.imports.stages import stages_import
from gocua.imports.tests.conftest import AN, BINH, CUONG

pytestmark = pytest.mark.django_db
CHILD = ["072315001237", "Lê Thị Dung", "01/06/2015", "Nữ", "", "25456", "Khu phố 1", "H001", ""]
KEYS = [
    "unit_code",
    "unit_name",
    "level",
    "eligible",
    "registered",
    "approved",
    "failed",
    "activated",
    "used",
    "registration_rate",
    "activation_rate",
    "usage_rate",
]


@pytest.fixture
def imported(tay_ninh, write_csv):
    citizens_import(write_csv([AN, BINH, CUONG, CHILD]), edition=2023)
    stages_import(
        write_csv(
            [
                [AN[0], "Đã kích hoạt", "2020-11-20"],
                [BINH[0], "Không đạt", "2026-11-20"],
                [CUONG[0], "Đã sử dụng", "2026-11-21"],
            ],
            header=["national_id", "eid_stage", "stage_at"],
            name="s.csv",
        )
    )


@pytest.fixture
def kpi(capsys):
    def run(*args):
        capsys.readouterr()
        call_command("report", "kpi", *args)
        return capsys.readouterr().out

    return run


def test_json_rows_have_the_contract_keys_and_the_funnel(imported, kpi):
    data = json.loads(kpi("--unit", "703", "--format", "json"))
    city = data["rows"][0]
    assert list(city)[: len(KEYS)] == KEYS
    # The 11-year-old is not eligible (minimum age 14): 3 eligible.
    assert (
        city["unit_code"],
        city["eligible"],
        city["registered"],
        city["failed"],
        city["activated"],
        city["used"],
    ) == ("703", 3, 3, 1, 2, 1)
    assert city["registration_rate"] == 1.0
    assert city["activation_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert city["usage_rate"] == pytest.approx(1 / 3, abs=1e-4)
    children = {row["unit_code"]: row for row in data["rows"][1:]}
    assert children["25456"]["eligible"] == 2 and children["25459"]["eligible"] == 1
    assert children["25462"]["eligible"] == 0 and children["25462"]["registration_rate"] == 0


def test_depth_reaches_the_hamlets(imported, kpi):
    data = json.loads(kpi("--unit", "25456", "--depth", "1", "--format", "json"))
    assert [r["unit_name"] for r in data["rows"]] == ["Phường 1", "Khu phố 1"]
    only = json.loads(kpi("--unit", "25456", "--depth", "0", "--format", "json"))
    assert len(only["rows"]) == 1


def test_csv_and_table_formats(imported, kpi):
    rows = list(csv.DictReader(io.StringIO(kpi("--unit", "703", "--format", "csv"))))
    assert list(rows[0])[: len(KEYS)] == KEYS and rows[0]["eligible"] == "3"
    assert "Thành phố Tây Ninh" in kpi("--unit", "703")


def test_xlsx_report_opens_back(imported, kpi, tmp_path):
    path = tmp_path / "kpi.xlsx"
    kpi("--unit", "703", "--format", "xlsx", "--output", str(path))
    book = openpyxl.load_workbook(path)
    values = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    flat = [v for row in values for v in row if v is not None]
    assert "Thành phố Tây Ninh" in flat and 3 in flat
