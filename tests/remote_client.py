"""The Excel side of the city server, for tests: the request xlwings' VBA client sends, and a model of the
workbook that applies the actions sent back with the protection Excel enforces.

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
from oletools.olevba import VBA_Parser
from openpyxl.utils import get_column_letter, range_boundaries


class ExcelRefused(Exception):
    """What Excel raises (run-time error 1004) on a write it does not allow."""


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
def _file_facts(path: Path):
    macros = set(re.findall(r"^Public Sub (\w+)\(wb As Workbook, sheetName As String\)",
                            vba_modules(path).get("RemoteButtons", ""), re.M))
    return openpyxl.load_workbook(path), frozenset(macros)


class WorkbookModel:
    """The workbook as Excel holds it while RunServerPython applies the actions: values, fills, and the
    sheet protection and lock flags read from the file. Writes Excel refuses raise ExcelRefused; runMacro
    runs only macros present in the file's VBA, with the effect of macros/RemoteButtons.bas."""

    def __init__(self, path: Path, edits: dict | None = None):
        self.wb, self.macros = _file_facts(Path(path))  # read-only here
        self.sheets = self.wb.sheetnames
        self.values = dict(edits or {})
        self.fills: dict[tuple[str, str], str] = {}
        self.protected = {ws.title: bool(ws.protection.sheet) for ws in self.wb.worksheets}
        self.initially_protected = dict(self.protected)
        self.saved: dict[str, bool] = {}
        self.applied: list[str] = []

    def _cells(self, a: dict):
        sheet = self.sheets[a["sheet_position"]]
        for r in range(a["start_row"], a["start_row"] + a["row_count"]):
            for c in range(a["start_column"], a["start_column"] + a["column_count"]):
                yield sheet, f"{get_column_letter(c + 1)}{r + 1}"

    def _locked(self, sheet: str, cell: str) -> bool:
        ws = self.wb[sheet]
        for merged in ws.merged_cells.ranges:  # a merged area takes the lock flag of its first cell
            if cell in merged:
                cell = merged.start_cell.coordinate
        return ws[cell].protection.locked is not False

    def apply(self, actions: list[dict]) -> None:
        for a in actions:
            self.applied.append(a["func"])
            getattr(self, "_" + a["func"])(a)

    def _setValues(self, a):
        cells = list(self._cells(a))
        flat = [v for row in a["values"] for v in row]
        for (sheet, cell), value in zip(cells, flat):
            if self.protected[sheet] and self._locked(sheet, cell):
                raise ExcelRefused(f"ghi vào ô khóa {sheet}!{cell} của sheet đang bảo vệ")
            self.values[(sheet, cell)] = value

    def _rangeClearContents(self, a):
        for sheet, cell in self._cells(a):
            if self.protected[sheet] and self._locked(sheet, cell):
                raise ExcelRefused(f"xóa ô khóa {sheet}!{cell} của sheet đang bảo vệ")
            self.values.pop((sheet, cell), None)

    def _setRangeColor(self, a):
        for sheet, cell in self._cells(a):
            if self.protected[sheet]:  # the workbooks do not allow formatting cells under protection
                raise ExcelRefused(f"tô màu {sheet}!{cell} của sheet đang bảo vệ")
            self.fills[(sheet, cell)] = a["args"][0]

    def _runMacro(self, a):
        macro, sheet = a["args"][0], a["args"][1]
        if macro not in self.macros:
            raise ExcelRefused(f"không có macro {macro} trong tệp")
        if macro == "LiftProtection" and self.protected[sheet]:
            self.saved[sheet] = True
            self.protected[sheet] = False
        elif macro == "RestoreProtection" and self.saved.pop(sheet, False):
            self.protected[sheet] = True

    def value(self, sheet: str, cell: str):
        return self.values.get((sheet, cell))

    def block(self, sheet: str, top_left: str, width: int) -> list[list]:
        """Rows written from `top_left` down, until the first empty row."""
        c0, r0, _, _ = range_boundaries(top_left)
        out = []
        r = r0
        while any(self.values.get((sheet, f"{get_column_letter(c)}{r}")) not in (None, "")
                  for c in range(c0, c0 + width)):
            out.append([self.values.get((sheet, f"{get_column_letter(c)}{r}")) for c in range(c0, c0 + width)])
            r += 1
        return out
