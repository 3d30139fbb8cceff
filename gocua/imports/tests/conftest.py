import csv

import openpyxl
import pytest

from gocua.geo.services import units_load

EN = [
    "national_id",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "unit_code",
    "hamlet",
    "household_id",
    "address",
]
VI = [
    "STT",
    "Số định danh cá nhân",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số điện thoại",
    "Mã xã",
    "Ấp",
    "Mã hộ",
    "Địa chỉ",
]

# Synthetic people in Phường 1 (25456) and Phường 3 (25459) of Tây Ninh city.
AN = [
    "072090001234",
    "Nguyễn Văn An",
    "05/03/1990",
    "Nam",
    "0912345678",
    "25456",
    "Khu phố 1",
    "H001",
    "12 Trần Hưng Đạo",
]
BINH = [
    "072195001235",
    "Trần Thị Bình",
    "1995",
    "Nữ",
    "",
    "25456",
    "Khu phố 1",
    "H001",
    "12 Trần Hưng Đạo",
]
CUONG = [
    "072200001236",
    "Lê Văn Cường",
    "2000-07-01",
    "M",
    "+84 345 678 901",
    "25459",
    "Khu phố 2",
    "H002",
    "5 Lê Lợi",
]


@pytest.fixture
def tay_ninh(db):
    units_load(province_code="72", edition=2023)


@pytest.fixture
def write_csv(tmp_path):
    def write(
        rows,
        *,
        header=EN,
        name="people.csv",
        delimiter=",",
        bom=False,
        crlf=False,
        titles=(),
        encoding="utf-8",
    ):
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig" if bom else encoding, newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
            for title in titles:
                writer.writerow(title)
            writer.writerow(header)
            writer.writerows(rows)
        return str(path)

    return write


@pytest.fixture
def write_xlsx(tmp_path):
    def write(sheets: dict[str, list[list]], name="people.xlsx"):
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        path = tmp_path / name
        book.save(path)
        return str(path)

    return write


def read_rejects(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))
