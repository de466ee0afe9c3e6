"""The city workbook: submission status, one row per unit with city totals, findings, sources, charts.

Written with XlsxWriter (native charts, conditional formats) through `atomic_path`.
Totals are numbers computed in Python (the same figures the tests check), not
formulas a viewer might show before recalculating. Every string goes through
`write_string` and the workbook refuses to turn strings into formulas, so a
unit name or a note starting with = + - @ stays text.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from toolkit.atomic import atomic_path
from toolkit.consolidate import ST_ERRORS, ST_LATE, ST_MISSING, ST_OK, Consolidation, UnitRow, source_ref
from toolkit.findings import SEVERITY_VI
from toolkit.vnformat import period_year

KEY_RATIOS = ("TL_HS_DUNG_HAN", "TL_HS_TRUC_TUYEN")
SHEET_STATUS, SHEET_TABLE, SHEET_FINDINGS, SHEET_SOURCES, SHEET_CHARTS = (
    "Tình hình nộp", "Tổng hợp", "Lỗi", "Nguồn", "Biểu đồ")
STATUS_COLOURS = {ST_MISSING: "#F2F2F2", ST_OK: "#E2EFDA", ST_ERRORS: "#F8CBAD", ST_LATE: "#FFE699"}
TABLE_HEAD = 3  # 0-based row of the Vietnamese headers on Tổng hợp; codes on the next row


class _F:
    def __init__(self, wb):
        base = {"font_name": "Times New Roman", "font_size": 11, "valign": "vcenter"}

        def f(**kw):
            return wb.add_format({**base, **kw})

        self.title = f(bold=True, font_size=14)
        self.sub = f(italic=True, font_color="#595959")
        self.head = f(bold=True, bg_color="#D9E1F2", border=1, text_wrap=True, align="center")
        self.code = f(font_size=9, font_color="#595959", border=1, align="center", bg_color="#D9E1F2")
        self.text = f(border=1)
        self.wrap = f(border=1, text_wrap=True)
        self.int = f(border=1, num_format="#,##0")
        self.dec = f(border=1, num_format="#,##0.##")
        self.pct = f(border=1, num_format="0.00")
        self.date = f(border=1, num_format="dd/mm/yyyy")
        self.time = f(border=1, num_format="dd/mm/yyyy hh:mm")
        self.total = f(bold=True, border=1, bg_color="#FFF2CC", num_format="#,##0.##")
        self.total_text = f(bold=True, border=1, bg_color="#FFF2CC")
        self.label = f(bold=True)
        self.number = f(bold=True, num_format="#,##0")
        self.status = {s: f(border=1, bg_color=c) for s, c in STATUS_COLOURS.items()}


def _num_format(fmt: _F, kind: str):
    return {"count": fmt.int, "percent": fmt.pct, "money": fmt.dec, "decimal": fmt.dec}.get(kind, fmt.text)


def _write(ws, r: int, c: int, value: Any, cell_format) -> None:
    """A value with its own cell type; text is always text."""
    if value is None or value == "":
        ws.write_blank(r, c, None, cell_format)
    elif isinstance(value, bool):
        ws.write_string(r, c, "Có" if value else "Không", cell_format)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, cell_format)
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, cell_format)
    elif hasattr(value, "year"):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), cell_format)
    else:
        ws.write_string(r, c, str(value), cell_format)


def _table(ws, r0: int, heads: tuple[str, ...], widths: tuple[int, ...], fmt: _F) -> None:
    for c, (h, w) in enumerate(zip(heads, widths)):
        ws.write_string(r0, c, h, fmt.head)
        ws.set_column(c, c, w)
    ws.freeze_panes(r0 + 1, 0)


def _status_sheet(ws, res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, f"TÌNH HÌNH NỘP PHIẾU SỐ LIỆU — {period_year(res.period, res.year).upper()}", fmt.title)
    totals = (("Số đơn vị phải nộp", res.expected), ("Đã nộp", res.received),
              ("Hợp lệ (không có lỗi)", res.valid), ("Nộp muộn", res.late),
              ("Chưa nộp", res.expected - res.received))
    for i, (name, n) in enumerate(totals):
        ws.write_string(1 + i, 1, name, fmt.label)
        ws.write_number(1 + i, 2, n, fmt.number)
    top = 7
    heads = ("STT", "Mã ĐVHC", "Tên đơn vị", "Loại", "Trạng thái", "Tệp", "Thời gian nhận", "Hạn nộp",
             "Số lỗi", "Số cảnh báo", "Ghi chú")
    _table(ws, top, heads, (6, 10, 28, 10, 12, 40, 17, 12, 8, 10, 50), fmt)
    for i, row in enumerate(res.rows, start=1):
        r = top + i
        for c, (v, f) in enumerate(((i, fmt.int), (row.unit.code, fmt.text), (row.unit.name, fmt.text),
                                    (row.unit.kind, fmt.text), (row.status, fmt.status[row.status]),
                                    (row.file, fmt.text), (row.received, fmt.time), (row.deadline, fmt.date),
                                    (row.errors if row.file else None, fmt.int),
                                    (row.warnings if row.file else None, fmt.int), (row.note, fmt.wrap))):
            _write(ws, r, c, v, f)
    ws.autofilter(top, 0, top + len(res.rows), len(heads) - 1)
    r = top + len(res.rows) + 2
    ws.write_string(r, 0, f"Tệp không đưa vào tổng hợp ({len(res.excluded)})", fmt.label)
    ws.write_string(r + 1, 0, "STT", fmt.head)
    ws.write_string(r + 1, 1, "Tệp", fmt.head)
    ws.merge_range(r + 1, 2, r + 1, 6, "Lý do", fmt.head)
    for i, (path, why) in enumerate(res.excluded, start=1):
        ws.write_number(r + 1 + i, 0, i, fmt.int)
        ws.write_string(r + 1 + i, 1, path, fmt.text)
        ws.merge_range(r + 1 + i, 2, r + 1 + i, 6, why, fmt.wrap)
    r += len(res.excluded) + 3
    ws.write_string(r, 0, f"Sai khác mẫu phiếu theo tệp ({len(res.drift)})", fmt.label)
    for i, (path, where, msg) in enumerate(res.drift, start=1):
        ws.write_string(r + i, 1, path, fmt.text)
        ws.write_string(r + i, 2, where, fmt.text)
        ws.merge_range(r + i, 3, r + i, 8, msg, fmt.wrap)


def _ranks(rows: list[UnitRow], code: str) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4), highest first, of the units that report the ratio."""
    vals = sorted(((r.value(code), r.unit.code) for r in rows
                   if r.status != ST_MISSING and isinstance(r.value(code), (int, float))), reverse=True)
    ranks: dict[str, int] = {}
    for i, (v, unit) in enumerate(vals):
        ranks[unit] = i + 1 if i == 0 or v != vals[i - 1][0] else ranks[vals[i - 1][1]]
    return ranks


