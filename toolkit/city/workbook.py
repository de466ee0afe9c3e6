"""The city workbook: submission status, one row per unit with city totals, findings, sources, charts.

A writer of a `Consolidation` (it never reads a unit file). Written with XlsxWriter
(native charts, conditional formats) through `atomic_path`. Every sheet is set up
to print on A4: titles repeated, one page wide, landscape, notes wrapped within the
table's width so they never widen the print. The indicator table is split into sheets of at
most BLOCK_COLS columns, by indicator group, so its 10 pt text prints at 8 pt or more.
Totals are numbers computed in Python (the same figures the tests check), not
formulas a viewer might show before recalculating. Every string goes through
`write_string` and the workbook refuses to turn strings into formulas, so a
unit name or a note starting with = + - @ stays text.
"""
from __future__ import annotations

import io
import math
import os
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from toolkit.atomic import atomic_path
from toolkit.city.anomalies import KIND_VI
from toolkit.city.content import SHEET_ACCEPTED
from toolkit.city.consolidation import (
    COUNT_RULE,
    HOLD_RULE,
    ST_ERRORS,
    ST_LATE,
    ST_MISSING,
    ST_OK,
    Consolidation,
    UnitRow,
)
from toolkit.definition import NATIONAL, SEVERITY_VI, Field
from toolkit.vnformat import city_wall, period_year

KEY_RATIOS = ("TL_HS_DUNG_HAN", "TL_HS_TRUC_TUYEN")
SHEET_STATUS, SHEET_TABLE, SHEET_FINDINGS, SHEET_ANOMALIES, SHEET_SOURCES, SHEET_CHARTS = (
    "Tình hình nộp", "Tổng hợp", "Lỗi", "Bất thường", "Nguồn", "Biểu đồ")
STATUS_COLOURS = {ST_MISSING: "#F2F2F2", ST_OK: "#E2EFDA", ST_ERRORS: "#F8CBAD", ST_LATE: "#FFE699"}
TABLE_HEAD = 3  # 0-based row of the labels on each Tổng hợp sheet; codes on the next row, units after
BLOCK_COLS = 15  # value columns per Tổng hợp sheet at most: one landscape page wide at >= 85%, so 10 pt
VALUE_WIDTH = 8.5  # column width of a value ("123.456,78" fits); labels wrap inside it
ROW_HEIGHT = 12.75  # points, for 10 pt text
CONTINUED = "(tiếp)"
# Excel's "#,##0.##" shows a whole number with a trailing separator ("9.774,"): every kind has fixed decimals
NUMBER_FORMATS = {"count": "#,##0", "percent": "#,##0.00", "money": "#,##0.0", "decimal": "#,##0.00"}
CHART_UNITS = 10  # the chart shows this many highest and lowest units


class _F:
    def __init__(self, wb):
        base = {"font_name": "Times New Roman", "font_size": 10, "valign": "vcenter"}

        def f(**kw):
            return wb.add_format({**base, **kw})

        self.title = f(bold=True, font_size=13)
        self.sub = f(italic=True, font_color="#595959")
        self.note = f(italic=True, font_color="#595959", text_wrap=True, valign="top")
        self.group = f(bold=True, bg_color="#B4C6E7", border=1, text_wrap=True, align="center")
        self.head = f(bold=True, bg_color="#D9E1F2", border=1, text_wrap=True, align="center")
        self.code = f(font_size=7, font_color="#595959", border=1, align="center", bg_color="#D9E1F2",
                      text_wrap=True)
        self.text = f(border=1)
        self.wrap = f(border=1, text_wrap=True)
        self.kind = {k: f(border=1, num_format=n) for k, n in NUMBER_FORMATS.items()}
        self.int, self.pct = self.kind["count"], self.kind["percent"]
        self.date = f(border=1, num_format="dd/mm/yyyy")
        self.date_label = f(bold=True, num_format="dd/mm/yyyy", align="left")
        self.time = f(border=1, num_format="dd/mm/yyyy hh:mm")
        self.total = {k: f(bold=True, border=1, bg_color="#FFF2CC", num_format=n) for k, n in NUMBER_FORMATS.items()}
        self.total_text = f(bold=True, border=1, bg_color="#FFF2CC")
        self.label = f(bold=True)
        self.held_text = f(border=1, text_wrap=True, bg_color="#F4B183")
        self.link = f(border=1, text_wrap=True, font_color="#0563C1", underline=1)
        self.number = f(bold=True, num_format="#,##0", align="left")
        self.rate = f(bold=True, num_format="#,##0.00", align="left")
        self.status = {s: f(border=1, bg_color=c) for s, c in STATUS_COLOURS.items()}
        # a figure held out until settled (HOLD_RULE): struck through on orange, never in the total
        self.held = {k: f(border=1, bg_color="#F4B183", font_strikeout=True, num_format=n)
                     for k, n in NUMBER_FORMATS.items()}


