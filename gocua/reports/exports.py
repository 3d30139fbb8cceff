"""Excel exports of KPI rows."""

import xlsxwriter

HEADERS_VI = [
    ("unit_code", "Mã đơn vị"),
    ("unit_name", "Tên đơn vị"),
    ("level", "Cấp"),
    ("eligible", "Số công dân đủ điều kiện"),
    ("registered", "Đã thu nhận hồ sơ"),
    ("approved", "Đã duyệt"),
    ("failed", "Không đạt"),
    ("activated", "Đã kích hoạt"),
    ("used", "Đã sử dụng"),
    ("registration_rate", "Tỷ lệ đăng ký"),
    ("activation_rate", "Tỷ lệ kích hoạt"),
    ("usage_rate", "Tỷ lệ sử dụng"),
]


def kpi_xlsx(rows: list[dict], path: str, *, title: str) -> None:
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("KPI")
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    pct = book.add_format({"num_format": "0.0%"})
    num = book.add_format({"num_format": "#,##0"})
    sheet.write(0, 0, title, book.add_format({"bold": True, "font_size": 13}))
    for col, (_, label) in enumerate(HEADERS_VI):
        sheet.write(2, col, label, bold)
    for r, row in enumerate(rows, start=3):
        for col, (key, _) in enumerate(HEADERS_VI):
            value = row[key]
            fmt = pct if key.endswith("_rate") else num if isinstance(value, int) else None
            sheet.write(r, col, value, fmt)
    sheet.freeze_panes(3, 2)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 32)
    sheet.set_column(2, len(HEADERS_VI) - 1, 14)
    book.close()
