"""What a button writes into an open workbook, through one unprotect/reprotect door.

A handler first reads and decides, then hands `apply` one list of edits (a results table, the marks of the
findings, named cells such as the status line or the receipt), so that no write happens before the outcome
is known. Excel refuses (run-time error 1004) any write to a locked cell, and any change of
format, on a protected sheet. Every handler write to a sheet goes through
`editable`, which lifts the password-less protection and puts it back with the
same permissions, also when the write fails. The functions take an xlwings-like
book (xlwings in Excel, or a model of the workbook in tests and on a server) and
never import xlwings themselves.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Union

from toolkit.definition import ERROR, Finding
from toolkit.errors import BaocaoError

INPUT_COLOR = "#E2EFDA"  # the input-cell fill of toolkit.excel.workbook, restored when a finding is fixed
MARK_COLOR = {ERROR: "#FFC7CE", "warning": "#FFEB9C"}  # as toolkit.check.annotate's fills
# Macros of macros/RemoteButtons.bas that lift and restore a sheet's protection in Excel.
MACRO_LIFT, MACRO_RESTORE = "LiftProtection", "RestoreProtection"
PROTECTION_FLAGS = ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows",
                    "AllowInsertingColumns", "AllowInsertingRows", "AllowInsertingHyperlinks",
                    "AllowDeletingColumns", "AllowDeletingRows", "AllowSorting", "AllowFiltering",
                    "AllowUsingPivotTables")


@contextmanager
def editable(sheet) -> Iterator[None]:
    """Lift the sheet's password-less protection for the writes inside; restore it with the same
    permissions afterwards, whatever happens inside.

    On the city server the book is xlwings' remote copy of the workbook: its writes are actions Excel applies
    later, so the lifting and restoring are actions too, runMacro calls of the workbook's own macros
    (macros/RemoteButtons.bas) placed around the writes."""
    # The queue of a remote book itself: Book.macro() would add to xlwings' globally active book, which on a
    # busy server is another request's.
    queue = getattr(getattr(sheet.book, "impl", None), "append_json_action", None)
    if queue is not None:
        queue(func="runMacro", args=[MACRO_LIFT, sheet.name])
        try:
            yield
        finally:
            queue(func="runMacro", args=[MACRO_RESTORE, sheet.name])
        return
    api = sheet.api
    protected = bool(getattr(api, "ProtectContents", False))
    if protected:
        keep = {flag: getattr(api.Protection, flag) for flag in PROTECTION_FLAGS}
        api.Unprotect("")
    try:
        yield
    finally:
        if protected:
            api.Protect("", **keep)


def write_table(top, header: tuple[str, ...], rows: list[tuple]) -> None:
    """Replace the table whose header row starts at the range `top` with `rows`."""
    sheet, r0, c0 = top.sheet, top.row, top.column
    last = max(sheet.used_range.last_cell.row, r0 + 1)
    with editable(sheet):
        sheet.range((r0 + 1, c0), (last, c0 + len(header) - 1)).clear_contents()
        sheet.range((r0, c0)).value = [list(header)]
        if rows:
            sheet.range((r0 + 1, c0)).value = [list(r) for r in rows]


def mark(book, findings: list[Finding], memory) -> None:
    """Colour the cells of the findings; cells coloured by the previous run (listed in the `memory` cell) get
    their input colour back."""
    previous = [p.rsplit("!", 1) for p in str(memory.value or "").split(";") if "!" in p]
    wanted: dict[tuple[str, str], str] = {}
    for f in findings:
        if f.sheet and f.cell and wanted.get((f.sheet, f.cell)) != ERROR:
            wanted[(f.sheet, f.cell)] = f.severity
    sheets = {s.name for s in book.sheets}
    for sheet_name in sorted(({s for s, _ in previous} | {s for s, _ in wanted}) & sheets):
        sheet = book.sheets[sheet_name]
        with editable(sheet):
            for s, cell in previous:
                if s == sheet_name and (s, cell) not in wanted:
                    sheet.range(cell).color = INPUT_COLOR
            for (s, cell), severity in wanted.items():
                if s == sheet_name:
                    sheet.range(cell).color = MARK_COLOR.get(severity, MARK_COLOR["warning"])
    with editable(memory.sheet):
        memory.value = ";".join(f"{s}!{c}" for s, c in wanted if s in sheets)


def put(cell, value: Any) -> None:
    """Write one cell (a status line, a choice) through the protection door."""
    with editable(cell.sheet):
        cell.value = value


def named(book, name: str):
    """The range of a workbook-level defined name."""
    try:
        return book.names[name].refers_to_range
    except Exception:
        raise BaocaoError(f"không tìm thấy ô «{name}»; tệp không phải tệp có nút bấm do «baocao tao-xlsm» "
                          "tạo ra hoặc đã bị sửa") from None


@dataclass(frozen=True)
class Table:
    """Replace the table whose header starts at the cell named `at`."""
    at: str
    header: tuple[str, ...]
    rows: list[tuple]


@dataclass(frozen=True)
class Marks:
    """Colour the findings' cells; the cell named `memory` keeps which were coloured, to undo them next time."""
    findings: list[Finding]
    memory: str


@dataclass(frozen=True)
class Put:
    """Write one value into the cell named `at`."""
    at: str
    value: Any


Edit = Union[Table, Marks, Put]


def apply(book, edits: list[Edit]) -> None:
    """Every edit a button decided on, in order. The cells are all looked up first, so that a workbook
    lacking one is refused before anything is written."""
    cells = {name: named(book, name) for name in (e.memory if isinstance(e, Marks) else e.at for e in edits)}
    for e in edits:
        if isinstance(e, Table):
            write_table(cells[e.at], e.header, e.rows)
        elif isinstance(e, Marks):
            mark(book, e.findings, cells[e.memory])
        else:
            put(cells[e.at], e.value)