def _num_format(fmt: _F, kind: str):
    return fmt.kind.get(kind, fmt.text)


def _write(ws, r: int, c: int, value: Any, cell_format) -> None:
    """A value with its own cell type; text is always text."""
    if value is None or value == "":
        ws.write_blank(r, c, None, cell_format)
    elif isinstance(value, bool):
        ws.write_string(r, c, "Có" if value else "Không", cell_format)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, cell_format)
    elif isinstance(value, datetime):  # an instant as the city's clock shows it (Excel holds no zones)
        ws.write_datetime(r, c, city_wall(value) if value.tzinfo else value, cell_format)
    elif hasattr(value, "year"):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), cell_format)
    else:
        ws.write_string(r, c, str(value), cell_format)


def _lines(text: str, width: float) -> int:
    """Lines a wrapped label takes in a column `width` characters wide (bold 10 pt fits ~1 per unit)."""
    chars = max(4, int(width))
    return 1 if len(text) <= chars else max(1, len(textwrap.wrap(text, chars)))


def _fit_row(ws, r: int, cells: list[tuple[str, float]]) -> None:
    """Give a row with wrapped text the height of its longest cell (LibreOffice does not grow it)."""
    lines = max((_lines(text, width) for text, width in cells if text), default=1)
    if lines > 1:
        ws.set_row(r, 13 * lines + 2)


def _note(ws, r: int, text: str, widths: tuple[float, ...] | list[float], fmt: _F, c0: int = 0) -> None:
    """A note merged across the table's columns and wrapped there: it never widens what prints."""
    ws.merge_range(r, c0, r, c0 + len(widths) - 1, text, fmt.note)
    ws.set_row(r, 13 * _lines(text, sum(widths) * 1.1) + 3)  # italic 10 pt is a little narrower than bold


def _table(ws, r0: int, heads: tuple[str, ...], widths: tuple[float, ...], fmt: _F) -> None:
    for c, (h, w) in enumerate(zip(heads, widths)):
        ws.write_string(r0, c, h, fmt.head)
        ws.set_column(c, c, w)
    ws.set_row(r0, 13 * max(_lines(h, w) for h, w in zip(heads, widths)) + 3)
    ws.freeze_panes(r0 + 1, 0)
    ws.repeat_rows(r0)


def _name_width(res: Consolidation) -> float:
    """The unit-name column fits the longest name: no name is cut."""
    return min(40, max(12, max((len(r.unit.name) for r in res.rows), default=12) * 1.05 + 1))


def _whole(res: Consolidation) -> str:
    name = res.form.province
    return "TOÀN QUỐC" if name == NATIONAL else "TOÀN THÀNH PHỐ" if name.startswith("Thành phố") else "TOÀN TỈNH"


