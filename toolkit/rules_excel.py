"""The Kiểm tra sheet: one row per rule with a live Excel verdict, working without Python.

Formulas come from `checker.sheet_rules`, which decides the same rules in Python,
so the sheet and `baocao kiem-tra` agree rule by rule (a LibreOffice test checks it).
"""
from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell

from toolkit import layout as L
from toolkit.checker import VERDICT, sheet_rules
from toolkit.findings import SEVERITY_VI

COLUMNS = ("Mã quy tắc", "Nội dung kiểm tra", "Mức độ", "Kết quả", "Thông báo")
WIDTHS = (26, 95, 11, 12, 90)
VERDICT_COL = COLUMNS.index("Kết quả")


def write_check_sheet(wb, ws, form, fmt) -> None:
    rules = sheet_rules(form)
    first = L.HEADER_ROW + 1
    last = first + len(rules) - 1
    verdicts = (xl_rowcol_to_cell(first, VERDICT_COL, True, True) + ":"
                + xl_rowcol_to_cell(last, VERDICT_COL, True, True))
    ws.write_string(0, 0, "KIỂM TRA SỐ LIỆU", fmt.title)
    ws.write_string(1, 0, "Kết quả đối chiếu tự động, cập nhật ngay khi sửa số liệu (không cần Python)",
                    fmt.subtitle)
    ws.write_string(2, 0, "Số lỗi / cảnh báo:", fmt.group)
    ws.write_formula(2, 1, f'=COUNTIF({verdicts},"{VERDICT["error"]}")&" lỗi, "&'
                           f'COUNTIF({verdicts},"{VERDICT["warning"]}")&" cảnh báo"', fmt.group)
    for c, (name, width) in enumerate(zip(COLUMNS, WIDTHS)):
        ws.write_string(L.HEADER_ROW, c, name, fmt.head)
        ws.set_column(c, c, width)
    for r, rule in enumerate(rules, start=first):
        verdict_cell = xl_rowcol_to_cell(r, VERDICT_COL)
        ws.write_string(r, 0, rule.id, fmt.code)
        ws.write_string(r, 1, rule.description, fmt.code_text)
        ws.write_string(r, 2, SEVERITY_VI[rule.severity], fmt.center)
        ws.write_formula(r, VERDICT_COL, rule.formula, fmt.center)
        ws.write_formula(r, VERDICT_COL + 1,
                         f'=IF(OR({verdict_cell}="OK",{verdict_cell}="BỎ QUA"),"",{rule.message})', fmt.code_text)
    for text, colour in ((VERDICT["error"], "#FFC7CE"), (VERDICT["warning"], "#FFEB9C"), ("OK", "#C6EFCE")):
        ws.conditional_format(first, VERDICT_COL, last, VERDICT_COL, {
            "type": "cell", "criteria": "==", "value": f'"{text}"',
            "format": wb.add_format({"bg_color": colour, "bold": text != "OK"})})
    note = last + 2
    ws.write_string(note, 0, "Ghi chú", fmt.group)
    ws.set_row(note + 1, 48)
    ws.merge_range(note + 1, 0, note + 1, len(COLUMNS) - 1, "«BỎ QUA»: chưa đủ số liệu để đối chiếu. Sổ văn bản (loại và ký hiệu, ngày ban "
                    "hành), Chính quyền thân thiện và kỳ số liệu được kiểm tra thêm khi bấm nút «Kiểm tra» "
                    "hoặc chạy lệnh baocao kiem-tra.", fmt.text)
    ws.freeze_panes(L.HEADER_ROW + 1, 0)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.protect("", {"format_columns": True, "select_locked_cells": True, "select_unlocked_cells": True})
