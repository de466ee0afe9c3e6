"""Write the intake workbook (blank or filled) from the form definition.

XlsxWriter gives data validation, Excel Tables, protection and defined names,
and writes byte-identical files for identical input (fixed zip timestamps and a
fixed creation date), so the committed template can be compared with a fresh one.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from toolkit.atomic import atomic_path
from toolkit.definition import Field, Form, ListDef
from toolkit.definition import layout as L
from toolkit.excel.check_sheet import Cached, mark_inputs, write_check_sheet, write_row_checks
from toolkit.excel.fit import FittedSheet
from toolkit.excel.formula_sheet import FormulaSheet

CREATED = datetime(2026, 1, 1)
MAX_COUNT = 1_000_000_000
MIN_DATE, MAX_DATE = date(2000, 1, 1), date(2100, 12, 31)
LIST_PAGE_WIDTH = 140  # characters across a landscape A4 page at 100% with half-inch margins

_TYPE_HINT = {
    "count": "Số nguyên, không âm",
    "decimal": "Số, có thể có phần thập phân",
    "percent": "Tỷ lệ phần trăm: gõ 99,2 hoặc 99,2% (ô tự thêm dấu %)",
    "money": "Số tiền, đơn vị triệu đồng",
    "date": "Ngày, dạng ngày/tháng/năm",
    "text": "Văn bản",
    "choice": "Chọn từ danh sách",
}


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "vcenter"}

        def f(**kw):
            return wb.add_format({**base, **kw})

        self.title = f(bold=True, font_size=14)
        self.subtitle = f(italic=True, font_color="#595959")
        self.subtitle_wrap = f(italic=True, font_color="#595959", text_wrap=True)
        self.head = f(bold=True, bg_color="#D9E1F2", border=1, text_wrap=True, align="center")
        self.code = f(font_color="#808080", font_size=9, border=1)
        self.label = f(border=1, text_wrap=True)
        self.check_id = f(border=1, font_size=11, font_color="#595959")
        self.section = f(bold=True, bg_color="#FFF2CC", border=1, text_wrap=True)
        self.group = f(bold=True, italic=True, border=1, text_wrap=True)
        self.center = f(border=1, align="center")
        self.hint = f(font_color="#595959", font_size=10, border=1, text_wrap=True)
        self.text = f(text_wrap=True, valign="top")
        self.text_cell = f(border=1, text_wrap=True, font_size=11)
        self.center_bold = f(border=1, align="center", bold=True)
        self.link = f(border=1, font_color="#0563C1", underline=1)
        self.count_error = f(bold=True, font_color="#C00000", border=1, align="center")
        self.count_warning = f(bold=True, font_color="#9C5700", border=1, align="center")
        self.input = {
            "count": f(locked=False, border=1, bg_color="#E2EFDA", num_format="#,##0"),
            "decimal": f(locked=False, border=1, bg_color="#E2EFDA", num_format="#,##0.##"),
            "percent": f(locked=False, border=1, bg_color="#E2EFDA", num_format="0.00%"),
            "money": f(locked=False, border=1, bg_color="#E2EFDA", num_format="#,##0.###"),
            "date": f(locked=False, border=1, bg_color="#E2EFDA", num_format="dd/mm/yyyy"),
            "text": f(locked=False, border=1, bg_color="#E2EFDA", text_wrap=True, num_format="@"),
            "choice": f(locked=False, border=1, bg_color="#E2EFDA"),
        }
        self.table_head = f(bold=True, text_wrap=True, valign="top")
        self.list_cell = {k: wb.add_format({**base, "text_wrap": k in ("text", "choice"),
                                            "num_format": v.num_format})
                          for k, v in self.input.items()}


def choice_name(list_name: str) -> str:
    """Defined name of a choice list on the Danh mục sheet."""
    return "DM_" + list_name.upper()


def validation(field: Field) -> dict:
    """XlsxWriter data-validation options with Vietnamese messages for one input cell."""
    hint = field.note or _TYPE_HINT[field.type]
    title = field.label[:32]
    if field.type == "count":
        lo = int(field.min or 0)
        hi = int(field.max) if field.max is not None else MAX_COUNT
        opts = {"validate": "integer", "criteria": "between", "minimum": lo, "maximum": hi,
                "error_message": f"Chỉ nhập số nguyên từ {lo} đến {hi:,}.".replace(",", ".")}
    elif field.type == "percent":  # the cell holds a fraction: typing 99,2 or 99,2% stores 0,992
        lo, hi = field.min or 0, field.max if field.max is not None else 100
        opts = {"validate": "decimal", "criteria": "between", "minimum": lo / 100, "maximum": hi / 100,
                "error_message": f"Chỉ nhập tỷ lệ từ {_vn(lo)}% đến {_vn(hi)}% (gõ 99,2 hoặc 99,2%)."}
    elif field.type in ("decimal", "money"):
        lo = field.min or 0
        hi = field.max if field.max is not None else float(MAX_COUNT)
        opts = {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi,
                "error_message": f"Chỉ nhập số từ {_vn(lo)} đến {_vn(hi)}."}
    elif field.type == "date":
        opts = {"validate": "date", "criteria": "between", "minimum": MIN_DATE, "maximum": MAX_DATE,
                "error_message": "Chỉ nhập ngày hợp lệ, dạng ngày/tháng/năm (ví dụ 09/01/2026)."}
    elif field.type == "choice":
        opts = {"validate": "list", "source": "=" + choice_name(field.choices),
                "error_message": "Chỉ chọn một giá trị trong danh sách thả xuống."}
    elif field.suggest:  # the dropdown offers the labels; several, separated by ";", are kept after a notice
        return {"validate": "list", "source": "=" + choice_name(field.suggest), "input_title": title,
                "input_message": hint[:255], "error_title": "Nhiều lựa chọn", "error_type": "information",
                "error_message": "Giá trị không có trong danh sách. Nếu đây là nhiều lựa chọn cách nhau dấu chấm "
                                 "phẩy thì bấm OK để giữ; nếu gõ nhầm thì bấm Cancel.", "ignore_blank": True}
    else:
        hi = int(field.max or 8000)
        opts = {"validate": "length", "criteria": "<=", "value": hi,
                "error_message": f"Nội dung dài tối đa {hi} ký tự."}
    return {**opts, "input_title": title, "input_message": hint[:255],
            "error_title": "Giá trị không hợp lệ", "error_type": "stop", "ignore_blank": True}


def _vn(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".") if float(x).is_integer() else str(x).replace(".", ",")


def build(form: Form, out: Path | str, data: dict[str, Any] | None = None,
          extra: Callable[[xlsxwriter.Workbook, _Formats], None] | None = None) -> Path:
    """Write the intake workbook to `out` (atomically); fill it from `data` when given.

    `extra(wb, fmt)` runs once every sheet is written: the .xlsm builder adds its buttons there.
    The file is written twice: the checks of the first are decided in Python and stored in the second
    as the results of the Kiểm tra formulas."""
    from toolkit.check import sheet_decisions
    from toolkit.intake import read_submission

    out = Path(out)
    data = data or {}
    with atomic_path(out) as tmp:
        _write(form, tmp, data, None, None)
        cached = Cached.of(sheet_decisions(read_submission(tmp, form), form))
        _write(form, tmp, data, extra, cached)
    return out


def _write(form: Form, tmp: Path, data: dict[str, Any], extra, cached: Cached | None) -> None:
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True})
    wb.set_properties({"title": form.title, "subject": f"{form.form_id} {form.version}",
                       "author": "baocao", "created": CREATED,
                       "keywords": f"{form.form_id};{form.version}"})
    wb.set_custom_property("baocao_form_id", form.form_id)
    wb.set_custom_property("baocao_version", form.version)
    fmt = _Formats(wb)
    _guide(wb.add_worksheet(L.SHEET_GUIDE, FittedSheet), form, fmt)
    _meta(wb, wb.add_worksheet(L.SHEET_META, FormulaSheet), form, fmt, data.get("thong_tin") or {})
    _data(wb, wb.add_worksheet(L.SHEET_DATA, FormulaSheet), form, fmt, data.get("so_lieu") or {},
          data.get("ghi_chu") or {})
    rows_written = {}
    for lst in form.lists:
        rows = (data.get("danh_sach") or {}).get(lst.id) or []
        _list(wb.add_worksheet(lst.sheet, FormulaSheet), lst, form, fmt, rows)
        rows_written[lst.id] = len(rows)
    check = wb.add_worksheet(L.SHEET_CHECK, FormulaSheet)
    _choices(wb, wb.add_worksheet(L.SHEET_LISTS), form, fmt)
    if cached is not None:  # the first pass is only read back, for its values
        write_check_sheet(wb, check, form, fmt, rows_written, cached)
        write_row_checks(wb, form, rows_written, cached)
        mark_inputs(wb, form)
    if extra:
        extra(wb, fmt)
    for ws in wb.worksheets():
        if isinstance(ws, FittedSheet):
            ws.fit_rows()
    wb.worksheets()[1].activate()
    wb.close()


def _print_setup(ws, landscape: bool = False) -> None:
    """A4, one page wide. Column widths are chosen to fit the page at about 100%, so that the fit never shrinks
    text below 9 pt."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)