def _status_sheet(ws, res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, f"TÌNH HÌNH NỘP PHIẾU SỐ LIỆU — {period_year(res.period, res.year).upper()}", fmt.title)
    totals = (("Số đơn vị phải nộp", res.expected, fmt.number), ("Đã nộp", res.received, fmt.number),
              ("Tỷ lệ đã nộp (%)", res.received_rate, fmt.rate),
              ("Hợp lệ (không có lỗi)", res.valid, fmt.number), ("Nộp muộn", res.late, fmt.number),
              ("Chưa nộp", res.expected - res.received, fmt.number), ("Đúng hạn", res.on_time, fmt.number),
              ("Có lỗi (số liệu không được cộng)", res.received - res.counted, fmt.number),
              (f"Số liệu bất thường (sheet «{SHEET_ANOMALIES}»)", len(res.anomalies), fmt.number),
              ("Bất thường chưa xử lý (không được cộng)", len(res.anomalies) - len(res.settled), fmt.number),
              ("Trong đó: đơn vị đã giải trình, chờ xác minh",
               sum(bool(a.explanation) and not res.settled_anomaly(a) for a in res.anomalies), fmt.number),
              ("Hạn nộp chung của kỳ", res.deadline, fmt.date_label))
    for i, (name, n, f) in enumerate(totals):  # the label spans two columns so it is never cut
        ws.merge_range(1 + i, 1, 1 + i, 2, name, fmt.label)
        _write(ws, 1 + i, 3, n, f)
    heads = ("STT", "Mã ĐVHC", "Tên đơn vị", "Loại", "Trạng thái", "Tệp", "Thời gian nhận", "Hạn nộp",
             "Số ô có lỗi", "Số ô có cảnh báo", "Ghi chú", "Số ngày quá hạn")
    widths = (5, 8, _name_width(res), 8, 10, 30, 15, 11, 7, 9, 30, 8)
    _note(ws, 1 + len(totals), COUNT_RULE, widths[1:], fmt, c0=1)
    _note(ws, 2 + len(totals), HOLD_RULE, widths[1:], fmt, c0=1)
    top = len(totals) + 4
    _table(ws, top, heads, widths, fmt)
    for i, row in enumerate(chase_order(res.rows), start=1):
        r = top + i
        _fit_row(ws, r, [(res.relative(row.path), widths[5]), (row.note, widths[10])])
        for c, (v, f) in enumerate(((i, fmt.int), (row.unit.code, fmt.text), (row.unit.name, fmt.text),
                                    (row.unit.kind, fmt.text), (row.status, fmt.status[row.status]),
                                    (res.relative(row.path) if row.path else "", fmt.wrap),
                                    (row.received, fmt.time), (row.deadline, fmt.date),
                                    (row.errors if row.file else None, fmt.int),
                                    (row.warnings if row.file else None, fmt.int), (row.note, fmt.wrap),
                                    (row.days_late or None, fmt.int))):
            _write(ws, r, c, v, f)
    ws.autofilter(top, 0, top + len(res.rows), len(heads) - 1)
    r = top + len(res.rows) + 2
    ws.write_string(r, 0, f"Tệp không đưa vào tổng hợp ({len(res.excluded)})", fmt.label)
    ws.write_string(r + 1, 0, "STT", fmt.head)
    ws.merge_range(r + 1, 1, r + 1, 4, "Tệp", fmt.head)
    ws.merge_range(r + 1, 5, r + 1, 11, "Lý do", fmt.head)
    for i, (path, why) in enumerate(res.excluded, start=1):
        ws.write_number(r + 1 + i, 0, i, fmt.int)
        ws.merge_range(r + 1 + i, 1, r + 1 + i, 4, res.relative(path), fmt.wrap)
        ws.merge_range(r + 1 + i, 5, r + 1 + i, 11, why, fmt.wrap)
        _fit_row(ws, r + 1 + i, [(res.relative(path), sum(widths[1:5])), (why, sum(widths[5:]))])
    r += len(res.excluded) + 3
    ws.write_string(r, 0, f"Sai khác mẫu phiếu theo tệp ({len(res.drift)})", fmt.label)
    for i, (path, where, msg) in enumerate(res.drift, start=1):
        ws.merge_range(r + i, 1, r + i, 4, res.relative(path), fmt.wrap)
        ws.write_string(r + i, 5, where, fmt.text)
        ws.merge_range(r + i, 6, r + i, 11, msg, fmt.wrap)
        _fit_row(ws, r + i, [(res.relative(path), sum(widths[1:5])), (msg, sum(widths[6:]))])


def chase_order(rows: list[UnitRow]) -> list[UnitRow]:
    """The units to chase first: not in yet (most days overdue first), then late, with errors, on time."""
    order = {ST_MISSING: 0, ST_LATE: 1, ST_ERRORS: 2, ST_OK: 3}
    return sorted(rows, key=lambda r: (order[r.status], -r.days_late, r.unit.code))


def _columns(res: Consolidation) -> list[tuple[str, Field | None, str]]:
    """(group label, indicator or None for a rank, code) in form order, a rank right after its ratio."""
    out = []
    for section in res.form.sections:
        for group in section.groups:
            label = f"{section.stt}.{group.stt}. {group.label}"
            for ind in group.indicators:
                out.append((label, ind, ind.code))
                if ind.code in KEY_RATIOS:
                    out.append((label, None, ind.code))
    return out


def _blocks(res: Consolidation) -> list[list[tuple[str, Field | None, str]]]:
    """The columns cut into sheets of even width, at most BLOCK_COLS (no sheet of one lone column);
    a group cut in two says so on its second part."""
    cols = _columns(res)
    n = math.ceil(len(cols) / BLOCK_COLS)
    cuts = [round(k * len(cols) / n) for k in range(n + 1)]
    blocks = [cols[a:b] for a, b in zip(cuts, cuts[1:])]
    for prev, block in zip(blocks, blocks[1:]):
        if prev[-1][0] == block[0][0]:
            cont = f"{block[0][0]} {CONTINUED}"
            block[:] = [(cont if g == prev[-1][0] else g, ind, code) for g, ind, code in block]
    return blocks


