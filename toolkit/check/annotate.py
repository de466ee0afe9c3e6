"""An annotated copy of a checked workbook: highlighted cells, comments, an error sheet linking to them.

The input is opened read-only and the copy is written atomically to another
path; the input file is never modified.
"""
from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from toolkit.atomic import atomic_path
from toolkit.definition import ERROR, SEVERITY_VI, Finding
from toolkit.errors import BaocaoError

SHEET = "Lỗi phát hiện"
FILL = {ERROR: PatternFill("solid", fgColor="FFC7CE"), "warning": PatternFill("solid", fgColor="FFEB9C")}


def write_annotated(source: Path, findings: list[Finding], out: Path) -> Path:
    source, out = Path(source), Path(out)
    if out.resolve() == source.resolve():
        raise BaocaoError("tệp ghi ra phải khác tệp đầu vào (không sửa tệp gốc)", path=str(out))
    keep_vba = source.suffix.lower() == ".xlsm"
    try:
        wb = openpyxl.load_workbook(source, keep_vba=keep_vba)
    except Exception as exc:
        raise BaocaoError("không mở được để ghi chú", path=str(source), detail=f"{type(exc).__name__}: {exc}") from None
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in wb.sheetnames and f.cell:
            by_cell.setdefault((f.sheet, f.cell), []).append(f)
    for (sheet, cell), items in by_cell.items():
        target = wb[sheet][cell]
        worst = ERROR if any(f.severity == ERROR for f in items) else "warning"
        target.fill = FILL[worst]
        target.comment = Comment("\n".join(f"[{SEVERITY_VI[f.severity]}] {f.message}" for f in items), "baocao",
                                 width=320, height=120)
    if SHEET in wb.sheetnames:
        del wb[SHEET]
    ws = wb.create_sheet(SHEET, 0)
    ws.append(["Mức độ", "Ô", "Mã lỗi", "Thông báo"])
    for c in ws[1]:
        c.font = Font(bold=True)
    for f in findings:
        ws.append([SEVERITY_VI[f.severity], f.where or "", f.code, f.message])
        link = ws.cell(ws.max_row, 2)
        if f.sheet in wb.sheetnames and f.cell:
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{f.sheet}'!{f.cell}")
            link.font = Font(color="0563C1", underline="single")
        ws.cell(ws.max_row, 1).fill = FILL[f.severity]
    for col, width in zip("ABCD", (11, 22, 26, 110)):
        ws.column_dimensions[col].width = width
    wb.active = 0
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out
