"""Reports as files: the report a province sends to its People's Committee (XLSX and CSV, the
same rows), and the daily snapshot of a date range.

The committee report has one sheet per level (province, districts, communes, hamlets) under
the chosen unit, a row per unit, Vietnamese headers, number and date formats, a frozen header
and a totals row (Excel formulas, with their values cached so that viewers without a
calculation engine show them too). "Target" is the registration target (dossiers received):
goal = ceil(target x eligible); the remaining, required daily pace, 7-day pace and projected
date are for that goal (definitions: gocua/reports/pace.py).
"""

import datetime as dt
import io
import math

from xlsxwriter.utility import xl_rowcol_to_cell

from gocua.geo.models import AdminUnit, Level
from gocua.lib.spreadsheet import csv_writer, workbook
from gocua.reports.models import FLOW_COLUMNS, STOCK_COLUMNS, UnitDay
from gocua.reports.pace import STATUS_LABELS

LEVEL_SHEETS = {
    Level.PROVINCE: "Tỉnh",
    Level.DISTRICT: "Huyện",
    Level.COMMUNE: "Xã",
    Level.HAMLET: "Ấp - Khu phố",
}
LEVEL_ORDER = list(LEVEL_SHEETS)
TITLE = "BÁO CÁO KẾT QUẢ THU NHẬN HỒ SƠ VÀ KÍCH HOẠT TÀI KHOẢN ĐỊNH DANH ĐIỆN TỬ MỨC ĐỘ 2"

# (key, header, kind): kind is how a cell is written and summed in the totals row.
#   int: a count (summed); pct: a rate (recomputed from the totals: numerator / denominator);
#   dec: a pace (summed); date; text; target: a fraction shown as %, not totalled.
COMMITTEE_COLUMNS = [
    ("unit_code", "Mã đơn vị", "text"),
    ("unit_name", "Tên đơn vị", "text"),
    ("eligible", "Số công dân đủ điều kiện", "int"),
    ("registration_target", "Chỉ tiêu (%)", "target"),
    ("registration_goal", "Chỉ tiêu (hồ sơ)", "int"),
    ("registered", "Hồ sơ đã thu nhận", "int"),
    ("registration_percent_of_target", "% chỉ tiêu", ("pct", "registered", "registration_goal")),
    ("approved", "Đã duyệt", "int"),
    ("failed", "Không đạt", "int"),
    ("activated", "Đã kích hoạt", "int"),
    ("activation_rate", "Tỷ lệ kích hoạt", ("pct", "activated", "eligible")),
    ("used", "Đã sử dụng", "int"),
    ("usage_rate", "Tỷ lệ sử dụng", ("pct", "used", "eligible")),
    ("registration_remaining", "Còn phải thu nhận", "int"),
    ("registration_required_pace", "Tiến độ cần đạt (hồ sơ/ngày)", "dec"),
    ("registration_pace_7d", "Tiến độ 7 ngày qua (hồ sơ/ngày)", "dec"),
    ("registration_projected_date", "Dự kiến đạt chỉ tiêu", "date"),
    ("registration_status", "Đánh giá", "text"),
]
LEADING = ["STT", "Cấp"]  # row number; the level (CSV only, a sheet is one level)


def _cell_value(row: dict, key: str, kind) -> object:
    value = row.get(key)
    if kind == "date":
        return dt.date.fromisoformat(value) if value else None
    if key.endswith("_status"):
        return STATUS_LABELS.get(value, "") if value else ""
    return value


def committee_rows(rows: list[dict]) -> dict[str, list[dict]]:
    """KPI rows grouped by level, in the levels' order (one sheet each)."""
    by_level: dict[str, list[dict]] = {}
    for level in LEVEL_ORDER:
        of_level = [r for r in rows if r["level"] == level]
        if of_level:
            by_level[level] = of_level
    return by_level


def _totals(rows: list[dict]) -> dict:
    """The totals of a level's rows (what the formulas compute, cached for viewers)."""
    total: dict = {}
    for key, _label, kind in COMMITTEE_COLUMNS:
        if kind in ("int", "dec"):
            total[key] = sum(r.get(key) or 0 for r in rows)
    for key, _label, kind in COMMITTEE_COLUMNS:
        if isinstance(kind, tuple):
            _pct, num, den = kind
            total[key] = round(total[num] / total[den], 4) if total[den] else 0.0
    total["registration_required_pace"] = round(total["registration_required_pace"], 2)
    total["registration_pace_7d"] = round(total["registration_pace_7d"], 2)
    pace = total["registration_pace_7d"]
    remaining = total["registration_remaining"]
    if rows and rows[0].get("day") and remaining == 0:
        total["registration_projected_date"] = rows[0]["day"]
    elif rows and rows[0].get("day") and pace > 0:
        day = dt.date.fromisoformat(rows[0]["day"])
        total["registration_projected_date"] = (
            day + dt.timedelta(days=math.ceil(remaining / pace))
        ).isoformat()
    return total