def table_sheets(res: Consolidation) -> list[str]:
    """Names of the Tổng hợp sheets, in order."""
    n = len(_blocks(res))
    return [SHEET_TABLE if n == 1 else f"{SHEET_TABLE} {k}" for k in range(1, n + 1)]


def _summary_sheet(ws, res: Consolidation, block: list, part: str, fmt: _F) -> None:
    """One Tổng hợp sheet: the units by the block's indicators, the city total at the bottom."""
    ws.write_string(0, 0, f"TỔNG HỢP SỐ LIỆU CÁC XÃ, PHƯỜNG, ĐẶC KHU — "
                          f"{period_year(res.period, res.year).upper()}{part}", fmt.title)
    group_row, head, first = TABLE_HEAD - 1, TABLE_HEAD, TABLE_HEAD + 2
    fixed = (("STT", 4), ("Mã ĐVHC", 7), ("Tên đơn vị", _name_width(res)))
    _note(ws, 1, "Dòng tổng: chỉ tiêu cộng được thì cộng; tỷ lệ tính lại từ tổng tử số và tổng mẫu số, "
                          "không lấy trung bình các tỷ lệ, chỉ trên các đơn vị có đủ hai số (các dòng dưới dòng "
                          "tổng); chỉ tiêu không cộng được (phần của một danh mục chung mọi đơn vị đều có, một mức, "
                          "một điểm số) để trống ở dòng tổng, ghi bình quân các đơn vị ở dòng dưới. Đơn vị chưa nộp "
                          "để trống. " + COUNT_RULE + " " + HOLD_RULE + " Ô gạch ngang nền cam: số liệu đang bị giữ "
                          "lại (ghi chú của ô nói vì sao).", [w for _, w in fixed] + [VALUE_WIDTH] * len(block), fmt)
    for c, (h, w) in enumerate(fixed):
        ws.merge_range(group_row, c, head, c, h, fmt.head)
        ws.write_blank(head + 1, c, None, fmt.code)
        ws.set_column(c, c, w)
    ws.set_column(len(fixed), len(fixed) + len(block) - 1, VALUE_WIDTH)
    ws.set_default_row(ROW_HEIGHT)
    heads = []
    for k, (group, ind, code) in enumerate(block):
        c = len(fixed) + k
        heads.append(f"{ind.label} ({ind.unit})" if ind and ind.unit else ind.label if ind else
                     f"Xếp hạng theo {res.form.indicator(code).label.lower()}")
        ws.write_string(head, c, heads[-1], fmt.head)
        ws.write_string(head + 1, c, code if ind else f"HANG_{code}", fmt.code)
    k, labels = 0, []
    while k < len(block):  # the group row: one merged cell per group, its label whole
        end = k
        while end + 1 < len(block) and block[end + 1][0] == block[k][0]:
            end += 1
        c0, c1 = len(fixed) + k, len(fixed) + end
        label = block[k][0]
        if c1 - c0 < 2 and label.endswith(CONTINUED):  # the whole label heads the part before
            label = f"{label.split(' ', 1)[0]} {CONTINUED}"
        labels.append((label, c1 - c0 + 1))
        if c1 > c0:
            ws.merge_range(group_row, c0, group_row, c1, label, fmt.group)
        else:
            ws.write_string(group_row, c0, label, fmt.group)
        k = end + 1
    ws.set_row(group_row, 13 * max(_lines(label, VALUE_WIDTH * span) for label, span in labels) + 3)
    ws.set_row(head, 12 * max(_lines(h, VALUE_WIDTH) for h in heads) + 4)
    # the codes are for programs (and a filter by code): a hidden row, neither shown nor printed
    ws.set_row(head + 1, None, None, {"hidden": True})
    ws.freeze_panes(first, len(fixed))
    ws.repeat_rows(group_row, head)
    ranks = {code: res.ranks(code) for _, ind, code in block if ind is None}
    for n, row in enumerate(res.rows):
        r = first + n
        _write(ws, r, 0, n + 1, fmt.int)
        _write(ws, r, 1, row.unit.code, fmt.text)
        _write(ws, r, 2, row.unit.name, fmt.text)
        for k, (_, ind, code) in enumerate(block):
            if ind is None:
                _write(ws, r, len(fixed) + k, ranks[code].get(row.unit.code), fmt.int)
                continue
            v = row.value(code)
            held = row.counted and code in row.held and isinstance(v, (int, float))
            _write(ws, r, len(fixed) + k, v if (ind.numeric and isinstance(v, (int, float))) or not ind.numeric
                   else None, fmt.held.get(ind.type, fmt.text) if held else _num_format(fmt, ind.type))
            if held:
                ws.write_comment(r, len(fixed) + k, f"Chưa cộng: {row.held[code]}", {"x_scale": 2, "y_scale": 2})
    total_row = first + len(res.rows)
    ws.merge_range(total_row, 0, total_row, len(fixed) - 1, f"TỔNG CỘNG {_whole(res)}", fmt.total_text)
    last = total_row - 1
    for k, (_, ind, code) in enumerate(block):
        c = len(fixed) + k
        _write(ws, total_row, c, res.totals.get(code) if ind else None, fmt.total[ind.type if ind else "count"]
               if ind and ind.type in NUMBER_FORMATS else fmt.total["count"])
        if ind and code in KEY_RATIOS:  # a colour scale shows the weak units at a glance
            ws.conditional_format(first, c, last, c, {"type": "3_color_scale", "min_color": "#F8696B",
                                                      "mid_color": "#FFEB84", "max_color": "#63BE7B"})
        if ind and code in ("HS_QUA_HAN", "HS_DANG_QUA_HAN"):
            ws.conditional_format(first, c, last, c, {"type": "data_bar", "bar_color": "#F4B183"})
    _base_rows(ws, res, block, total_row + 1, len(fixed), fmt)
    for k, (_, ind, code) in enumerate(block):  # a column as wide as its widest number: no «###» on paper
        kind = ind.type if ind and ind.type in NUMBER_FORMATS else "count"
        base = res.ratio_base(code) if ind and ind.ratio and ind.units == "ratio" else None
        shown = [row.value(code) for row in res.rows] + [res.totals.get(code)] + ([base.num, base.den] if base else [])
        ws.set_column(len(fixed) + k, len(fixed) + k, max([VALUE_WIDTH] + [_width(v, kind) for v in shown
                                                                           if isinstance(v, (int, float))]))
    ws.autofilter(head, 0, last, len(fixed) + len(block) - 1)