def _summary_sheet(wb, ws, res: Consolidation, fmt: _F) -> dict[str, int]:
    """Tổng hợp; returns the column of each indicator (for the charts)."""
    inds = res.form.indicators
    ws.write_string(0, 0, f"TỔNG HỢP SỐ LIỆU CÁC XÃ, PHƯỜNG, ĐẶC KHU — {period_year(res.period, res.year).upper()}",
                    fmt.title)
    ws.write_string(1, 0, "Dòng tổng: chỉ tiêu cộng được thì cộng; tỷ lệ tính lại từ tổng tử số và tổng mẫu "
                          "số, không lấy trung bình các tỷ lệ; chỉ tiêu không cộng được để trống.", fmt.sub)
    fixed = ("STT", "Mã ĐVHC", "Tên đơn vị", "Trạng thái")
    rank_heads = tuple(f"Xếp hạng {res.form.indicator(c).label}" for c in KEY_RATIOS)
    heads = fixed + tuple(f"{i.label} ({i.unit})" if i.unit else i.label for i in inds) + rank_heads
    codes = ("", "", "", "") + tuple(i.code for i in inds) + tuple(f"HANG_{c}" for c in KEY_RATIOS)
    for c, (h, code) in enumerate(zip(heads, codes)):
        ws.write_string(TABLE_HEAD, c, h, fmt.head)
        ws.write_string(TABLE_HEAD + 1, c, code, fmt.code)
    ws.set_row(TABLE_HEAD, 75)
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, 9)
    ws.set_column(2, 2, 26)
    ws.set_column(3, 3, 11)
    ws.set_column(4, len(heads) - 1, 13)
    ws.freeze_panes(TABLE_HEAD + 2, 3)
    col = {i.code: 4 + k for k, i in enumerate(inds)}
    ranks = {c: _ranks(res.rows, c) for c in KEY_RATIOS}
    first = TABLE_HEAD + 2
    for n, row in enumerate(res.rows):
        r = first + n
        _write(ws, r, 0, n + 1, fmt.int)
        _write(ws, r, 1, row.unit.code, fmt.text)
        _write(ws, r, 2, row.unit.name, fmt.text)
        _write(ws, r, 3, row.status, fmt.status[row.status])
        for i in inds:
            v = row.value(i.code)
            _write(ws, r, col[i.code], v if (i.numeric and isinstance(v, (int, float))) or not i.numeric
                   else None, _num_format(fmt, i.type))
        for k, c in enumerate(KEY_RATIOS):
            _write(ws, r, 4 + len(inds) + k, ranks[c].get(row.unit.code), fmt.int)
    total_row = first + len(res.rows)
    ws.merge_range(total_row, 0, total_row, 3, "TỔNG CỘNG TOÀN THÀNH PHỐ", fmt.total_text)
    for i in inds:
        _write(ws, total_row, col[i.code], res.totals.get(i.code), fmt.total)
    for k in range(len(KEY_RATIOS)):
        ws.write_blank(total_row, 4 + len(inds) + k, None, fmt.total)
    last = total_row - 1
    for code in KEY_RATIOS:  # a colour scale shows the weak units at a glance
        c = col[code]
        ws.conditional_format(first, c, last, c, {"type": "3_color_scale", "min_color": "#F8696B",
                                                  "mid_color": "#FFEB84", "max_color": "#63BE7B"})
    for code in ("HS_QUA_HAN", "HS_DANG_QUA_HAN"):
        if code in col:
            ws.conditional_format(first, col[code], last, col[code], {"type": "data_bar",
                                                                      "bar_color": "#F4B183"})
    ws.autofilter(TABLE_HEAD + 1, 0, last, len(heads) - 1)
    return {**col, "_first": first, "_last": last}


