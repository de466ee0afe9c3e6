"""The Kiểm tra sheet and the live marks on the input sheets, written from the rulebook.

One row per check: what it checks in the officer's words, its severity, the live
verdict (ĐẠT / LỖI / CẢNH BÁO / CHƯA ĐỦ SỐ LIỆU), the error and warning counts, the
message with the values and a link to the cell to fix. Every formula is written
with the result Python computes for the data written (`decisions`), so a reader
that does not recalculate sees the true verdicts. Formula text comes from
`toolkit.excel.formulas`; the decisions from `toolkit.checker.sheet_decisions`.
"""
from __future__ import annotations

from dataclasses import dataclass

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from toolkit.definition import BUTTON_ONLY, RATIO_SLIP, ROW_CHECKS, Check, Form, checks, leaf_label, refs
from toolkit.definition import layout as L
from toolkit.excel import formulas as X

COLUMNS = ("Mã", "Nội dung kiểm tra", "Mức độ", "Kết quả", "Số lỗi", "Số cảnh báo", "Thông báo", "Ô cần sửa")
# Printed landscape on A4 one page wide (at about 85%): its 11 pt check names print at 9 pt or more.
WIDTHS = (24, 42, 9, 21, 7, 9, 30, 11)
VERDICT_COL = COLUMNS.index("Kết quả")
HEADER_ROW = 6  # 0-based; rows above: title, counts, and the buttons' panel of the .xlsm
SUMMARY_ROWS = {"errors": 1, "warnings": 2}
PANEL_ROWS = (3, 4)  # report type and status of the .xlsm (toolkit.excel.xlsm)
HIDDEN = {"outcome": 8, "left": 9, "right": 10, "d": 11}  # hidden columns of a rule row: what the formulas share
HELPER_COL = 26  # list sheets: first (hidden) column of the row checks, far from the tables
ROW_MARGIN = 20  # rows below a list table that the row checks still cover
SEVERITY_TEXT = {"error": "Lỗi", "warning": "Cảnh báo"}
COLOURS = {X.FAIL["error"]: "#FFC7CE", X.WARN: "#FFEB9C"}  # as toolkit.check.annotate's fills
COLOURS_OK = {X.OK: "#C6EFCE", X.SKIP: "#EDEDED"}


@dataclass(frozen=True)
class Cached:
    """What Python decided for the data written, stored as the formulas' results."""

    decisions: dict  # check id -> checker.Decision
    rows: dict  # (check id, sheet, row) -> message of that row check

    @classmethod
    def of(cls, decisions: dict) -> "Cached":
        rows = {}
        for cid, _, _, _ in ROW_CHECKS:
            for f in decisions[cid].findings:
                rows[(cid, f.sheet, int("".join(ch for ch in f.cell if ch.isdigit())))] = f.message
        return cls(decisions, rows)


def _cells(wb) -> dict[str, tuple[str, str]]:
    """Defined name -> (sheet, A1 cell) of every name the workbook writer has set."""
    out = {}
    for name, _, formula, _ in wb.defined_names:
        sheet, _, cell = formula.lstrip("=").rpartition("!")
        out[name] = (sheet.strip("'"), cell.replace("$", ""))
    return out


def _list_rows(form: Form, rows_written: dict[str, int]) -> dict[str, tuple[int, int]]:
    """List id -> (first, last) 0-based sheet rows its row checks cover."""
    first = L.LIST_HEADER_ROW + 1
    return {lst.id: (first, first + max(rows_written.get(lst.id, 0), lst.blank_rows) + ROW_MARGIN - 1)
            for lst in form.lists}


