"""Nộp from a browser, for units whose Office blocks macros (Mark of the Web, Excel on the web or on a Mac).

The uploaded workbook goes through the button's own path: it is turned into the request xlwings' VBA
client would post for it (every sheet's values from A1, the defined names), opened as the posted book,
checked by the same checker and handed to toolkit.server.nop.accept, which stores it or logs the refused
attempt. So the same content gets the same receipt and the same stored version as the Nộp button.

The upload is written only under a name the server makes, checked as any file is (size, zip bomb, not a
workbook) before anything opens it, and deleted afterwards.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import python_calamine as pc
from openpyxl.utils import get_column_letter, range_boundaries

from toolkit.definition import SEVERITY_VI, Form
from toolkit.errors import BaocaoError
from toolkit.excel import buttons as xl
from toolkit.intake import sniff
from toolkit.server.dashboard import city_time
from toolkit.server.nop import Receipt, accept


@dataclass
class Outcome:
    """What the unit sees after choosing its file: a refusal, or the findings and, without errors, the receipt."""
    refusal: str = ""
    findings: list[tuple[str, str, str, str]] = field(default_factory=list)  # (mã, mức độ, nội dung, ô)
    verdict: str = ""  # "không có lỗi" or "3 lỗi, 0 cảnh báo", as the button says it
    receipt: Receipt | None = None

    @property
    def received(self) -> str:
        """When the version was received, in the city's time."""
        return f"{city_time(self.receipt.received_at):%H:%M:%S %d/%m/%Y}" if self.receipt else ""


def nop_file(data: bytes, shown_name: str, unit: str, store: Path, folder: Path, form: Form) -> Outcome:
    """Check the uploaded workbook and, when it has no error, store it as the Nộp button would. `shown_name`
    (the name the browser gave) only names the workbook in messages, as Excel's book name does."""
    spool = folder / "tai_len"
    spool.mkdir(parents=True, exist_ok=True)
    # Excel's reader wants the suffix that matches the content; the name itself is the server's.
    path = spool / f"{secrets.token_hex(16)}.{'xlsm' if b'vbaProject.bin' in data else 'xlsx'}"
    path.write_bytes(data)
    try:
        sniff(path)
        book = xl.open_posted(posted(path, shown_name))
        try:
            grid = xl.live_grid(book)
            report = xl.live_report(grid, book, form)
            receipt = accept(grid, report, unit, store, folder / "phieu", form, typed=True)
        finally:
            xl.close_posted(book)
    except BaocaoError as exc:  # said without the server's own file name
        return Outcome(refusal=str(exc).removeprefix(f"{exc.path}: ") if exc.path else str(exc))
    finally:
        path.unlink(missing_ok=True)
    return Outcome(findings=[(f.code, SEVERITY_VI.get(f.severity, f.severity), f.message, f.where)
                             for f in report.findings],
                   verdict=xl.verdict(report), receipt=receipt)


def posted(path: Path, shown_name: str) -> dict[str, Any]:
    """The request body xlwings' VBA client (RunServerPython) sends for the workbook at `path`."""
    try:
        values = pc.CalamineWorkbook.from_path(str(path))
        wb = openpyxl.load_workbook(path)
    except Exception:  # the reader's own guard passed, yet the library could not open it
        raise BaocaoError("tệp hỏng hoặc không phải sổ tính Excel; hãy mở bằng Excel, lưu lại rồi chọn lại",
                          code="tep-hong") from None
    index = {name: i for i, name in enumerate(wb.sheetnames)}
    names = [{"name": name, "sheet_index": index[sheet], "address": ref.replace("$", ""), "book_scope": True,
              "scope_sheet_name": None, "scope_sheet_index": None}
             for name, dn in wb.defined_names.items() for sheet, ref in dn.destinations if sheet in index]
    sheets = []
    for ws in wb.worksheets:
        rows = [[_cell(v) for v in row]
                for row in values.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)]
        width = max((len(r) for r in rows), default=0)
        sheets.append({"name": ws.title, "pictures": [], "tables": [_table(t) for t in ws.tables.values()],
                       "values": [r + [None] * (width - len(r)) for r in rows] or [[]]})
    return {"client": "VBA", "version": xl.xw.__version__,
            "book": {"name": shown_name, "active_sheet_index": 0, "selection": "A1"},
            "names": names, "sheets": sheets}


def _cell(v: Any) -> Any:
    """A cell as VBA's JSON writer sends it: empty as null, dates as ISO text."""
    if v == "" or v is None:
        return None
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, date):
        return f"{v:%Y-%m-%d}T00:00:00.000Z"
    return v


def _table(t) -> dict[str, Any]:
    c1, r1, c2, r2 = range_boundaries(t.ref)
    return {"name": t.name, "range_address": t.ref,
            "header_row_range_address": f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r1}",
            "data_body_range_address": f"{get_column_letter(c1)}{r1 + 1}:{get_column_letter(c2)}{r2}",
            "total_row_range_address": None, "show_headers": True, "show_totals": False,
            "table_style": t.tableStyleInfo.name if t.tableStyleInfo else "", "show_autofilter": True}