def _print_rows(ws, last_row: int, columns: int) -> None:
    """Print every written row, from the column after the code column."""
    ws.print_area(0, 1, last_row, columns - 1)


def _protect(ws) -> None:
    ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})


def _guide(ws, form: Form, fmt: _Formats) -> None:
    ws.set_column(0, 0, 92)
    _print_setup(ws)
    lines = [
        (form.title, fmt.title),
        (f"{L.STAMP_FORM}: {form.form_id} — {L.STAMP_VERSION}: {form.version}", fmt.subtitle),
        ("", None),
        ("Cách điền phiếu", fmt.group),
        ("1. Sheet «Thông tin chung»: chọn mã và tên đơn vị, kỳ báo cáo, năm, khoảng thời gian lấy số liệu "
         "và thông tin người ký.", fmt.text),
        ("2. Sheet «Số liệu»: mỗi dòng một chỉ tiêu; chỉ nhập vào cột «Giá trị» (ô nền xanh). "
         "Để trống chỉ tiêu không có số liệu; nhập 0 khi số liệu bằng không.", fmt.text),
        ("3. Số nhập bằng bàn phím như bình thường; tỷ lệ phần trăm gõ 99,2 hoặc 99,2% đều được (ô tự thêm dấu %). "
         "Số tiền tính bằng triệu đồng.", fmt.text),
        ("4. Các sheet " + ", ".join(f"«{lst.sheet}»" for lst in form.lists) + " là các bảng: "
         "mỗi dòng một mục; gõ tiếp vào dòng ngay dưới bảng để bảng tự mở rộng.", fmt.text),
        ("   Một phiếu lập được nhiều báo cáo: sheet «Báo cáo» ghi số, ngày, người ký, nơi nhận riêng của từng "
         "báo cáo; cột «Dùng cho báo cáo» của sheet «Nội dung» ghi đoạn văn thuộc báo cáo nào (để trống: mọi "
         "báo cáo); sheet «Số liệu riêng» ghi số liệu riêng của một báo cáo (khác kỳ, khác ngày), số ước "
         "tính («trên 450») và khoảng thời gian riêng của một chỉ tiêu hay cả nhóm chỉ tiêu (chỉ ghi Đến ngày: "
         "«tính đến ngày …»; chỉ ghi Từ ngày: «từ ngày … đến nay»).", fmt.text),
        ("5. Sheet «Kiểm tra» tự động đối chiếu số liệu (ví dụ tổng hồ sơ tiếp nhận = trong kỳ + từ kỳ trước), "
         "tô đỏ ô sai ở các sheet nhập; ô thành phần để trống được hiểu là chưa biết, sheet nói cần bao nhiêu. "
         "Xử lý hết các dòng «LỖI» trước khi gửi; dòng «CẢNH BÁO» cần xem lại và ghi chú nếu đúng.", fmt.text),
        ("6. Không đổi tên sheet, không xóa cột «Mã» và không sửa mã chỉ tiêu: phần mềm tổng hợp "
         "tìm số liệu theo mã.", fmt.text),
        ("7. Gửi tệp về Sở Nội vụ đúng hạn; mỗi đơn vị một tệp cho mỗi kỳ báo cáo.", fmt.text),
    ]
    for r, (text, f) in enumerate(lines):
        if f is None:
            continue
        ws.write_string(r, 0, text, f)
    _protect(ws)


