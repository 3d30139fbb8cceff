"""Reports as files: the report a province sends to its People's Committee (XLSX and CSV, the
same rows), and the daily snapshot of a date range.

The committee report is a document an official files and signs. Each sheet (one per level under
the chosen unit: province, districts, communes, hamlets) carries the issuing unit and the
national heading, the place and date, a title, the table and a signature block; it prints on
A3 landscape, one page wide, its header rows repeated on every page, and scrolls with the header
and the unit's name frozen. A row per unit, under the names of its district and commune (730
hamlets called "Khu phố 1" mean nothing without them), with the figures named as on the
dashboard (gocua/reports/labels.py) and, for each of registration, activation and usage: the
target, the rate, what remains, the required and the 7-day daily pace and the projected date
with its assessment (definitions: gocua/reports/pace.py). A totals row uses Excel formulas,
their values cached so that viewers without a calculation engine show them too.
"""

import datetime as dt
import io
import math

from xlsxwriter.utility import xl_rowcol_to_cell

from gocua.geo.models import AdminUnit, Level
from gocua.lib.spreadsheet import csv_writer, workbook
from gocua.people.funnel import ACTIVATED_STAGES, REGISTERED_STAGES
from gocua.reports.dashboard import ancestors_of
from gocua.reports.labels import FIGURE_LABELS
from gocua.reports.models import FLOW_COLUMNS, STOCK_COLUMNS, UnitDay
from gocua.reports.pace import STATUS_LABELS, status_of
from gocua.reports.selectors import stock_series

LEVEL_SHEETS: dict[str, str] = {
    Level.PROVINCE: "Tỉnh",
    Level.DISTRICT: "Huyện",
    Level.COMMUNE: "Xã",
    Level.HAMLET: "Ấp - Khu phố",
}
LEVEL_ORDER = list(LEVEL_SHEETS)
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TITLE = "BÁO CÁO KẾT QUẢ THU NHẬN HỒ SƠ VÀ KÍCH HOẠT TÀI KHOẢN ĐỊNH DANH ĐIỆN TỬ MỨC ĐỘ 2"
PREPARED_BY = "NGƯỜI LẬP BIỂU"
HEAD_OF_UNIT = "THỦ TRƯỞNG ĐƠN VỊ"
SIGN_HINT = "(Ký, ghi rõ họ tên)"
SEAL_HINT = "(Ký, ghi rõ họ tên, đóng dấu)"
NOTES = (
    "Ghi chú: (lũy kế) = mọi công dân đã đến bước đó hoặc đã qua bước đó; "
    f"«{FIGURE_LABELS['approved']}» và «{FIGURE_LABELS['failed']}» là số công dân "
    "đang ở bước đó vào ngày số liệu.",
    "Tiến độ: cần đạt/ngày = còn thiếu ÷ số ngày đến hạn; 7 ngày qua = số tăng trong 7 ngày ÷ 7; "
    "dự kiến đạt = ngày số liệu + còn thiếu ÷ tiến độ 7 ngày qua.",
)

# Metrics: (key prefix, group header, count key, count label).
METRIC_GROUPS = [
    ("registration", "Đăng ký (thu nhận hồ sơ)", "registered"),
    ("activation", "Kích hoạt", "activated"),
    ("usage", "Sử dụng", "used"),
]
# (key, header, kind, width): kind is how a cell is written and summed in the totals row.
#   int: a count (summed); pct: a rate (recomputed from the totals: numerator / denominator);
#   dec: a pace (summed); date; text; target: a fraction shown as %, not totalled.
FIGURE_COLUMNS = [
    ("eligible", FIGURE_LABELS["eligible"], "int", 8.5),
    ("approved", FIGURE_LABELS["approved"], "int", 8.5),
    ("failed", FIGURE_LABELS["failed"], "int", 8.5),
]