def write_row_checks(wb, form: Form, rows_written: dict[str, int], cached: Cached) -> None:
    """Hidden columns of row-check formulas on the list sheets, and their red marks on the input cells. A row
    check is one formula filled down its column (shared: written once); the columns stay beside the table, so
    that deleting or inserting a whole row of the list takes its checks along."""
    names = _cells(wb)
    span = _list_rows(form, rows_written)
    abbr_rng, labels_rng = "DM_LOAI_VAN_BAN_KY_HIEU", "DM_LOAI_VAN_BAN"
    hs = names.get("HS_QUA_HAN")
    hs_text = f"{hs[0]}!{hs[1]}" if hs else ""
    by_list: dict[str, list[tuple[str, str]]] = {}
    for cid, list_id, column, _ in ROW_CHECKS:
        by_list.setdefault(list_id, []).append((cid, column))
    for list_id, items in by_list.items():
        lst = form.list(list_id)
        ws = wb.get_worksheet_by_name(lst.sheet)
        top, bottom = span[list_id]
        letters = {c.code: xl_col_to_name(i) for i, c in enumerate(lst.columns)}
        for k, (cid, column) in enumerate(items):
            col = HELPER_COL + k
            ws.write_string(L.LIST_HEADER_ROW, col, cid)
            first = {code: f"{letter}{top + 1}" for code, letter in letters.items()}
            rows = range(top, bottom + 1)
            formulas = [X.row_formula(cid, {code: f"{letter}{r + 1}" for code, letter in letters.items()}, first,
                                      form, abbr_rng, labels_rng, hs_text) for r in rows]
            ws.write_column(top, col, formulas, [cached.rows.get((cid, lst.sheet, r + 1), "") for r in rows])
            mark = lst.columns.index(lst.column(column))
            helper = xl_col_to_name(col)
            ws.conditional_format(top, mark, bottom, mark, {
                "type": "formula", "criteria": X.row_marked(f"${helper}{top + 1}"),
                "format": wb.add_format({"bg_color": COLOURS[X.FAIL["error"]]})})
        ws.set_column(HELPER_COL, HELPER_COL + len(items) - 1, None, None, {"hidden": True})


def _verdict_cell(r: int) -> str:
    return xl_rowcol_to_cell(r, VERDICT_COL, True, True)