def committee_xlsx(rows: list[dict], output, *, unit: AdminUnit, on: dt.date) -> None:
    """Write the committee report of `rows` (kpi_rows of `unit`) to a path or a binary file."""
    options = {"in_memory": True} if not isinstance(output, str) else {}
    book = workbook(output, options)
    title = book.add_format({"bold": True, "font_size": 13})
    subtitle = book.add_format({"italic": True})
    head = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter",
         "align": "center"}
    )  # fmt: skip
    formats = {
        "int": book.add_format({"num_format": "#,##0", "border": 1}),
        "dec": book.add_format({"num_format": "#,##0.0", "border": 1}),
        "pct": book.add_format({"num_format": "0.0%", "border": 1}),
        "target": book.add_format({"num_format": "0%", "border": 1}),
        "date": book.add_format({"num_format": "dd/mm/yyyy", "border": 1}),
        "text": book.add_format({"border": 1}),
    }
    bold = {
        name: book.add_format({**props, "bold": True, "bg_color": "#F2F2F2"})
        for name, props in (
            ("int", {"num_format": "#,##0", "border": 1}),
            ("dec", {"num_format": "#,##0.0", "border": 1}),
            ("pct", {"num_format": "0.0%", "border": 1}),
            ("date", {"num_format": "dd/mm/yyyy", "border": 1}),
            ("text", {"border": 1}),
        )
    }
    deadline = next((r.get("deadline") for r in rows if r.get("deadline")), None)
    header_row = 3
    for level, level_rows in committee_rows(rows).items():
        sheet = book.add_worksheet(LEVEL_SHEETS[level])
        sheet.write(0, 0, TITLE, title)
        note = f"Đơn vị: {unit.name} ({unit.code}) · Số liệu ngày {on:%d/%m/%Y}"
        if deadline:
            note += f" · Hạn hoàn thành {dt.date.fromisoformat(deadline):%d/%m/%Y}"
        sheet.write(1, 0, note, subtitle)
        sheet.write(header_row, 0, "STT", head)
        for col, (_key, label, _kind) in enumerate(COMMITTEE_COLUMNS, start=1):
            sheet.write(header_row, col, label, head)
        sheet.set_row(header_row, 45)
        first = header_row + 1
        for i, row in enumerate(level_rows):
            r = first + i
            sheet.write_number(r, 0, i + 1, formats["int"])
            for col, (key, _label, kind) in enumerate(COMMITTEE_COLUMNS, start=1):
                fmt = formats["pct" if isinstance(kind, tuple) else kind]
                value = _cell_value(row, key, kind)
                if value is None or value == "":
                    sheet.write_blank(r, col, None, fmt)
                elif kind == "date":
                    sheet.write_datetime(r, col, dt.datetime.combine(value, dt.time()), fmt)
                else:
                    sheet.write(r, col, value, fmt)
        last = first + len(level_rows) - 1
        total_row = last + 1
        totals = _totals(level_rows)
        columns = {key: col for col, (key, _l, _k) in enumerate(COMMITTEE_COLUMNS, start=1)}
        sheet.write(total_row, 0, "", bold["text"])
        sheet.write(total_row, 1, "Tổng cộng", bold["text"])
        sheet.write(total_row, 2, f"{len(level_rows)} đơn vị", bold["text"])
        for key, _label, kind in COMMITTEE_COLUMNS[2:]:
            col = columns[key]
            if kind in ("int", "dec"):
                span = f"{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)}"
                sheet.write_formula(total_row, col, f"=SUM({span})", bold[kind], totals[key])
            elif isinstance(kind, tuple):
                num = xl_rowcol_to_cell(total_row, columns[kind[1]])
                den = xl_rowcol_to_cell(total_row, columns[kind[2]])
                sheet.write_formula(
                    total_row, col, f"=IF({den}=0,0,{num}/{den})", bold["pct"], totals[key]
                )
            elif kind == "date" and totals.get(key):
                day = dt.date.fromisoformat(totals[key])
                sheet.write_datetime(total_row, col, dt.datetime.combine(day, dt.time()),
                                     bold["date"])  # fmt: skip
            else:
                sheet.write_blank(total_row, col, None, bold["text"])
        sheet.freeze_panes(header_row + 1, 3)
        sheet.set_column(0, 0, 5)
        sheet.set_column(1, 1, 11)
        sheet.set_column(2, 2, 30)
        sheet.set_column(3, len(COMMITTEE_COLUMNS), 13)
        sheet.autofilter(header_row, 0, last, len(COMMITTEE_COLUMNS))
    if not committee_rows(rows):
        book.add_worksheet("Báo cáo").write(0, 0, TITLE, title)
    book.close()