def _findings_sheet(ws, res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, "LỖI VÀ CẢNH BÁO CỦA TỪNG ĐƠN VỊ", fmt.title)
    heads = ("Mã ĐVHC", "Tên đơn vị", "Tệp", "Sheet", "Ô", "Mức độ", "Mã lỗi", "Nội dung")
    _table(ws, 2, heads, (10, 26, 36, 18, 7, 11, 22, 90), fmt)
    r = 3
    for row in res.rows:
        for f in row.findings:
            vals = (row.unit.code, row.unit.name, f.get("file") or row.file, f.get("sheet", ""),
                    f.get("cell", ""), SEVERITY_VI.get(f["severity"], f["severity"]), f.get("code", ""),
                    f.get("message", ""))
            for c, v in enumerate(vals):
                ws.write_string(r, c, str(v), fmt.wrap if c == 7 else fmt.text)
            r += 1
    for path, why in res.excluded:  # files that never reached a unit row are findings too
        vals = ("", "", path, "", "", SEVERITY_VI["error"] if why.startswith("Không đọc") else "GHI CHÚ",
                "tep-khong-tong-hop", why)
        for c, v in enumerate(vals):
            ws.write_string(r, c, v, fmt.wrap if c == 7 else fmt.text)
        r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(heads) - 1)