def write_check_sheet(wb, ws, form: Form, fmt, rows_written: dict[str, int], cached: Cached) -> None:
    names = _cells(wb)
    ranges = L.list_ranges(form)
    span = _list_rows(form, rows_written)
    all_checks = checks(form)
    first = HEADER_ROW + 1
    last = first + len(all_checks) - 1
    ws.write_string(0, 0, "KIỂM TRA SỐ LIỆU", fmt.title)
    ws.merge_range(0, 2, 0, len(COLUMNS) - 1, "Kết quả đối chiếu tự động, cập nhật ngay khi sửa số liệu (không cần "
                   "Python). Bấm vào ô ở cột «Ô cần sửa» để đến ô cần sửa.", fmt.subtitle_wrap)
    decisions = cached.decisions
    for key, row in SUMMARY_ROWS.items():
        label = "Số lỗi" if key == "errors" else "Số cảnh báo"
        col = COLUMNS.index(label)
        total = sum(getattr(d, key) for d in decisions.values())
        ws.write_string(row, 0, label + ":", fmt.group)
        ws.write_formula(row, 1, "=" + X.total(xl_rowcol_to_cell(first, col), xl_rowcol_to_cell(last, col)),
                         fmt.count_error if key == "errors" else fmt.count_warning, total)
    for c, (name, width) in enumerate(zip(COLUMNS, WIDTHS)):
        ws.write_string(HEADER_ROW, c, name, fmt.head)
        ws.set_column(c, c, width)
    for r, check in enumerate(all_checks, start=first):
        d = decisions[check.id]
        if check.kind == "rule":
            cells = {k: xl_rowcol_to_cell(r, c, col_abs=True) for k, c in HIDDEN.items()}
            labels = {x: leaf_label(x, form) for x in refs(check.rule.tree)} if check.rule.tree else {}
            parts = X.rule_cells(check.rule, ranges, form, labels, cells)
            for key, col in HIDDEN.items():
                if key in parts:
                    ws.write_formula(r, col, "=" + parts[key], None, d.cells.get(key, ""))
        verdict, message, target = _formulas(check, form, names, ranges, span, r)
        ws.write_string(r, 0, check.id, fmt.check_id)
        ws.write_string(r, 1, check.text, fmt.label)
        ws.shows(r, 6, d.message, fmt.text_cell)
        plausibility = check.rule is not None and check.rule.plausibility
        ws.write_string(r, 2, "Bất thường" if plausibility else SEVERITY_TEXT[check.severity], fmt.center)
        ws.write_formula(r, VERDICT_COL, "=" + verdict, fmt.center_bold, d.verdict)
        v = _verdict_cell(r)
        if check.kind in ("bounds", "rows"):
            ws.write_formula(r, 4, "=" + _count_expr(check, form, span), fmt.center, d.errors)
        else:
            ws.write_formula(r, 4, "=" + X.counted(v, X.FAIL["error"]), fmt.center, d.errors)
        ws.write_formula(r, 5, "=" + X.counted(v, X.WARN), fmt.center, d.warnings)
        ws.write_formula(r, 6, "=" + message, fmt.text_cell, d.message)
        link_text = str(d.link) if d.link else ""
        if target:
            ws.write_formula(r, 7, "=" + X.when_failed(v, target), fmt.link, link_text)
        else:
            ws.write_blank(r, 7, None, fmt.center)
    for text, colour in {**COLOURS, **COLOURS_OK}.items():
        ws.conditional_format(first, VERDICT_COL, last, VERDICT_COL, {
            "type": "cell", "criteria": "==", "value": f'"{text}"',
            "format": wb.add_format({"bg_color": colour})})
    note = last + 2
    # The same words serve the .xlsm (it has the button) and the plain .xlsx a unit may have been sent instead.
    ws.merge_range(note, 0, note, len(COLUMNS) - 1,
                   "Các phép kiểm tra dưới đây không có công thức trong Excel. Tệp có nút bấm (.xlsm): bấm nút "
                   "«Kiểm tra». Tệp không có nút (.xlsx): chạy lệnh «baocao kiem-tra tên_tệp.xlsx» trên máy có "
                   "cài baocao, hoặc gửi tệp về Sở Nội vụ; Sở kiểm tra đủ khi tổng hợp.", fmt.subtitle_wrap)
    for i, (cid, text) in enumerate(BUTTON_ONLY, start=note + 1):
        ws.write_string(i, 0, cid, fmt.check_id)
        ws.write_string(i, 1, text, fmt.label)
        ws.write_string(i, VERDICT_COL, "nút hoặc lệnh", fmt.center)
    ws.set_column(min(HIDDEN.values()), max(HIDDEN.values()), None, None, {"hidden": True})
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW)
    ws.protect("", {"format_columns": True, "select_locked_cells": True, "select_unlocked_cells": True})


def results_row(form: Form) -> int:
    """0-based row of the header of the table the «Kiểm tra» button writes, below the checks."""
    return HEADER_ROW + 1 + len(checks(form)) + 2 + len(BUTTON_ONLY) + 2


def _count_expr(check: Check, form: Form, span) -> str:
    if check.kind == "bounds":
        return X.out_of_bounds(form.indicators, form.metadata, L.data_value_range())
    return X.count_text(_helper_range(check, form, span))


def _helper_range(check: Check, form: Form, span) -> str:
    lst = form.list(check.list_id)
    k = [cid for cid, list_id, _, _ in ROW_CHECKS if list_id == check.list_id].index(check.id)
    top, bottom = span[check.list_id]
    col = HELPER_COL + k
    return (f"'{lst.sheet}'!{xl_rowcol_to_cell(top, col, True, True)}:"
            f"{xl_rowcol_to_cell(bottom, col, True, True)}")


