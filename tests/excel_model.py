"""A model of an open workbook in Excel, for the button handlers: the part of xlwings' Book API they use,
with what Excel enforces and no other engine here can: sheet protection and cell lock flags, read from the
.xlsm file itself. A write of a value, a clear or a colour to a locked cell (or any colour) on a protected
sheet raises as Excel does (run-time error 1004); Unprotect / Protect work as Excel's. A value typed by the
user (`Book.type`) meets the cell's data validation as Excel's «Stop» alert does: refused, the cell unchanged
(pasted values, the `edits` of `Book`, bypass validation in Excel too)."""
from __future__ import annotations

import operator
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import openpyxl
import python_calamine as pc
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string

from toolkit.excel.sheet_edit import PROTECTION_FLAGS
from toolkit.vnformat import city_today

# Excel's permission name -> openpyxl's sheetProtection attribute (True there means "not allowed").
_OOXML = {"AllowFormattingCells": "formatCells", "AllowFormattingColumns": "formatColumns",
          "AllowFormattingRows": "formatRows", "AllowInsertingColumns": "insertColumns",
          "AllowInsertingRows": "insertRows", "AllowInsertingHyperlinks": "insertHyperlinks",
          "AllowDeletingColumns": "deleteColumns", "AllowDeletingRows": "deleteRows", "AllowSorting": "sort",
          "AllowFiltering": "autoFilter", "AllowUsingPivotTables": "pivotTables"}


class ExcelError(Exception):
    """What Excel raises into the handler (COM error 0x800A03EC, run-time error 1004)."""


class Api:
    """Worksheet.api: ProtectContents, Protection.Allow*, Unprotect(), Protect()."""

    def __init__(self, ws):
        prot = ws.protection
        self.ProtectContents = bool(prot.sheet)
        self.Protection = SimpleNamespace(**{f: not getattr(prot, _OOXML[f]) for f in PROTECTION_FLAGS})
        self.password = prot.password

    def Unprotect(self, password=""):
        if self.password and password != self.password:
            raise ExcelError("1004: mật khẩu không đúng")
        self.ProtectContents = False

    def Protect(self, password="", **flags):
        unknown = set(flags) - set(PROTECTION_FLAGS)
        if unknown:
            raise ExcelError(f"1004: tham số lạ {unknown}")
        self.ProtectContents = True
        self.Protection = SimpleNamespace(**{f: bool(flags.get(f, False)) for f in PROTECTION_FLAGS})


class Sheet:
    def __init__(self, book: "Book", ws, values: list[list]):
        self.book, self.name, self.api = book, ws.title, Api(ws)
        self._ws = ws
        self.cells: dict[tuple[int, int], object] = {}
        for r, row in enumerate(values, start=1):
            for c, v in enumerate(row, start=1):
                if v not in ("", None):
                    self.cells[(r, c)] = v
        self.colors: dict[tuple[int, int], str] = {}

    def locked(self, r: int, c: int) -> bool:
        ws = self._ws
        cell = ws._cells.get((r, c))
        if cell is not None and cell.has_style:
            return bool(cell.protection.locked)
        dim = ws.column_dimensions.get(get_column_letter(c))
        return bool(dim.protection.locked) if dim is not None and dim.has_style else True

    def range(self, a, b=None) -> "Range":
        r0, c0 = _rc(a)
        r1, c1 = _rc(b) if b is not None else (r0, c0)
        return Range(self, r0, c0, r1, c1)

    @property
    def used_range(self) -> "Range":
        rows = [r for r, _ in self.cells] or [1]
        cols = [c for _, c in self.cells] or [1]
        return Range(self, 1, 1, max(rows), max(cols))


class Range:
    def __init__(self, sheet: Sheet, r0: int, c0: int, r1: int, c1: int):
        self.sheet, self.row, self.column, self._end = sheet, r0, c0, (r1, c1)

    @property
    def last_cell(self) -> "Range":
        return Range(self.sheet, *self._end, *self._end)

    def options(self, ndim: int | None = None, **_):
        self._ndim = ndim
        return self

    def _each(self, rows: int, cols: int):
        for r in range(self.row, self.row + rows):
            for c in range(self.column, self.column + cols):
                yield r, c

    def _check(self, cells, what: str) -> None:
        s = self.sheet
        if not s.api.ProtectContents:
            return
        for r, c in cells:
            if (not s.api.Protection.AllowFormattingCells) if what == "format" else s.locked(r, c):
                raise ExcelError(f"1004: không thể {what} ô {get_column_letter(c)}{r} của sheet «{s.name}» "
                                 "đang được bảo vệ")

    @property
    def value(self):
        r1, c1 = self._end
        grid = [[self.sheet.cells.get((r, c)) for c in range(self.column, c1 + 1)] for r in range(self.row, r1 + 1)]
        single = (r1, c1) == (self.row, self.column) and getattr(self, "_ndim", None) != 2
        return grid[0][0] if single else grid

    @value.setter
    def value(self, v):
        grid = v if isinstance(v, list) else [[v]]
        cells = [(self.row + i, self.column + j) for i, row in enumerate(grid) for j, _ in enumerate(row)]
        self._check(cells, "ghi vào")
        for (r, c), x in zip(cells, [x for row in grid for x in row]):
            self.sheet.cells[(r, c)] = x
            self.sheet.book.writes.append((self.sheet.name, r, c, x))

    def clear_contents(self):
        r1, c1 = self._end
        cells = list(self._each(r1 - self.row + 1, c1 - self.column + 1))
        self._check(cells, "xóa")
        for rc in cells:
            self.sheet.cells.pop(rc, None)

    @property
    def color(self):
        return self.sheet.colors.get((self.row, self.column))

    @color.setter
    def color(self, colour):
        self._check([(self.row, self.column)], "format")
        self.sheet.colors[(self.row, self.column)] = colour