def _sources_sheet(ws, res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, "NGUỒN CỦA TỪNG SỐ LIỆU (TỆP!SHEET!Ô)", fmt.title)
    heads = ("Mã ĐVHC", "Tên đơn vị", "Mã chỉ tiêu", "Chỉ tiêu", "Giá trị", "Nguồn")
    _table(ws, 2, heads, (10, 26, 20, 50, 14, 70), fmt)
    r = 3
    for row in res.rows:
        for ind in res.form.indicators:
            v = row.value(ind.code)
            if v is None:
                continue
            for c, x in enumerate((row.unit.code, row.unit.name, ind.code, ind.label)):
                ws.write_string(r, c, x, fmt.text)
            _write(ws, r, 4, v, _num_format(fmt, ind.type))
            ws.write_string(r, 5, source_ref(row, ind.code), fmt.text)
            r += 1
    ws.autofilter(2, 0, max(r - 1, 3), len(heads) - 1)


def _charts_sheet(wb, ws, cols: dict[str, int], res: Consolidation, fmt: _F) -> None:
    ws.write_string(0, 0, "BIỂU ĐỒ TỶ LỆ THEO ĐƠN VỊ", fmt.title)
    ws.write_string(1, 0, "Số liệu lấy từ sheet «Tổng hợp»; đơn vị chưa nộp để trống.", fmt.sub)
    first, last = cols["_first"], cols["_last"]
    names = f"='{SHEET_TABLE}'!${xl_col_to_name(2)}${first + 1}:${xl_col_to_name(2)}${last + 1}"
    for k, (code, colour) in enumerate((("TL_HS_TRUC_TUYEN", "#4472C4"), ("TL_HS_DUNG_HAN", "#70AD47"))):
        ind = res.form.indicator(code)
        c = xl_col_to_name(cols[code])
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"name": ind.label, "categories": names,
                          "values": f"='{SHEET_TABLE}'!${c}${first + 1}:${c}${last + 1}",
                          "fill": {"color": colour}, "gap": 40})
        chart.set_title({"name": f"{ind.label} (%)", "name_font": {"size": 12}})
        chart.set_x_axis({"num_font": {"rotation": -90, "size": 7}})
        chart.set_y_axis({"min": 0, "max": 100, "name": "%"})
        chart.set_legend({"none": True})
        chart.set_size({"width": 1800, "height": 420})
        ws.insert_chart(xl_rowcol_to_cell(3 + k * 23, 0), chart)


def write_city_workbook(res: Consolidation, out: Path) -> Path:
    """Write the city workbook for `res` to `out`, atomically."""
    with atomic_path(out) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False})
        wb.set_properties({"title": f"Tổng hợp {period_year(res.period, res.year)}", "author": "baocao"})
        fmt = _F(wb)
        status = wb.add_worksheet(SHEET_STATUS)
        table = wb.add_worksheet(SHEET_TABLE)
        _status_sheet(status, res, fmt)
        cols = _summary_sheet(wb, table, res, fmt)
        _findings_sheet(wb.add_worksheet(SHEET_FINDINGS), res, fmt)
        _sources_sheet(wb.add_worksheet(SHEET_SOURCES), res, fmt)
        _charts_sheet(wb, wb.add_worksheet(SHEET_CHARTS), cols, res, fmt)
        for ws in wb.worksheets():  # printable on A4: one page wide, except the wide indicator table
            ws.set_paper(9)
            ws.set_landscape()
            if ws is not table:
                ws.fit_to_pages(1, 0)
        wb.close()
    return out