BASE_ROWS = ("Tử số của tỷ lệ", "Mẫu số của tỷ lệ", "Số đơn vị được tính",
             "Bình quân các đơn vị (chỉ tiêu không cộng được)", "Số đơn vị đạt 100%", "Mục tiêu của thành phố (%)",
             "Số đơn vị đạt mục tiêu")


def _base_rows(ws, res: Consolidation, block: list, r0: int, left: int, fmt: _F) -> None:
    """Under the total row, for each ratio: the counts and units it is computed on (what the city report
    states as "X/Y … đạt Z%"); for a figure that does not add up (units: mean | median), its value over the
    units and how many reach 100%; and the units that reach the city's target."""
    targets = res.form.city_report.get("targets", {})
    for i, label in enumerate(BASE_ROWS):
        ws.merge_range(r0 + i, 0, r0 + i, left - 1, label, fmt.total_text)
        for k, (_, ind, code) in enumerate(block):
            base = res.ratio_base(code) if ind and ind.ratio and ind.units == "ratio" else None
            over = res.over_units(code) if ind and ind.units in ("mean", "median") else None
            target = targets.get(code) if base or over else None
            value = ((base.num, base.den, base.units, None, None) if base else
                     (None, None, over.units, over.value, over.full if ind.type == "percent" else None) if over
                     else (None,) * 5) + (target, len(res.meeting(code)) if target is not None else None)
            _write(ws, r0 + i, left + k, value[i], fmt.total[_base_kind(i, value[i], ind)])


def _width(value: float, kind: str) -> float:
    """The column width a number takes in its format, bold 10 pt Times (digit 5 pt, separator 2.5 pt)."""
    decimals = {"count": 0, "money": 1}.get(kind, 2)
    text = f"{value:,.{decimals}f}"
    points = 5 * sum(ch.isdigit() or ch == "-" for ch in text) + 2.5 * sum(ch in ",." for ch in text) + 8
    return (points / 0.75 - 5) / 7  # points -> pixels -> Excel's character units


def _base_kind(i: int, value: Any, ind: Field | None) -> str:
    """The number format of a base row: units and targets are counts and rates, a mean is of its figure."""
    if i == 5:
        return "percent"
    if i == 3 and ind and ind.type in NUMBER_FORMATS:
        return ind.type
    return "count" if not isinstance(value, float) or value.is_integer() else "decimal"