def _metric_columns(metric: str, count: str) -> list[tuple]:
    return [
        (count, FIGURE_LABELS[count], "int", 8.5),
        (f"{metric}_target", "Chỉ tiêu", "target", 6),
        (f"{metric}_rate", "Tỷ lệ", ("pct", count, "eligible"), 6.5),
        (f"{metric}_remaining", "Còn thiếu so với chỉ tiêu", "int", 8),
        (f"{metric}_required_pace", "Cần đạt (người/ngày)", "dec", 7.5),
        (f"{metric}_pace_7d", "7 ngày qua (người/ngày)", "dec", 7.5),
        (f"{metric}_projected_date", "Dự kiến đạt chỉ tiêu", "date", 9.5),
        (f"{metric}_status", "Đánh giá", "text", 9.5),
    ]


COMMITTEE_COLUMNS = [
    ("unit_code", "Mã đơn vị", "text", 8),
    ("unit_name", "Tên đơn vị", "text", 17),
    *FIGURE_COLUMNS,
    *(c for metric, _h, count in METRIC_GROUPS for c in _metric_columns(metric, count)),
]
# The names of a row's district and commune, on the sheets below them.
PARENT_COLUMNS: dict[str, list[tuple[str, str]]] = {
    Level.DISTRICT: [],
    Level.COMMUNE: [("district_name", "Quận/Huyện")],
    Level.HAMLET: [("district_name", "Quận/Huyện"), ("commune_name", "Xã/Phường")],
}
LEADING = ["STT", "Cấp", "Quận/Huyện", "Xã/Phường"]  # CSV: the row number, level and parents


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


def with_parents(rows: list[dict], unit: AdminUnit) -> list[dict]:
    """Copies of `rows` (kpi_rows of `unit`, in tree order) with the names of their district
    and commune: the last district and commune met before a row are its own (tree order puts
    every unit right after its parent), starting from the report unit's own ancestors."""

    current: dict[str, str] = {Level.DISTRICT: "", Level.COMMUNE: ""}
    for ancestor in ancestors_of(unit):
        if ancestor.level in current:
            current[ancestor.level] = ancestor.name
    out = []
    for row in rows:
        if row["level"] == Level.DISTRICT:
            current = {Level.DISTRICT: row["unit_name"], Level.COMMUNE: ""}
        elif row["level"] == Level.COMMUNE:
            current[Level.COMMUNE] = row["unit_name"]
        out.append(
            {
                **row,
                "district_name": current[Level.DISTRICT]
                if row["level"] in (Level.COMMUNE, Level.HAMLET)
                else "",
                "commune_name": current[Level.COMMUNE] if row["level"] == Level.HAMLET else "",
            }
        )
    return out


def _totals(rows: list[dict]) -> dict:
    """The totals of a level's rows (what the formulas compute, cached for viewers); the
    projected date and assessment of each metric from the summed remaining and paces."""
    total: dict = {}
    for key, _label, kind, _w in COMMITTEE_COLUMNS:
        if kind in ("int", "dec"):
            total[key] = sum(r.get(key) or 0 for r in rows)
    for key, _label, kind, _w in COMMITTEE_COLUMNS:
        if isinstance(kind, tuple):
            _pct, num, den = kind
            total[key] = round(total[num] / total[den], 4) if total[den] else 0.0
    day = dt.date.fromisoformat(rows[0]["day"]) if rows and rows[0].get("day") else None
    has_deadline = bool(rows and rows[0].get("deadline"))
    has_pace = any(r.get("registration_pace_7d") is not None for r in rows)
    for metric, _header, _count in METRIC_GROUPS:
        for key in (f"{metric}_required_pace", f"{metric}_pace_7d"):
            total[key] = round(total[key], 2)
        pace, remaining = total[f"{metric}_pace_7d"], total[f"{metric}_remaining"]
        projected = None
        if day and remaining == 0:
            projected = day
        elif day and pace > 0:
            projected = day + dt.timedelta(days=math.ceil(remaining / pace))
        total[f"{metric}_projected_date"] = projected.isoformat() if projected else None
        required = (
            total[f"{metric}_required_pace"]
            if any(r.get(f"{metric}_required_pace") is not None for r in rows)
            else None
        )
        total[f"{metric}_status"] = (
            status_of(remaining=remaining, required=required, actual=pace if has_pace else None)
            if has_deadline
            else None
        )
    return total