def _header(ws, title: str, subtitle: str, columns: tuple[str, ...], widths: tuple[int, ...],
            fmt: _Formats) -> None:
    """Title, subtitle and column headers of Thông tin chung and Số liệu, printed landscape. The titles stand
    beside the code column, which is for the software and is not printed (`_print_rows`)."""
    ws.write_string(0, 1, title, fmt.title)
    ws.write_string(1, 1, subtitle, fmt.subtitle)
    for c, (name, width) in enumerate(zip(columns, widths)):
        ws.write_string(L.HEADER_ROW, c, name, fmt.head)
        ws.set_column(c, c, width)
    ws.freeze_panes(L.HEADER_ROW + 1, 0)
    ws.repeat_rows(L.HEADER_ROW)
    _print_setup(ws, landscape=True)


def write_value(ws, row: int, col: int, field: Field, value: Any, cell_format) -> None:
    """Write one value with the cell type its field expects; text is never read as a formula."""
    if value is None or value == "":
        ws.write_blank(row, col, None, cell_format)
    elif field.type == "date" and isinstance(value, (date, datetime)):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), cell_format)
    elif field.numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value / 100 if field.type == "percent" else value, cell_format)
    else:
        ws.write_string(row, col, str(value), cell_format)


def _meta(wb, ws, form: Form, fmt: _Formats, values: dict) -> None:
    _header(ws, "THÔNG TIN CHUNG", "Thông tin về đơn vị, kỳ báo cáo và người ký",
            L.META_COLUMNS, (16, 42, 40, 60), fmt)
    for i, f in enumerate(form.metadata):
        r = L.HEADER_ROW + 1 + i
        ws.write_string(r, 0, f.code, fmt.code)
        ws.write_string(r, 1, f.label + (" (*)" if f.required else ""), fmt.label)
        write_value(ws, r, 2, f, values.get(f.code), fmt.input[f.type])
        ws.write_string(r, 3, f.note or _TYPE_HINT[f.type], fmt.hint)
        ws.data_validation(r, 2, r, 2, validation(f))
        wb.define_name(f.code, f"='{L.SHEET_META}'!{xl_rowcol_to_cell(r, 2, True, True)}")
        if f.code == "NOI_NHAN":
            ws.set_row(r, 90)
    _print_rows(ws, L.HEADER_ROW + len(form.metadata), len(L.META_COLUMNS))
    _protect(ws)