def _name_link(names, code: str) -> str:
    return X.name_link(*names[code])


def _formulas(check: Check, form: Form, names, ranges, span, r: int) -> tuple[str, str, str]:
    """(verdict, message, link) expressions of one row of the sheet."""
    v = _verdict_cell(r)
    if check.kind == "required":
        verdict, message = X.required_cells(check.field)
        return verdict, message, _name_link(names, check.field.code)
    if check.kind == "rule":
        rule = check.rule
        cells = {k: xl_rowcol_to_cell(r, c, col_abs=True) for k, c in HIDDEN.items()}
        parts = X.rule_cells(rule, ranges, form, {x: leaf_label(x, form) for x in refs(rule.tree)} if rule.tree
                             else {}, cells)
        first = rule.fields[0] if rule.fields else next(iter(check.inputs), None)
        return parts["verdict"], parts["message"], _name_link(names, first) if first else ""
    if check.kind == "ratio":
        verdict, message = X.ratio_cells(check.field, *check.ratio, RATIO_SLIP)
        return verdict, X.when_failed(v, message), _name_link(names, check.field.code)
    if check.kind == "unit-name":
        verdict, message = X.unit_name_cells("DM_DON_VI_MA", "DM_DON_VI_TEN")
        return verdict, message, _name_link(names, "TEN_DON_VI")
    if check.kind == "period-window":
        verdict, message = X.period_window_cells(form.periods, form.rule_knobs.get("window_lead_days", 31))
        return verdict, message, _name_link(names, "TU_NGAY")
    if check.kind == "bounds":
        return (*X.bounds_cells(_count_expr(check, form, span)), "")
    if check.kind == "rows":
        lst = form.list(check.list_id)
        verdict, message, row = X.rows_cells(_helper_range(check, form, span), _table_range(form, check.list_id))
        column = xl_col_to_name(lst.columns.index(lst.column(check.column)))
        return verdict, message, X.link(lst.sheet, column, row)
    lst = form.list("cqtt")
    rng = {c: ranges[("cqtt", c)] for c in ("tieu_chi", "diem_toi_da", "diem_tu_cham")}
    verdict, message, row = X.cqtt_total_cells(check.criterion, rng["tieu_chi"], rng["diem_toi_da"],
                                               rng["diem_tu_cham"])
    column = xl_col_to_name(lst.columns.index(lst.column("diem_toi_da")))
    return verdict, X.when_failed(v, message), X.link(lst.sheet, column, row)


def _table_range(form: Form, list_id: str) -> str:
    lst = form.list(list_id)
    top = L.LIST_HEADER_ROW + 1
    return (f"'{lst.sheet}'!{xl_rowcol_to_cell(top, 0, True, True)}:"
            f"{xl_rowcol_to_cell(top + L.LIST_MAX_ROWS - 1, len(lst.columns) - 1, True, True)}")


def mark_inputs(wb, form: Form) -> None:
    """Colour, on Số liệu and Thông tin chung, the input cells of every failing check (red for LỖI, yellow for
    CẢNH BÁO), and each value outside its bounds red."""
    names = _cells(wb)
    by_code: dict[str, list[str]] = {}
    for r, check in enumerate(checks(form), start=HEADER_ROW + 1):
        for code in check.inputs:
            by_code.setdefault(code, []).append(_verdict_cell(r))
    for f in (*form.metadata, *form.indicators):
        if f.code not in names:
            continue
        sheet, cell = names[f.code]
        ws = wb.get_worksheet_by_name(sheet)
        verdicts = [f"'{L.SHEET_CHECK}'!{v}" for v in by_code.get(f.code, [])]
        for verdict in (X.FAIL["error"], X.WARN):
            rule = X.marked(cell, f, verdicts, verdict)
            if rule:
                ws.conditional_format(cell, {"type": "formula", "criteria": rule,
                                             "format": wb.add_format({"bg_color": COLOURS[verdict]})})
