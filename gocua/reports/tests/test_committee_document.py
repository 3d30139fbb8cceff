"""The People's Committee report as the document an official files: letterhead, title, place
and date, signature block, print setup, parents of each unit, the pace of the three metrics,
and figures named as on the dashboard."""

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from gocua.reports.exports import committee_csv, place_and_date
from gocua.reports.selectors import kpi_rows
from gocua.reports.tests.test_exports import population  # noqa: F401 — the shared fixture

pytestmark = pytest.mark.django_db
FIRST = 10  # the first data row: 7 heading rows, then two header rows


@pytest.fixture
def book(population, tmp_path):  # noqa: F811
    path = tmp_path / "bao-cao.xlsx"
    call_command(
        "report", "kpi", "--unit", "72", "--depth", "3", "--format", "xlsx", "--output", str(path)
    )
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def _labels(sheet) -> list[str]:
    """Each column's name: the lower header row, or the upper one where the two are merged."""
    return [
        sheet.cell(9, c).value or sheet.cell(8, c).value for c in range(1, sheet.max_column + 1)
    ]


def _row(sheet, r: int) -> dict:
    return dict(zip(_labels(sheet), (c.value for c in sheet[r]), strict=False))


def test_place_and_date_are_written_as_official_documents_write_them():
    assert place_and_date("Tây Ninh", dt.date(2025, 11, 5)) == "Tây Ninh, ngày 05 tháng 11 năm 2025"
    assert place_and_date("Tây Ninh", dt.date(2026, 2, 14)) == "Tây Ninh, ngày 14 tháng 02 năm 2026"


def test_every_sheet_has_the_heading_title_place_date_and_signature_block(book):
    written, _cached = book
    assert written.sheetnames == ["Tỉnh", "Huyện", "Xã", "Ấp - Khu phố"]
    today = timezone.localdate()
    for sheet in written.worksheets:
        cells = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells
        assert "Độc lập - Tự do - Hạnh phúc" in cells
        assert "BỘ CÔNG AN" in cells and "CÔNG AN TỈNH TÂY NINH" in cells  # the issuing unit
        assert place_and_date("Tây Ninh", today) in cells  # the province of the tree
        assert any(c.startswith("BÁO CÁO KẾT QUẢ THU NHẬN HỒ SƠ") for c in cells)
        assert "NGƯỜI LẬP BIỂU" in cells and "THỦ TRƯỞNG ĐƠN VỊ" in cells
        assert "(Ký, ghi rõ họ tên, đóng dấu)" in cells


def test_every_sheet_prints_landscape_one_page_wide_with_repeated_header_rows(book):
    written, _cached = book
    for sheet, frozen in zip(written.worksheets, ("D10", "D10", "E10", "F10"), strict=True):
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the file format's default
        assert sheet.page_setup.fitToHeight == 0  # as many pages tall as it takes
        assert sheet.print_title_rows == "$8:$9"
        assert sheet.freeze_panes == frozen  # the header rows, the unit's code and name


def test_hamlets_and_communes_carry_their_district_and_commune(book):
    written, _cached = book
    hamlets = written["Ấp - Khu phố"]
    assert _labels(hamlets)[:5] == ["STT", "Quận/Huyện", "Xã/Phường", "Mã đơn vị", "Tên đơn vị"]
    names = [[c.value for c in hamlets[r]][1:5] for r in (FIRST, FIRST + 1, FIRST + 2)]
    assert names == [
        ["Thành phố Tây Ninh", "Phường 1", "25456-01", "Khu phố 1"],
        ["Thành phố Tây Ninh", "Phường 1", "25456-02", "Khu phố 2"],
        ["Thành phố Tây Ninh", "Phường 3", "25459-01", "Khu phố 1"],
    ]
    communes = written["Xã"]
    assert [c.value for c in communes[FIRST + 2]][1:4] == [
        "Huyện Tân Biên",
        "25489",
        "Thị trấn Tân Biên",
    ]