def _data(wb, ws, form: Form, fmt: _Formats, values: dict, notes: dict) -> None:
    _header(ws, "SỐ LIỆU BÁO CÁO", "Chỉ nhập vào cột «Giá trị»; cột «Mã» dùng để tổng hợp, không sửa",
            L.DATA_COLUMNS, (20, 7, 62, 13, 16, 40), fmt)
    r = L.HEADER_ROW + 1
    for s in form.sections:
        ws.write_blank(r, 0, None, fmt.section)
        ws.write_string(r, 1, s.stt, fmt.section)
        ws.merge_range(r, 2, r, 5, s.label.upper(), fmt.section)
        r += 1
        for g in s.groups:
            ws.write_blank(r, 0, None, fmt.group)
            ws.write_string(r, 1, g.stt, fmt.group)
            ws.merge_range(r, 2, r, 5, g.label, fmt.group)
            r += 1
            for f in g.indicators:
                ws.write_string(r, 0, f.code, fmt.code)
                ws.write_string(r, 1, f.stt, fmt.center)
                ws.write_string(r, 2, f.label + (" (*)" if f.required else ""), fmt.label)
                ws.write_string(r, 3, f.unit, fmt.center)
                write_value(ws, r, 4, f, values.get(f.code), fmt.input[f.type])
                write_value(ws, r, 5, Field("", "", type="text"), notes.get(f.code), fmt.input["text"])
                ws.data_validation(r, 4, r, 4, validation(f))
                wb.define_name(f.code, f"='{L.SHEET_DATA}'!{xl_rowcol_to_cell(r, 4, True, True)}")
                r += 1
    _print_rows(ws, r - 1, len(L.DATA_COLUMNS))
    _protect(ws)


