"""The Excel side of the city server, for tests: the request xlwings' VBA client sends, and the actions sent
back applied to the model of Excel in tests/excel_model.py (the .xlsm's own protection enforced).

The payload follows `RunServerPython` in xlwings 0.37.8's addin/Remote.bas: client "VBA", the version
constant of the workbook's own xlwings module, the book's file name, every defined name that refers to a
range (sheet index, address without $), and per worksheet its Excel Tables and its values from A1 to the
end of the used range (empty cells null, dates "yyyy-mm-ddT00:00:00.000Z" as xlwings' WebHelpers writes them).
"""
from __future__ import annotations

import copy
import functools
import json
import re
import urllib.error
import urllib.request
from datetime import date, datetime
from pathlib import Path

import openpyxl
import python_calamine as pc
from excel_model import Book, ExcelError
from oletools.olevba import VBA_Parser
from openpyxl.utils import get_column_letter, range_boundaries


def vba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _json_cell(v):
    if v == "" or v is None:
        return None
    if isinstance(v, (date, datetime)):
        return f"{v:%Y-%m-%d}T00:00:00.000Z" if not isinstance(v, datetime) else v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return v


def payload(path: Path) -> dict:
    """The JSON body RunServerPython posts for the workbook at `path`."""
    version = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', vba_modules(path)["xlwings"]).group(1)
    values_book = pc.CalamineWorkbook.from_path(str(path))
    wb = openpyxl.load_workbook(path)
    index = {name: i for i, name in enumerate(wb.sheetnames)}
    names = []
    for name, dn in wb.defined_names.items():
        for sheet, ref in dn.destinations:
            names.append({"name": name, "sheet_index": index[sheet], "address": ref.replace("$", ""),
                          "book_scope": True, "scope_sheet_name": None, "scope_sheet_index": None})
    sheets = []
    for ws in wb.worksheets:
        rows = [[_json_cell(v) for v in row]
                for row in values_book.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)]
        width = max((len(r) for r in rows), default=0)
        tables = []
        for t in ws.tables.values():
            c1, r1, c2, r2 = range_boundaries(t.ref)
            tables.append({"name": t.name, "range_address": t.ref,
                           "header_row_range_address": f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r1}",
                           "data_body_range_address": f"{get_column_letter(c1)}{r1 + 1}:{get_column_letter(c2)}{r2}",
                           "total_row_range_address": None, "show_headers": True, "show_totals": False,
                           "table_style": t.tableStyleInfo.name if t.tableStyleInfo else "",
                           "show_autofilter": True})
        sheets.append({"name": ws.title, "pictures": [], "tables": tables,
                       "values": [r + [None] * (width - len(r)) for r in rows] or [[]]})
    return {"client": "VBA", "version": version,
            "book": {"name": path.name, "active_sheet_index": index["Kiểm tra"], "selection": "G3"},
            "names": names, "sheets": sheets}


def edit(body: dict, edits: dict[tuple[str, str], object] | None) -> dict:
    """A copy of the payload with `edits` {(sheet, "E12"): value} typed on screen and not saved."""
    body = copy.deepcopy(body)
    sheets = {s["name"]: s for s in body["sheets"]}
    for (sheet, cell), value in (edits or {}).items():
        rows = sheets[sheet]["values"]
        c0, r0, _, _ = range_boundaries(cell)
        width = max(len(rows[0]) if rows else 0, c0)
        while len(rows) < r0:
            rows.append([None] * width)
        for row in rows:
            row += [None] * (width - len(row))
        rows[r0 - 1][c0 - 1] = _json_cell(value)
    return body


def post(url: str, body: bytes | dict, key: str | None, timeout: float = 60) -> tuple[int, object]:
    """POST as VBA-Web's WebClient does (JSON body, the key as the raw Authorization header)."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key is not None:
        headers["Authorization"] = key
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


@functools.lru_cache(maxsize=16)
def remote_macros(path: Path) -> frozenset[str]:
    """The macros the server's runMacro actions may call: those of RemoteButtons in the file's VBA."""
    return frozenset(re.findall(r"^Public Sub (\w+)\(wb As Workbook, sheetName As String\)",
                                vba_modules(path).get("RemoteButtons", ""), re.M))


class ExcelClient:
    """What Remote.bas does with the server's answer: each action's VBA Sub run against the workbook open in
    Excel, here tests/excel_model.Book, which enforces the .xlsm's own protection and lock flags (a refused
    write raises ExcelError, as Excel's run-time error 1004 would). runMacro runs only macros present in the
    file; LiftProtection / RestoreProtection do what macros/RemoteButtons.bas does with Excel's protection."""

    def __init__(self, path: Path, edits: dict | None = None):
        self.book = Book(path, edits)
        self.macros = remote_macros(Path(path))
        self.saved: dict[str, dict] = {}
        self.applied: list[str] = []
        self.before = self.protection()

    def protection(self) -> dict[str, tuple[bool, dict]]:
        return {s.name: (s.api.ProtectContents, dict(vars(s.api.Protection))) for s in self.book.sheets}

    def apply(self, actions: list[dict]) -> None:
        for a in actions:
            self.applied.append(a["func"])
            getattr(self, "_" + a["func"])(a)

    def _range(self, a: dict):
        sheet = self.book.sheets[a["sheet_position"]]
        r, c = a["start_row"] + 1, a["start_column"] + 1
        return sheet.range((r, c), (r + a["row_count"] - 1, c + a["column_count"] - 1))

    def _setValues(self, a):
        self._range(a).value = a["values"]

    def _rangeClearContents(self, a):
        self._range(a).clear_contents()

    def _setRangeColor(self, a):
        self._range(a).color = a["args"][0]

    def _runMacro(self, a):
        macro, sheet = a["args"]
        if macro not in self.macros:
            raise ExcelError(f"1004: không có macro {macro} trong tệp")
        api = self.book.sheets[sheet].api
        if macro == "LiftProtection" and api.ProtectContents and sheet not in self.saved:
            self.saved[sheet] = dict(vars(api.Protection))
            api.Unprotect("")
        elif macro == "RestoreProtection" and sheet in self.saved:
            api.Protect("", **self.saved.pop(sheet))

    def value(self, sheet: str, cell: str):
        c, r, _, _ = range_boundaries(cell)
        return self.book.sheets[sheet].cells.get((r, c))

    def block(self, sheet: str, top_left: str, width: int) -> list[list]:
        """Rows from `top_left` down, until the first empty row."""
        c0, r0, _, _ = range_boundaries(top_left)
        cells, out, r = self.book.sheets[sheet].cells, [], r0
        while any(cells.get((r, c)) not in (None, "") for c in range(c0, c0 + width)):
            out.append([cells.get((r, c)) for c in range(c0, c0 + width)])
            r += 1
        return out

    def fill(self, sheet: str, cell: str):
        c, r, _, _ = range_boundaries(cell)
        return self.book.sheets[sheet].colors.get((r, c))