class Book:
    """The .xlsm at `path` as Excel opens it, with `edits` {(sheet, "E12"): value} typed and not saved."""

    def __init__(self, path, edits: dict | None = None):
        self.fullname = str(path)
        wb = openpyxl.load_workbook(path)
        values = pc.CalamineWorkbook.from_path(str(path))
        self.writes: list[tuple[str, int, int, object]] = []
        self.sheets = Sheets([Sheet(self, ws, [[_live(v) for v in row] for row in values.get_sheet_by_name(
            ws.title).to_python(skip_empty_area=False)]) for ws in wb.worksheets])
        self.names = {}
        for name, dn in wb.defined_names.items():
            for sheet, ref in dn.destinations:
                self.names[name] = SimpleNamespace(
                    refers_to_range=self.sheets[sheet].range(*ref.replace("$", "").split(":")))
        for (sheet, cell), value in (edits or {}).items():
            r, c = _rc(cell)
            self.sheets[sheet].cells[(r, c)] = value


    def type(self, sheet: str, cell: str, value) -> None:
        """`value` typed into a cell, as Excel holds what was typed (a date typed becomes a datetime): an entry
        the cell's data validation stops is refused with the validation's own message, as Excel's alert."""
        s = self.sheets[sheet]
        r, c = _rc(cell)
        for dv in s._ws.data_validations.dataValidation:
            if (dv.errorStyle or "stop") == "stop" and f"{get_column_letter(c)}{r}" in dv.sqref \
                    and not self._valid(dv, value):
                raise ExcelError(f"{dv.errorTitle}: {dv.error}")
        s.range((r, c)).value = value  # a locked cell of a protected sheet refuses it too

    def _valid(self, dv, value) -> bool:
        """Whether Excel's data validation `dv` lets `value` in (custom formulas are not evaluated here)."""
        if value in (None, ""):
            return bool(dv.allow_blank)
        if dv.type == "list":
            source = dv.formula1 or ""
            if source.startswith('"'):
                items = source.strip('"').split(",")
            else:
                found = self.names[source.lstrip("=")].refers_to_range.value
                items = [x for row in (found if isinstance(found, list) else [[found]]) for x in row]
            return value in items or str(value) in map(str, items)
        if dv.type == "textLength":
            x = len(str(value))
        elif dv.type == "date":
            if not isinstance(value, datetime):
                return False
            x = value.date()
        elif dv.type in ("whole", "decimal"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    dv.type == "whole" and value != int(value)):
                return False
            x = value
        else:
            return True
        lo, hi = (_bound(f, dv.type) for f in (dv.formula1, dv.formula2))
        compare = {"greaterThan": operator.gt, "greaterThanOrEqual": operator.ge, "lessThan": operator.lt,
                   "lessThanOrEqual": operator.le, "equal": operator.eq, "notEqual": operator.ne}
        op = dv.operator or "between"
        if op in ("between", "notBetween"):
            return (lo <= x <= hi) == (op == "between")
        return compare[op](x, lo)


def _bound(formula: str | None, kind: str):
    """A bound of a data validation: a number, a date serial, or TODAY() (Excel's today: the city's, where it runs)."""
    if formula is None:
        return None
    if formula.lstrip("=") == "TODAY()":
        return city_today()
    number = float(formula)
    return (datetime(1899, 12, 30) + timedelta(days=number)).date() if kind == "date" else number


class Sheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return super().__getitem__(key)


def _rc(a) -> tuple[int, int]:
    if isinstance(a, tuple):
        return a
    col, row = coordinate_from_string(a)
    return row, column_index_from_string(col)


def _live(v):
    """A cell as xlwings gives it: None when empty, a datetime for a date."""
    if v == "":
        return None
    if isinstance(v, date) and not isinstance(v, datetime):
        return datetime(v.year, v.month, v.day)
    return v