def committee_csv(rows: list[dict], stream) -> None:
    """The committee report's rows as CSV (UTF-8 with BOM so Excel reads the diacritics):
    one row per unit, the level in a column, the same columns as the sheets."""
    stream.write("\ufeff")
    writer = csv_writer(stream)
    writer.writerow([*LEADING, *(label for _k, label, _kind in COMMITTEE_COLUMNS)])
    for level, level_rows in committee_rows(rows).items():
        for i, row in enumerate(level_rows, start=1):
            cells = []
            for key, _label, kind in COMMITTEE_COLUMNS:
                value = _cell_value(row, key, kind)
                if kind == "date" and value:
                    value = value.strftime("%d/%m/%Y")
                cells.append("" if value is None else value)
            writer.writerow([i, LEVEL_SHEETS[level], *cells])


# --- daily snapshots -------------------------------------------------------------------------

SNAPSHOT_COLUMNS = [
    ("day", "Ngày"), ("unit_code", "Mã đơn vị"), ("unit_name", "Tên đơn vị"), ("level", "Cấp"),
    ("eligible", "Đủ điều kiện"), ("registered", "Đã thu nhận"), ("approved", "Đã duyệt"),
    ("failed", "Không đạt"), ("activated", "Đã kích hoạt"), ("used", "Đã sử dụng"),
    ("level2", "Tài khoản mức 2"), ("registration_rate", "Tỷ lệ đăng ký"),
    ("activation_rate", "Tỷ lệ kích hoạt"), ("usage_rate", "Tỷ lệ sử dụng"),
    ("visits", "Lượt thăm hộ"), ("households", "Hộ đã đến"), ("contacted", "Lượt gặp được"),
]  # fmt: skip


def snapshot_rows(units: list[AdminUnit], first: dt.date, last: dt.date) -> list[dict]:
    """One row per (day, unit) from the rollups, in day then tree order: two queries."""
    from gocua.reports.selectors import stock_series

    ids = [u.id for u in units]
    stocks = stock_series(ids, first, last)
    flows = {
        (r["unit_id"], r["day"]): r
        for r in UnitDay.objects.filter(unit_id__in=ids, day__gte=first, day__lte=last).values(
            "unit_id", "day", *FLOW_COLUMNS
        )
    }
    out = []
    for i in range((last - first).days + 1):
        for unit in units:
            day, stock = stocks[unit.id][i]
            flow = flows.get((unit.id, day)) or {}
            counts = {**stock, **{c: flow.get(c, 0) for c in FLOW_COLUMNS}}
            eligible = sum(counts[c] for c in STOCK_COLUMNS[:6])
            registered = eligible - counts["st_none"]
            activated = counts["st_activated"] + counts["st_used"]

            def rate(n: int, eligible: int = eligible) -> float:
                return round(n / eligible, 4) if eligible else 0.0

            out.append(
                {
                    "day": day.isoformat(), "unit_code": unit.code, "unit_name": unit.name,
                    "level": unit.level, "eligible": eligible, "registered": registered,
                    "approved": counts["st_approved"], "failed": counts["st_failed"],
                    "activated": activated, "used": counts["st_used"], "level2": counts["level2"],
                    "registration_rate": rate(registered), "activation_rate": rate(activated),
                    "usage_rate": rate(counts["st_used"]), "visits": counts["visits"],
                    "households": counts["households"], "contacted": counts["contacted"],
                }
            )  # fmt: skip
    return out


def snapshot_csv(rows: list[dict], stream) -> None:
    stream.write("\ufeff")
    writer = csv_writer(stream)
    writer.writerow([label for _k, label in SNAPSHOT_COLUMNS])
    for row in rows:
        writer.writerow([row[key] for key, _label in SNAPSHOT_COLUMNS])


def snapshot_xlsx(rows: list[dict], output) -> None:
    options = {"in_memory": True} if not isinstance(output, str) else {"constant_memory": True}
    book = workbook(output, options)
    sheet = book.add_worksheet("Số liệu theo ngày")
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    pct = book.add_format({"num_format": "0.0%"})
    num = book.add_format({"num_format": "#,##0"})
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    for col, (_key, label) in enumerate(SNAPSHOT_COLUMNS):
        sheet.write(0, col, label, head)
    for r, row in enumerate(rows, start=1):
        for col, (key, _label) in enumerate(SNAPSHOT_COLUMNS):
            value = row[key]
            if key == "day":
                sheet.write_datetime(r, col, dt.datetime.fromisoformat(value), date)
            elif key.endswith("_rate"):
                sheet.write_number(r, col, value, pct)
            elif isinstance(value, int):
                sheet.write_number(r, col, value, num)
            else:
                sheet.write(r, col, value)
    sheet.freeze_panes(1, 3)
    sheet.set_column(0, 1, 11)
    sheet.set_column(2, 2, 28)
    book.close()


def text_stream() -> io.StringIO:
    return io.StringIO(newline="")