def _findings_sheet(ws, res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, "LỖI VÀ CẢNH BÁO CỦA TỪNG ĐƠN VỊ", fmt.title)
    heads = ("Mã ĐVHC", "Tên đơn vị", "Tệp", "Sheet", "Ô", "Mức độ", "Mã lỗi", "Nội dung")
    widths = (8, _name_width(res), 32, 12, 6, 9, 18, 50)
    _note(ws, 1, "Tệp ghi theo đường dẫn trong thư mục tổng hợp. Nhiều quy tắc cùng chỉ ra một ô thì "
                 "ô đó được đếm một lần ở sheet «Tình hình nộp».", widths, fmt)
    _table(ws, 2, heads, widths, fmt)
    r = 3
    for row in res.rows:
        for f in row.findings:
            where = res.relative(row.path) if f.get("file") in (row.path, row.file, "") or not f.get("file") \
                else res.relative(f["file"])
            vals = (row.unit.code, row.unit.name, where, f.get("sheet", ""), f.get("cell", ""),
                    SEVERITY_VI.get(f["severity"], f["severity"]), f.get("code", ""), f.get("message", ""))
            for c, v in enumerate(vals):
                ws.write_string(r, c, str(v), fmt.wrap if c in (2, 7) else fmt.text)
            _fit_row(ws, r, [(vals[2], widths[2]), (vals[7], widths[7])])
            r += 1
    for path, why in res.excluded:  # files that never reached a unit row are findings too
        vals = ("", "", res.relative(path), "", "", SEVERITY_VI["error"] if why.startswith("Không đọc")
                else "GHI CHÚ", "tep-khong-tong-hop", why)
        for c, v in enumerate(vals):
            ws.write_string(r, c, v, fmt.wrap if c in (2, 7) else fmt.text)
        _fit_row(ws, r, [(vals[2], widths[2]), (vals[7], widths[7])])
        r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(heads) - 1)


def _anomalies_sheet(ws, res: Consolidation, fmt: _F, out: Path) -> None:
    ws.write_string(0, 0, f"SỐ LIỆU BẤT THƯỜNG — {period_year(res.period, res.year).upper()}", fmt.title)
    heads = ("STT", "Mã ĐVHC", "Tên đơn vị", "Chỉ tiêu", "Giá trị", "So với", "Vì sao", "Cách so sánh",
             "Ô nguồn", "Mã chỉ tiêu", "Giải trình của đơn vị", "Xử lý")
    widths = (4, 7, _name_width(res), 14, 10, 14, 24, 9, 16, 10, 20, 14)  # a link wraps in its cell
    _note(ws, 1, "Số liệu đúng mọi phép cộng nhưng khó có thật: hỏi lại đơn vị. Đây là cảnh báo, không "
                          "phải lỗi: phiếu vẫn hợp lệ. " + HOLD_RULE + " Đơn vị giải trình ở cột «Giải trình» của "
                          "phiếu; giải trình chưa phải là chấp nhận. Đã xác minh là đúng thì chép Mã ĐVHC, Mã chỉ "
                          f"tiêu, Giá trị vào sheet «{SHEET_ACCEPTED}» của tệp tong_hop.xlsm rồi tổng hợp lại (để "
                          "trống «Lý do chấp nhận» thì báo cáo dẫn lời giải trình của đơn vị). Bấm vào ô nguồn để "
                          "mở đúng ô của phiếu.", widths, fmt)
    _table(ws, 2, heads, widths, fmt)
    rows = {r.unit.code: r for r in res.rows}
    for i, a in enumerate(res.anomalies, start=1):
        r = 2 + i
        row = rows.get(a.unit)
        source = res.relative(row.path) if row and row.path else ""
        kind = res.form.field(a.code).type if res.form.field(a.code) else "count"
        for c, (v, f) in enumerate(((i, fmt.int), (a.unit, fmt.text), (a.unit_name, fmt.text),
                                    (a.label, fmt.wrap), (a.value, _num_format(fmt, kind)), (a.compared, fmt.wrap),
                                    (a.why, fmt.wrap), (KIND_VI[a.kind], fmt.wrap))):
            _write(ws, r, c, v, f)
        _source_link(ws, r, 8, source, row.path if row else "", a.source, out, fmt)
        ws.write_string(r, 9, a.code, fmt.wrap)
        ws.write_string(r, 10, a.explanation or "(chưa giải trình)", fmt.wrap)
        state = res.anomaly_state(a)
        ws.write_string(r, 11, state, fmt.wrap if res.settled_anomaly(a) else fmt.held_text)
        _fit_row(ws, r, [(a.label, widths[3]), (a.compared, widths[5]), (a.why, widths[6]),
                         (f"{source}!{a.source}", widths[8]), (a.code, widths[9]), (a.explanation, widths[10]),
                         (state, widths[11])])
    if res.anomalies:
        ws.autofilter(2, 0, 2 + len(res.anomalies), len(heads) - 1)


