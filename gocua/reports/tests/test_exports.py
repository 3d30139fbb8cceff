"""The People's Committee report (XLSX and CSV) and the daily snapshot, read back cell by cell."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import make_resident
from gocua.reports import rollups

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(tree, campaign):
    """Xã A: KP1 2 registered, 1 activated, 1 none; KP2 1 used, 1 failed.
    Xã B: 3 none in its KP1. Thị trấn Tân Biên: 1 approved, no hamlet. Plus a child of 10."""
    for stage in ("registered", "registered", "activated", "none"):
        make_resident(tree.kp1, stage=stage)
    make_resident(tree.kp2, stage="used")
    make_resident(tree.kp2, stage="failed")
    for _ in range(3):
        make_resident(tree.b_kp1)
    make_resident(tree.xa_c, stage="approved")
    make_resident(tree.kp1, born=timezone.localdate().replace(year=2016, day=1))
    rollups.rollup_rebuild()


def values(sheet, row: int) -> list:
    return [cell.value for cell in sheet[row]]


def test_it_exports_a_daily_snapshot_for_a_date_range(population, tree, tmp_path, capsys):
    today = timezone.localdate()
    first = today - dt.timedelta(days=2)
    call_command(
        "report", "snapshot", "--unit", "25456", "--from", first.isoformat(), "--depth", "1"
    )
    table = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert table[0][:6] == [
        "Ngày",
        "Mã đơn vị",
        "Tên đơn vị",
        "Cấp",
        "Công dân đủ điều kiện",
        "Đã thu nhận hồ sơ (lũy kế)",
    ]
    assert len(table) == 1 + 3 * 3  # 3 days x (the commune and its 2 hamlets)
    assert table[1][:6] == [first.isoformat(), "25456", "Phường 1", "Xã/Phường", "6", "5"]
    assert table[-1][:5] == [today.isoformat(), "25456-02", "Khu phố 2", "Ấp/Khu phố", "2"]
    path = tmp_path / "snap.xlsx"
    call_command(
        "report",
        "snapshot",
        "--unit",
        "25456",
        "--from",
        first.isoformat(),
        "--format",
        "xlsx",
        "--output",
        str(path),
    )
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A2"].value == dt.datetime.combine(first, dt.time())
    assert sheet["E2"].value == 6 and sheet["L2"].number_format == "0.0%"