def place_and_date(place: str, day: dt.date) -> str:
    """'Tây Ninh, ngày 05 tháng 11 năm 2025': as official documents write it (Decree 30/2020:
    a day under 10 and the months 1 and 2 take a leading zero)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def _bare_name(unit: AdminUnit) -> str:
    """'Tỉnh Tây Ninh' → 'Tây Ninh': a place as a date line names it."""
    if unit.kind and unit.name.startswith(unit.kind + " "):
        return unit.name[len(unit.kind) + 1 :]
    return unit.name


def letterhead(unit: AdminUnit) -> dict:
    """Who issues the report and where: the police of the report's unit (a hamlet's: of its
    commune) under the police of the level above, and the province's name for the date line,
    read from the unit tree (one query)."""

    chain = [*ancestors_of(unit), unit]
    if unit.level == Level.HAMLET and len(chain) > 1:
        chain = chain[:-1]
    issuer = chain[-1]
    above = chain[-2] if len(chain) > 1 else None
    return {
        "superior": f"CÔNG AN {above.name.upper()}" if above else "BỘ CÔNG AN",
        "issuer": f"CÔNG AN {issuer.name.upper()}",
        "place": _bare_name(chain[0]),
    }


def _formats(book) -> dict:
    base = {"font_name": "Times New Roman", "font_size": 10}
    cell = {**base, "border": 1, "valign": "vcenter"}

    def fmt(**props):
        return book.add_format({**base, **props})

    formats = {
        "nation": fmt(bold=True, align="center"),
        "motto": fmt(bold=True, underline=1, align="center", font_size=11),
        "superior": fmt(align="center"),
        "issuer": fmt(bold=True, underline=1, align="center"),
        "date_line": fmt(italic=True, align="center"),
        "title": fmt(bold=True, align="center", font_size=13, text_wrap=True, valign="vcenter"),
        "subtitle": fmt(italic=True, align="center"),
        "note": fmt(italic=True, font_size=9),
        "sign": fmt(bold=True, align="center"),
        "sign_hint": fmt(italic=True, align="center"),
        "head": fmt(
            bold=True,
            bg_color="#DDEBF7",
            border=1,
            text_wrap=True,
            valign="vcenter",
            align="center",
        ),
        "int": fmt(**cell, num_format="#,##0"),
        "dec": fmt(**cell, num_format="#,##0.0"),
        "pct": fmt(**cell, num_format="0.0%"),
        "target": fmt(**cell, num_format="0%"),
        "date": fmt(**cell, num_format="dd/mm/yyyy", align="center"),
        "text": fmt(**cell, text_wrap=True),
    }
    for name, props in (
        ("int", {"num_format": "#,##0"}),
        ("dec", {"num_format": "#,##0.0"}),
        ("pct", {"num_format": "0.0%"}),
        ("target", {"num_format": "0%"}),
        ("date", {"num_format": "dd/mm/yyyy", "align": "center"}),
        ("text", {"text_wrap": True}),
    ):
        formats[f"total_{name}"] = fmt(**cell, **props, bold=True, bg_color="#F2F2F2")
    return formats


def _write_cell(sheet, r: int, col: int, value, kind, formats: dict, prefix: str = "") -> None:
    fmt = formats[prefix + ("pct" if isinstance(kind, tuple) else kind)]
    if value is None or value == "":
        sheet.write_blank(r, col, None, fmt)
    elif kind == "date":
        sheet.write_datetime(r, col, dt.datetime.combine(value, dt.time()), fmt)
    elif isinstance(value, str):
        sheet.write_string(r, col, value, fmt)  # data stays text, whatever it starts with
    else:
        sheet.write_number(r, col, value, fmt)


HEADING_ROWS = 7  # the letterhead, the title and the subtitle, above the table's two header rows


def _write_heading(
    sheet, formats, last_col: int, head: dict, unit: AdminUnit, on, deadline, level: str
) -> None:
    left, right = (0, min(5, last_col)), (max(last_col - 12, 6), last_col)
    sheet.merge_range(0, left[0], 0, left[1], head["superior"], formats["superior"])
    sheet.merge_range(1, left[0], 1, left[1], head["issuer"], formats["issuer"])
    sheet.merge_range(0, right[0], 0, right[1], NATION, formats["nation"])
    sheet.merge_range(1, right[0], 1, right[1], MOTTO, formats["motto"])
    sheet.merge_range(
        2, right[0], 2, right[1], place_and_date(head["place"], on), formats["date_line"]
    )
    sheet.merge_range(4, 0, 4, last_col, TITLE, formats["title"])
    sheet.set_row(4, 20)
    note = f"{unit.name} ({unit.code}) · {LEVEL_SHEETS[level]} · Số liệu đến hết ngày {on:%d/%m/%Y}"
    if deadline:
        note += f" · Hạn hoàn thành {dt.date.fromisoformat(deadline):%d/%m/%Y}"
    sheet.merge_range(5, 0, 5, last_col, note, formats["subtitle"])


def _write_header(sheet, formats, parents: list[tuple]) -> int:
    """Two header rows: a group above the metrics' columns, the names below. Returns the
    column where COMMITTEE_COLUMNS start."""
    top, low = HEADING_ROWS, HEADING_ROWS + 1
    leading = [("STT", 4.5), *((label, 13) for _k, label in parents)]
    for col, (label, width) in enumerate(leading):
        sheet.merge_range(top, col, low, col, label, formats["head"])
        sheet.set_column(col, col, width)
    start = len(leading)
    col = start
    for _key, label, _kind, width in COMMITTEE_COLUMNS[: 2 + len(FIGURE_COLUMNS)]:
        sheet.merge_range(top, col, low, col, label, formats["head"])
        sheet.set_column(col, col, width)
        col += 1
    for _metric, header, _count in METRIC_GROUPS:
        width = len(_metric_columns("x", "registered"))
        sheet.merge_range(top, col, top, col + width - 1, header, formats["head"])
        for _key, label, _kind, w in _metric_columns(_metric, _count):
            sheet.write_string(low, col, label, formats["head"])
            sheet.set_column(col, col, w)
            col += 1
    sheet.set_row(low, 54)
    return start


def _write_sheet(
    book, formats, level: str, level_rows: list[dict], *, unit, on, head, deadline
) -> None:
    sheet = book.add_worksheet(LEVEL_SHEETS[level])
    parents = PARENT_COLUMNS.get(level, [])
    last_col = len(parents) + len(COMMITTEE_COLUMNS)
    _write_heading(sheet, formats, last_col, head, unit, on, deadline, level)
    start = _write_header(sheet, formats, parents)
    first = HEADING_ROWS + 2
    for i, row in enumerate(level_rows):
        r = first + i
        sheet.write_number(r, 0, i + 1, formats["int"])
        for col, (key, _label) in enumerate(parents, start=1):
            _write_cell(sheet, r, col, row.get(key, ""), "text", formats)
        for col, (key, _label, kind, _w) in enumerate(COMMITTEE_COLUMNS, start=start):
            _write_cell(sheet, r, col, _cell_value(row, key, kind), kind, formats)
    last = first + len(level_rows) - 1
    _write_totals(sheet, formats, level_rows, start=start, first=first, last=last)
    _write_footer(sheet, formats, last + 2, last_col)
    sheet.freeze_panes(first, start + 2)  # the header rows and the unit's code and name
    sheet.autofilter(HEADING_ROWS + 1, 0, last, last_col)
    _print_setup(sheet, last_col, last + 9)


def _write_totals(sheet, formats, level_rows, *, start: int, first: int, last: int) -> None:
    total_row = last + 1
    totals = _totals(level_rows)
    columns = {key: col for col, (key, *_r) in enumerate(COMMITTEE_COLUMNS, start=start)}
    for col in range(start):
        sheet.write_blank(total_row, col, None, formats["total_text"])
    sheet.write_string(total_row, start, "Tổng cộng", formats["total_text"])
    sheet.write_string(total_row, start + 1, f"{len(level_rows)} đơn vị", formats["total_text"])
    for key, _label, kind, _w in COMMITTEE_COLUMNS[2:]:
        col = columns[key]
        if kind in ("int", "dec"):
            span = f"{xl_rowcol_to_cell(first, col)}:{xl_rowcol_to_cell(last, col)}"
            sheet.write_formula(
                total_row, col, f"=SUM({span})", formats[f"total_{kind}"], totals[key]
            )
        elif isinstance(kind, tuple):
            num = xl_rowcol_to_cell(total_row, columns[kind[1]])
            den = xl_rowcol_to_cell(total_row, columns[kind[2]])
            sheet.write_formula(
                total_row, col, f"=IF({den}=0,0,{num}/{den})", formats["total_pct"], totals[key]
            )
        else:
            value = _cell_value(totals, key, kind) if kind != "target" else None
            _write_cell(sheet, total_row, col, value, kind, formats, prefix="total_")


def _write_footer(sheet, formats, row: int, last_col: int) -> None:
    """The notes, then the signature block: prepared by on the left, the head of the unit on
    the right, with room to sign."""
    for i, note in enumerate(NOTES):
        sheet.write_string(row + i, 0, note, formats["note"])
    sign = row + len(NOTES) + 1
    left, right = (0, min(5, last_col)), (max(last_col - 12, 6), last_col)
    for (a, b), title, hint in ((left, PREPARED_BY, SIGN_HINT), (right, HEAD_OF_UNIT, SEAL_HINT)):
        sheet.merge_range(sign, a, sign, b, title, formats["sign"])
        sheet.merge_range(sign + 1, a, sign + 1, b, hint, formats["sign_hint"])


def _print_setup(sheet, last_col: int, last_row: int) -> None:
    sheet.set_landscape()
    # A3: three metrics with their pace are ~30 columns; on A4 they would print at 5 points.
    sheet.set_paper(8)
    sheet.fit_to_pages(1, 0)  # one page wide, as many pages tall as it takes
    sheet.repeat_rows(HEADING_ROWS, HEADING_ROWS + 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.center_horizontally()
    sheet.print_area(0, 0, last_row, last_col)
    sheet.set_footer("&CTrang &P/&N")


def committee_xlsx(rows: list[dict], output, *, unit: AdminUnit, on: dt.date) -> None:
    """Write the committee report of `rows` (kpi_rows of `unit`) to a path or a binary file."""
    options = {"in_memory": True} if not isinstance(output, str) else {}
    book = workbook(output, options)
    formats = _formats(book)
    head = letterhead(unit)
    deadline = next((r.get("deadline") for r in rows if r.get("deadline")), None)
    by_level = committee_rows(with_parents(rows, unit))
    for level, level_rows in by_level.items():
        _write_sheet(
            book, formats, level, level_rows, unit=unit, on=on, head=head, deadline=deadline
        )
    if not by_level:
        book.add_worksheet("Báo cáo").write_string(0, 0, TITLE, formats["title"])
    book.close()


def committee_header() -> list[str]:
    """The CSV's header: each metric's columns prefixed by its group ('Kích hoạt - Tỷ lệ')."""
    labels = [label for _k, label, _kind, _w in COMMITTEE_COLUMNS[: 2 + len(FIGURE_COLUMNS)]]
    for metric, header, count in METRIC_GROUPS:
        for key, label, _kind, _w in _metric_columns(metric, count):
            labels.append(label if key == count else f"{header} - {label}")
    return [*LEADING, *labels]


def committee_csv(rows: list[dict], stream, *, unit: AdminUnit | None = None) -> None:
    """The committee report's rows as CSV (UTF-8 with BOM so Excel reads the diacritics):
    one row per unit, its level and parents in columns, the same columns as the sheets."""
    stream.write("\ufeff")
    writer = csv_writer(stream)
    writer.writerow(committee_header())
    parented = with_parents(rows, unit) if unit is not None else rows
    for level, level_rows in committee_rows(parented).items():
        for i, row in enumerate(level_rows, start=1):
            cells = []
            for key, _label, kind, _w in COMMITTEE_COLUMNS:
                value = _cell_value(row, key, kind)
                if kind == "date" and isinstance(value, dt.date):
                    value = value.strftime("%d/%m/%Y")
                cells.append("" if value is None else value)
            writer.writerow(
                [
                    i,
                    LEVEL_SHEETS[level],
                    row.get("district_name", ""),
                    row.get("commune_name", ""),
                    *cells,
                ]
            )


# --- daily snapshots -------------------------------------------------------------------------

SNAPSHOT_COLUMNS = [
    ("day", "Ngày"),
    ("unit_code", "Mã đơn vị"),
    ("unit_name", "Tên đơn vị"),
    ("level", "Cấp"),
    ("eligible", FIGURE_LABELS["eligible"]),
    ("registered", FIGURE_LABELS["registered"]),
    ("approved", FIGURE_LABELS["approved"]),
    ("failed", FIGURE_LABELS["failed"]),
    ("activated", FIGURE_LABELS["activated"]),
    ("used", FIGURE_LABELS["used"]),
    ("level2", "Tài khoản mức 2"),
    ("registration_rate", "Tỷ lệ đăng ký"),
    ("activation_rate", "Tỷ lệ kích hoạt"),
    ("usage_rate", "Tỷ lệ sử dụng"),
    ("visits", "Lượt thăm hộ"),
    ("households", "Hộ đã đến"),
    ("contacted", "Lượt gặp được"),
]


def snapshot_rows(units: list[AdminUnit], first: dt.date, last: dt.date) -> list[dict]:
    """One row per (day, unit) from the rollups, in day then tree order: two queries."""

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
            registered = sum(counts[f"st_{s}"] for s in REGISTERED_STAGES)
            activated = sum(counts[f"st_{s}"] for s in ACTIVATED_STAGES)

            def rate(n: int, eligible: int = eligible) -> float:
                return round(n / eligible, 4) if eligible else 0.0

            out.append(
                {
                    "day": day.isoformat(),
                    "unit_code": unit.code,
                    "unit_name": unit.name,
                    "level": unit.level,
                    "eligible": eligible,
                    "registered": registered,
                    "approved": counts["st_approved"],
                    "failed": counts["st_failed"],
                    "activated": activated,
                    "used": counts["st_used"],
                    "level2": counts["level2"],
                    "registration_rate": rate(registered),
                    "activation_rate": rate(activated),
                    "usage_rate": rate(counts["st_used"]),
                    "visits": counts["visits"],
                    "households": counts["households"],
                    "contacted": counts["contacted"],
                }
            )
    return out


def _snapshot_value(row: dict, key: str) -> object:
    """A snapshot cell as an official reads it: the level by its name ('Xã/Phường')."""
    value = row[key]
    return str(Level(value).label) if key == "level" else value


def snapshot_csv(rows: list[dict], stream) -> None:
    stream.write("\ufeff")
    writer = csv_writer(stream)
    writer.writerow([label for _k, label in SNAPSHOT_COLUMNS])
    for row in rows:
        writer.writerow([_snapshot_value(row, key) for key, _label in SNAPSHOT_COLUMNS])


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
            value = _snapshot_value(row, key)
            if key == "day":
                sheet.write_datetime(r, col, dt.datetime.fromisoformat(row["day"]), date)
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