def test_registration_activation_and_usage_each_have_their_pace_and_projected_date(book):
    written, cached = book
    sheet = written["Xã"]
    groups = [
        c.value for c in sheet[8] if c.value in ("Đăng ký (thu nhận hồ sơ)", "Kích hoạt", "Sử dụng")
    ]
    assert groups == ["Đăng ký (thu nhận hồ sơ)", "Kích hoạt", "Sử dụng"]
    low = [c.value for c in sheet[9]]
    for name in (
        "Còn thiếu so với chỉ tiêu",
        "Cần đạt (người/ngày)",
        "7 ngày qua (người/ngày)",
        "Dự kiến đạt chỉ tiêu",
        "Đánh giá",
        "Tỷ lệ",
        "Chỉ tiêu",
    ):
        assert low.count(name) == 3, name
    phuong_1 = [c.value for c in sheet[FIRST]]
    statuses = [v for v, label in zip(phuong_1, low, strict=False) if label == "Đánh giá"]
    assert statuses == ["Chậm tiến độ"] * 3  # no progress in the last 7 days, 40 days left
    required = [
        v for v, label in zip(phuong_1, low, strict=False) if label == "Cần đạt (người/ngày)"
    ]
    # Over the 40 days left: registration 6 - 5 = 1, activation 6 - 2 = 4, usage 3 to go.
    assert required == [
        pytest.approx(1 / 40, abs=0.01),
        pytest.approx(4 / 40),
        pytest.approx(3 / 40, abs=0.01),
    ]
    totals = [c.value for c in cached["Xã"][FIRST + 3]]
    assert "Tổng cộng" in totals
    assert [v for v, label in zip(totals, low, strict=False) if label == "Đánh giá"] == [
        "Chậm tiến độ"
    ] * 3


def test_the_csv_has_the_same_columns_with_the_parents(population, tree):  # noqa: F811
    stream = io.StringIO()
    committee_csv(kpi_rows(tree.province, depth=3), stream, unit=tree.province)
    table = list(csv.reader(io.StringIO(stream.getvalue()[1:])))
    assert table[0][:6] == ["STT", "Cấp", "Quận/Huyện", "Xã/Phường", "Mã đơn vị", "Tên đơn vị"]
    assert "Kích hoạt - Dự kiến đạt chỉ tiêu" in table[0]
    assert "Sử dụng - Cần đạt (người/ngày)" in table[0]
    hamlet = next(r for r in table if r[4] == "25459-01")
    assert hamlet[1:5] == ["Ấp - Khu phố", "Thành phố Tây Ninh", "Phường 3", "25459-01"]


def test_no_label_carries_two_figures_across_the_report_and_the_dashboard(book, client, alice):
    written, cached = book
    report = _row(cached["Tỉnh"], FIRST)
    client.force_login(alice)
    page = client.get("/dashboard/2023/72/").content.decode()
    funnel = re.search(r'<svg class="chart funnel".*?</svg>', page, re.S).group(0)
    dashboard = {
        label: int(value.replace(".", ""))
        for label, value in re.findall(
            r'<text class="label"[^>]*>([^<]+)</text><rect[^>]*/><text class="value"[^>]*>'
            r"([\d.]+) ·",
            funnel,
        )
    }
    stocks = re.search(r'<text class="muted stock"[^>]*>([^<]+)</text>', funnel).group(1)
    for part in stocks.split(" · "):
        label, value = part.rsplit(": ", 1)
        dashboard[label] = int(value.replace(".", ""))
    shared = set(report) & set(dashboard)
    assert {
        "Công dân đủ điều kiện",
        "Đã thu nhận hồ sơ (lũy kế)",
        "Đã kích hoạt (lũy kế)",
        "Đã sử dụng",
        "Đã duyệt, chờ kích hoạt",
        "Không đạt, phải thu nhận lại",
    } <= shared
    assert all(report[label] == dashboard[label] for label in shared), {
        label: (report[label], dashboard[label]) for label in shared
    }
    # The cumulative and the stock of approval are two figures under two names.
    assert dashboard["Đã duyệt (lũy kế)"] != dashboard["Đã duyệt, chờ kích hoạt"]
    assert "Đã duyệt" not in dashboard and "Đã duyệt" not in report