def _list(ws, lst: ListDef, form: Form, fmt: _Formats, rows: list[dict]) -> None:
    ws.write_string(0, 0, lst.label.upper(), fmt.title)
    ws.merge_range(1, 0, 1, len(lst.columns) - 1, "Mỗi dòng một mục; gõ tiếp ngay dưới bảng để thêm dòng."
                   + _scale(lst, form), fmt.subtitle_wrap)
    n = max(len(rows), lst.blank_rows)
    top = L.LIST_HEADER_ROW
    ws.add_table(top, 0, top + n, len(lst.columns) - 1, {
        "name": lst.table, "style": "Table Style Light 9",
        "columns": [{"header": c.label, "header_format": fmt.table_head} for c in lst.columns],
    })
    for ci, (col, width) in enumerate(zip(lst.columns, list_widths(lst))):
        ws.set_column(ci, ci, width, fmt.list_cell[col.type])
        ws.data_validation(top + 1, ci, top + n, ci, validation(col))
        for ri, row in enumerate(rows):
            write_value(ws, top + 1 + ri, ci, col, row.get(col.code), fmt.list_cell[col.type])
    ws.freeze_panes(top + 1, 0)
    _print_setup(ws, landscape=True)


def _scale(lst: ListDef, form: Form) -> str:
    """The marks a list is scored against, from the definition: " Các tiêu chí và điểm tối đa: …"."""
    for col in lst.columns:
        items = [c for c in form.choices.get(col.choices or "", ()) if "max" in c.extra]
        if items:
            marks = "; ".join(f"{c.label} ({_vn(c.extra['max'])} điểm)" for c in items)
            total = _vn(sum(c.extra["max"] for c in items))
            return f" Các {col.label.lower()} và điểm tối đa: {marks}; tổng {total} điểm."
    return ""


def list_widths(lst: ListDef) -> list[float]:
    """Column widths of a list sheet: short columns as wide as their values need, and the long texts sharing
    what is left of a landscape A4 page, so that the sheet prints one page wide at 9 pt or more."""
    fixed = [None if c.type == "text" and (c.max or 0) > 200 else
             {"date": 13, "choice": 24, "text": 14 if (c.max or 0) <= 30 else 22}.get(c.type, 11) for c in lst.columns]
    long = fixed.count(None)
    share = max((LIST_PAGE_WIDTH - sum(w for w in fixed if w)) / long, 30) if long else 0
    return [w or share for w in fixed]


def _choices(wb, ws, form: Form, fmt: _Formats) -> None:
    ws.write_string(0, 0, L.STAMP_FORM)
    ws.write_string(0, 1, form.form_id)
    ws.write_string(1, 0, L.STAMP_VERSION)
    ws.write_string(1, 1, form.version)
    for c, (name, items) in enumerate(sorted(form.choices.items()), start=3):
        ws.write_string(0, c, name, fmt.head)
        for r, item in enumerate(items, start=1):
            ws.write_string(r, c, item.label)
        ref = xl_rowcol_to_cell(1, c, True, True) + ":" + xl_rowcol_to_cell(len(items), c, True, True)
        wb.define_name(choice_name(name), f"='{L.SHEET_LISTS}'!{ref}")
    # Symbol abbreviations of the document types, beside nothing else: the register checks look them up.
    c = 3 + len(form.choices)
    types = form.choices["loai_van_ban"]
    ws.write_string(0, c, "ky_hieu_loai_van_ban", fmt.head)
    for r, item in enumerate(types, start=1):
        ws.write_string(r, c, item.extra.get("abbr", item.code))
    ref = xl_rowcol_to_cell(1, c, True, True) + ":" + xl_rowcol_to_cell(len(types), c, True, True)
    wb.define_name(choice_name("loai_van_ban") + "_KY_HIEU", f"='{L.SHEET_LISTS}'!{ref}")
    ws.hide()
    _protect(ws)