def _source_link(ws, r: int, c: int, shown: str, path: str, cell: str, out: Path, fmt: _F) -> None:
    """file!Sheet!Cell as a link that opens the unit's workbook at the cell (a roll-up names its parts)."""
    if not cell or not path or " + " in cell or "!" not in cell:
        ws.write_string(r, c, f"{shown}!{cell}" if shown and cell else cell or shown, fmt.wrap)
        return
    sheet, _, a1 = cell.rpartition("!")
    try:
        target = Path(os.path.relpath(Path(path).resolve(), Path(out).resolve().parent)).as_posix()
    except ValueError:  # another drive on Windows: the absolute path
        target = Path(path).resolve().as_posix()
    ws.write_url(r, c, f"external:{_escaped(target)}#'{sheet}'!{a1}", fmt.link, f"{shown}!{cell}")


# How Excel writes a file path into a link's target (and xlsxwriter, which leaves a path holding any "%xx" as is):
# "#" in particular, else the rest of the file's name is taken for the place in it ("@a#'Số liệu'!A1.xlsx").
_URL_ESCAPES = {"%": "%25", '"': "%22", " ": "%20", "#": "%23", "<": "%3c", ">": "%3e", "[": "%5b", "]": "%5d",
                "^": "%5e", "`": "%60", "{": "%7b", "}": "%7d"}


def _escaped(path: str) -> str:
    return "".join(_URL_ESCAPES.get(ch, ch) for ch in path)


def _areas(row: UnitRow) -> dict[str, str]:
    """File -> where its values are, as ranges per sheet and column ("Số liệu!E7:E160").

    Each value sits on the row whose column A holds its code, so a range names every
    cell exactly; the per-value reference stays in the store and in `source_ref`.
    """
    cells: dict[tuple[str, str, str], list[int]] = {}
    for _, ref in row.values.values():
        for part in ref.split(" + ") if ref and not ref.startswith("=") else ():
            file, sheet, cell = part.rsplit("!", 2) if part.count("!") >= 2 else (row.file, *part.split("!", 1))
            col = cell.rstrip("0123456789")
            if cell[len(col):].isdigit():
                cells.setdefault((file, sheet, col), []).append(int(cell[len(col):]))
    out: dict[str, list[str]] = {}
    for (file, sheet, col), rows in cells.items():
        out.setdefault(file, []).append(f"{sheet}!{col}{min(rows)}:{col}{max(rows)}")
    return {file: "; ".join(parts) for file, parts in out.items()}


def _sources_sheet(ws, res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, "NGUỒN SỐ LIỆU CỦA TỪNG ĐƠN VỊ", fmt.title)
    heads = ("Mã ĐVHC", "Tên đơn vị", "Tệp", "Vùng số liệu", "Số giá trị", "Mã băm SHA-256 (16 ký tự đầu)")
    widths = (8, _name_width(res), 38, 42, 8, 20)
    _note(ws, 1, "Mỗi số liệu nằm ở dòng có mã chỉ tiêu tại cột A của vùng ghi dưới đây; nguồn từng ô "
                 "được lưu trong kho dữ liệu.", widths, fmt)
    _table(ws, 2, heads, widths, fmt)
    r = 3
    for row in res.rows:
        if not row.file:
            continue
        for file, area in _areas(row).items():
            vals = (row.unit.code, row.unit.name, res.relative(row.path) if file == row.file else file, area,
                    sum(v is not None for v, _ in row.values.values()), row.file_hash[:16])
            for c, v in enumerate(vals):
                _write(ws, r, c, v, fmt.wrap if c in (2, 3) else fmt.int if c == 4 else fmt.text)
            _fit_row(ws, r, [(vals[2], widths[2]), (area, widths[3])])
            r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(heads) - 1)


def axis_floor(values: list[float]) -> float:
    """A lower bound for a value axis that shows the differences (95 to 100 is not a flat wall on 0-100)."""
    lo, hi = min(values), max(values)
    span = max(hi - lo, 1.0)
    return max(0.0, math.floor((lo - span * 0.15) / 5) * 5) if lo - span * 0.15 > 0 else 0.0


