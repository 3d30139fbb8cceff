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
from gocua.reports.exports import committee_csv
from gocua.reports.selectors import kpi_rows

pytestmark = pytest.mark.django_db
HEADER = [
    "STT", "Mã đơn vị", "Tên đơn vị", "Số công dân đủ điều kiện", "Chỉ tiêu (%)",
    "Chỉ tiêu (hồ sơ)", "Hồ sơ đã thu nhận", "% chỉ tiêu", "Đã duyệt", "Không đạt",
    "Đã kích hoạt", "Tỷ lệ kích hoạt", "Đã sử dụng", "Tỷ lệ sử dụng", "Còn phải thu nhận",
    "Tiến độ cần đạt (hồ sơ/ngày)", "Tiến độ 7 ngày qua (hồ sơ/ngày)", "Dự kiến đạt chỉ tiêu",
    "Đánh giá",
]  # fmt: skip


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


def test_it_writes_one_sheet_per_level_with_totals(population, tree, tmp_path):
    path = tmp_path / "bao-cao.xlsx"
    call_command("report", "kpi", "--unit", "72", "--depth", "3", "--format", "xlsx",
                 "--output", str(path))  # fmt: skip
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tỉnh", "Huyện", "Xã", "Ấp - Khu phố"]
    today = timezone.localdate()
    deadline = today + dt.timedelta(days=40)
    communes = book["Xã"]
    assert communes["A1"].value.startswith("BÁO CÁO KẾT QUẢ THU NHẬN HỒ SƠ")
    assert communes["A2"].value == (
        f"Đơn vị: Tỉnh Tây Ninh (72) · Số liệu ngày {today:%d/%m/%Y} · "
        f"Hạn hoàn thành {deadline:%d/%m/%Y}"
    )
    assert values(communes, 4) == HEADER
    assert communes.freeze_panes == "D5"

    phuong_1 = values(communes, 5)
    assert phuong_1[:7] == [1, "25456", "Phường 1", 6, 1, 6, 5]
    assert phuong_1[7] == pytest.approx(5 / 6, abs=1e-4)
    assert phuong_1[8:11] == [0, 1, 2]
    assert phuong_1[11] == pytest.approx(2 / 6, abs=1e-4)
    assert phuong_1[12] == 1
    assert phuong_1[13] == pytest.approx(1 / 6, abs=1e-4)
    assert phuong_1[14] == 1  # remaining to the registration goal
    assert phuong_1[15] == pytest.approx(1 / 40, abs=0.01)  # over the 40 days left
    assert phuong_1[16] == 0  # nothing registered in the last 7 days
    assert phuong_1[17] is None  # no projected date without progress
    assert phuong_1[18] == "Chậm tiến độ"
    assert values(communes, 6)[:7] == [2, "25459", "Phường 3", 3, 1, 3, 0]
    assert values(communes, 7)[:7] == [3, "25489", "Thị trấn Tân Biên", 1, 1, 1, 1]
    assert values(communes, 7)[18] == "Đúng tiến độ"  # its goal is reached

    totals = values(communes, 8)
    assert totals[1:3] == ["Tổng cộng", "3 đơn vị"]
    assert totals[3] == "=SUM(D5:D7)" and totals[6] == "=SUM(G5:G7)"
    assert totals[7] == "=IF(F8=0,0,G8/F8)"
    assert totals[11] == "=IF(D8=0,0,K8/D8)"
    assert communes["D5"].number_format == "#,##0"
    assert communes["H5"].number_format == "0.0%"
    assert communes["E5"].number_format == "0%"
    assert communes["P5"].number_format == "#,##0.0"
    assert communes["A8"].font.b or communes["B8"].font.b

    cached = openpyxl.load_workbook(path, data_only=True)["Xã"]
    assert values(cached, 8)[3:7] == [10, None, 10, 6]
    assert values(cached, 8)[7] == pytest.approx(0.6, abs=1e-4)
    assert values(cached, 8)[14] == 4

    province = values(book["Tỉnh"], 5)
    assert province[:7] == [1, "72", "Tỉnh Tây Ninh", 10, 1, 10, 6]
    hamlets = book["Ấp - Khu phố"]
    assert [values(hamlets, r)[1] for r in (5, 6, 7)] == ["25456-01", "25456-02", "25459-01"]
    assert values(hamlets, 5)[3] == 4  # the child of 10 is not counted
    assert values(hamlets, 8)[1] == "Tổng cộng"


def test_it_writes_the_same_rows_as_csv(population, tree):
    rows = kpi_rows(tree.province, depth=3)
    stream = io.StringIO()
    committee_csv(rows, stream)
    text = stream.getvalue()
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == ["STT", "Cấp", *HEADER[1:]]
    assert len(table) == 1 + 1 + 2 + 3 + 3
    assert table[4][:8] == ["1", "Xã", "25456", "Phường 1", "6", "1.0", "6", "5"]
    assert table[6][-1] == "Đúng tiến độ"


def test_it_exports_a_daily_snapshot_for_a_date_range(population, tree, tmp_path, capsys):
    today = timezone.localdate()
    first = today - dt.timedelta(days=2)
    call_command("report", "snapshot", "--unit", "25456", "--from", first.isoformat(),
                 "--depth", "1")  # fmt: skip
    table = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert table[0][:6] == ["Ngày", "Mã đơn vị", "Tên đơn vị", "Cấp", "Đủ điều kiện",
                            "Đã thu nhận"]  # fmt: skip
    assert len(table) == 1 + 3 * 3  # 3 days x (the commune and its 2 hamlets)
    assert table[1][:6] == [first.isoformat(), "25456", "Phường 1", "commune", "6", "5"]
    assert table[-1][:5] == [today.isoformat(), "25456-02", "Khu phố 2", "hamlet", "2"]
    path = tmp_path / "snap.xlsx"
    call_command("report", "snapshot", "--unit", "25456", "--from", first.isoformat(),
                 "--format", "xlsx", "--output", str(path))  # fmt: skip
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A2"].value == dt.datetime.combine(first, dt.time())
    assert sheet["E2"].value == 6 and sheet["L2"].number_format == "0.0%"