def _charts_sheet(wb, ws, res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, f"BIỂU ĐỒ: {CHART_UNITS} ĐƠN VỊ CAO NHẤT VÀ {CHART_UNITS} ĐƠN VỊ THẤP NHẤT", fmt.title)
    ws.write_string(1, 0, "Trục tỷ lệ không bắt đầu từ 0 để thấy rõ chênh lệch giữa các đơn vị; số liệu ở bảng "
                          "bên dưới mỗi biểu đồ.", fmt.sub)
    for k, (code, colour) in enumerate((("TL_HS_DUNG_HAN", "#70AD47"), ("TL_HS_TRUC_TUYEN", "#4472C4"))):
        top, bottom = res.extremes(code, CHART_UNITS)
        units = top + bottom
        if not units:
            continue
        ind = res.form.indicator(code)
        c0, r0 = k * 4, 25
        ws.write_string(r0, c0, "Đơn vị", fmt.head)
        ws.write_string(r0, c0 + 1, f"{ind.label} (%)", fmt.head)
        ws.set_row(r0, 13 * _lines(f"{ind.label} (%)", 14) + 3)
        ws.set_column(c0, c0, _name_width(res))
        ws.set_column(c0 + 1, c0 + 1, 14)
        for i, row in enumerate(units):
            ws.write_string(r0 + 1 + i, c0, row.unit.name, fmt.text)
            ws.write_number(r0 + 1 + i, c0 + 1, row.counted_value(code), fmt.pct)
        chart = wb.add_chart({"type": "bar"})
        cats = [SHEET_CHARTS, r0 + 1, c0, r0 + len(units), c0]
        vals = [SHEET_CHARTS, r0 + 1, c0 + 1, r0 + len(units), c0 + 1]
        chart.add_series({"name": ind.label, "categories": cats, "values": vals, "gap": 30,
                          "fill": {"color": colour},
                          "points": [None] * len(top) + [{"fill": {"color": "#C00000"}}] * len(bottom),
                          "data_labels": {"value": True, "num_format": "0.00", "position": "inside_end",
                                          "font": {"size": 10, "color": "#FFFFFF", "bold": True}}})
        chart.set_title({"name": f"{ind.label} (%)", "name_font": {"size": 10}})
        # bar charts: x is the value axis; the category axis is reversed so the best unit is on top
        chart.set_x_axis({"min": axis_floor([r.counted_value(code) for r in units]), "max": 100,
                          "num_font": {"size": 10}, "major_gridlines": {"visible": True}})
        chart.set_y_axis({"num_font": {"size": 10}, "reverse": True, "crossing": "max"})
        chart.set_legend({"none": True})
        chart.set_size({"width": 500, "height": 430})  # two side by side fit A4 landscape at full size
        ws.insert_chart(3, 0, chart, {"x_offset": k * 510})
    ws.set_h_pagebreaks([25])  # the charts on page 1, their table whole on page 2


def write_city_workbook(res: Consolidation, out: Path) -> Path:
    """Write the city workbook for `res` to `out`, atomically."""
    with atomic_path(out) as tmp:
        # zipped in memory and written by us in one go: a disk that fills leaves no part files in the temp folder
        # and no half-closed zip for the interpreter to complain about at exit
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False, "in_memory": True})
        wb.set_properties({"title": f"Tổng hợp {period_year(res.period, res.year)}", "author": "baocao"})
        fmt = _F(wb)
        _status_sheet(wb.add_worksheet(SHEET_STATUS), res, fmt)
        blocks, names = _blocks(res), table_sheets(res)
        for k, (block, name) in enumerate(zip(blocks, names), start=1):
            part = f" (PHẦN {k}/{len(blocks)})" if len(blocks) > 1 else ""
            _summary_sheet(wb.add_worksheet(name), res, block, part, fmt)
        _findings_sheet(wb.add_worksheet(SHEET_FINDINGS), res, fmt)
        _anomalies_sheet(wb.add_worksheet(SHEET_ANOMALIES), res, fmt, out)
        _sources_sheet(wb.add_worksheet(SHEET_SOURCES), res, fmt)
        _charts_sheet(wb, wb.add_worksheet(SHEET_CHARTS), res, fmt)
        for ws in wb.worksheets():  # A4 landscape, one page wide, as tall as it takes (the charts' table follows)
            ws.set_paper(9)
            ws.set_landscape()
            ws.fit_to_pages(1, 0)
            ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.55)
            ws.set_footer(f"&L&10{ws.name}&R&10Trang &P/&N")
        wb.close()
        tmp.write_bytes(buffer.getvalue())
    return out
