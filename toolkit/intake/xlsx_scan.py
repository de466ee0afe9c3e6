"""What calamine does not show, or must not be asked to read: the extent of a sheet, formulas and error values.

Each sheet the reader uses is streamed from the zip in chunks, before calamine
reads it, up to </sheetData> (where calamine stops too): time is linear in the
part's size and memory is a chunk or two, whatever the file holds (a comment of
200 MB, a cell at XFD1048576, a million rows). A plain sheet (each cell's "r"
first, no comment), as Excel writes it, is measured by regular expressions over
each megabyte; anything else by a small tokenizer that follows calamine's own
rules for positions (a row's or cell's "r", else the next row or column), so the
extent measured is never less than the grid calamine would allocate. Nothing is
expanded: entities are not resolved, a DTD is skipped like a comment.

The scan runs on every sheet the reader uses, so it must cost a fraction of
calamine's read of it: the fast path measures in one regular-expression pass (no
per-cell Python), and formulas and error values are collected only for the sheets
whose input cells are checked for them (`Scanner.formulas`), not for the list
sheets and their hundreds of helper formulas, and there only from the cells a
search for `<f` or `t="e"` lands in (entities resolved in those alone).
"""
from __future__ import annotations

import html
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Callable

CHUNK = 1 << 20
MAX_TAG = 64 * 1024  # a real start tag is under 1 KB; a longer one is a hostile file
# The longest text Excel keeps in a cell is 32,767 characters (under 200 KB even with every character
# escaped): a longer comment or text before </sheetData> is not from Excel, and calamine would buffer it whole.
MAX_TOKEN = 4 << 20
# Cells of the grid calamine allocates for one sheet (last row × last column, about 32 bytes each): a far cell
# such as XFD1048576 would ask for 17 billion. A million rows of three columns still fit.
MAX_CELLS = 4_000_000
# Tags the tokenizer reads in one workbook, all sheets together (a few microseconds each): sheets that are not
# plain (no "r", comments between cells) and this large come from no spreadsheet program's form.
MAX_TAGS = 1_000_000
MAX_FORMULAS = 50_000  # formula or error cells noted per sheet; a form has a few hundred input cells
MAX_FORMULA_TEXT = 300
# Tags of the shared strings part: each string takes at least one, calamine keeps each as its own allocation.
MAX_SHARED_STRING_TAGS = 4_000_000

_SHEET = re.compile(rb"<(?:\w+:)?sheet\s[^>]*>")
_RELATION = re.compile(rb"<(?:\w+:)?Relationship\s[^>]*>")
_ATTR = re.compile(rb"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")
# The fast path, on sheet XML where every "<" starts a tag (XML allows no raw "<" in text or attribute values).
# One pass notes each plain cell start `<c r="A1" …>` with its position, and as ("", "") anything the tokenizer
# must read instead: a comment, CDATA, processing instruction, DTD, prefixed tag, a cell's start tag (`<c`
# and a space, ">" or "/") that is not "r" first and then other attributes in double quotes (calamine takes a
# second "r", the last one; an over-count costs time, never a missed cell), or a </sheetData> before the
# stretch's end (the stretch runs to the last one, found from the part's end). A cell's `<v>…</v></c>` is
# taken in the same match, and branches that open with a literal come first: most "<" then cost no attempt.
_NOTED = re.compile(rb'<(?:c r="([A-Z]{1,3})([0-9]{1,7})"(?: [a-qs-z][\w.:-]*+="[^"]*+")*+'
                    rb'(?:/>|>(?:<v>[^<]*+</v>)?+(?:</c>)?+)|/(?:sheetData>|[\w.-]++:)|!|\?|c[\s>/]|[\w.-]++:)')
# Where a formula or an error value may be: only the cells around these are read for them (two searches of
# a literal: an alternation would test every byte).
_F_START = re.compile(rb"<f[\s/>]")
_ERROR_TYPE = re.compile(rb't="e"')
_CELL_TAG = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)(?<!/)>')
_F_TAG = re.compile(rb"<f(?:\s[^>]*?)?(/?)>")
_TYPE = re.compile(rb'\st="([^"]*)"')
_SKIPS = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>"), (b"<!", b">"))


def _attributes(tag: bytes) -> dict[str, str]:
    """Attributes of one start tag, prefixes dropped, entities resolved (nothing is expanded)."""
    return {k.decode().rsplit(":", 1)[-1]: html.unescape((v or w).decode("utf-8", "replace"))
            for k, v, w in _ATTR.findall(tag)}


def sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the zip.

    The <sheet> and <Relationship> tags are picked out of the bytes: an XML parse of
    workbook.xml (its many defined names) cost more than reading the input cells.
    """
    sheets = [_attributes(m.group(0)) for m in _SHEET.finditer(zf.read("xl/workbook.xml"))]
    rels = [_attributes(m.group(0)) for m in _RELATION.finditer(zf.read("xl/_rels/workbook.xml.rels"))]
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    return {s.get("name", ""): (t.lstrip("/") if t.startswith("/") else posixpath.join("xl", t))
            for s in sheets for t in (targets.get(s.get("id"), ""),)}


def column_number(letters: str | bytes) -> int:
    n = 0
    for ch in letters.encode() if isinstance(letters, str) else letters:
        n = n * 26 + ch - 64
    return n


@dataclass
class SheetScan:
    """One sheet as calamine would lay it out: its last row and column (1-based, 0 when empty), a cell on that
    far edge, and cell -> (formula, error value or None) for cells holding either."""

    rows: int = 0
    columns: int = 0
    far_cell: str = ""
    formulas: dict[str, tuple[str, str | None]] | None = None  # None: not collected (the fast path measuring)
    tags: int = 0  # read by the tokenizer

    @property
    def cells(self) -> int:
        return self.rows * self.columns


class UnsafeXml(Exception):
    """What no spreadsheet writer produces (a tag or comment of megabytes, a bad cell address); the message is
    Vietnamese."""


class TruncatedXml(UnsafeXml):
    """A sheet part that ends in the middle: a damaged file rather than a hostile one."""


def _tokens(fh):
    """(kind, data) from a stream of XML bytes: ("tag", match) or ("text", bytes); comments, CDATA, processing
    instructions and declarations are skipped. Each byte is looked at a bounded number of times."""
    buf, pos, eof = b"", 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = fh.read(CHUNK)
        buf, pos = buf[pos:] + chunk, 0
        eof = not chunk
        return bool(chunk)

    more()
    while True:
        i = buf.find(b"<", pos)
        if i < 0:
            if pos < len(buf):
                yield "text", buf[pos:]
            pos = len(buf)
            if not more():
                return
            continue
        if i > pos:
            yield "text", buf[pos:i]
        pos = i
        while len(buf) - pos < 9 and more():
            pass
        for start, end in _SKIPS:
            if buf.startswith(start, pos):
                j = buf.find(end, pos + len(start))
                while j < 0:
                    # only the new bytes are searched: an open comment costs one pass, not one per chunk
                    resume = max(len(start), len(buf) - pos - len(end) + 1)
                    if len(buf) - pos > MAX_TOKEN:
                        raise UnsafeXml("chú thích hoặc khai báo XML dài bất thường")
                    if not more():
                        raise TruncatedXml("phần XML bị cắt cụt")
                    j = buf.find(end, resume)
                pos = j + len(end)
                break
        else:
            m = _TAG.match(buf, pos)
            while m is None:
                if len(buf) - pos > MAX_TAG:
                    raise UnsafeXml("thẻ XML dài bất thường")
                if not more():
                    raise TruncatedXml("phần XML bị cắt cụt")
                m = _TAG.match(buf, pos)
            if m.end() - pos > MAX_TAG:
                raise UnsafeXml("thẻ XML dài bất thường")
            pos = m.end()
            yield "tag", m


def _position(ref: str) -> tuple[int, int]:
    """1-based (row, column) of an A1 reference; one calamine would not read either is refused."""
    m = _REF.match(ref)
    if m is None:
        raise UnsafeXml(f"địa chỉ ô «{ref[:20]}» không hợp lệ")
    return int(m.group(2)), column_number(m.group(1))


def _fast_scan(fh, formulas: bool = False) -> SheetScan | None:
    """The scan of a plain sheet, or None when it holds anything else (then the tokenizer decides); its
    formula and error cells too with `formulas`. Each stretch is searched in place (no copy of the sheet)."""
    out, buf, pos, started = SheetScan(formulas={} if formulas else None), b"", 0, False
    while out.cells <= MAX_CELLS:
        chunk = fh.read(CHUNK)
        buf, pos = buf[pos:] + chunk, 0
        if not started:
            at = buf.find(b"<sheetData")
            if at < 0:
                if not chunk or len(buf) > MAX_TAG * 16:
                    return None
                continue
            head = buf[:at]  # a sheetData in it is a prefixed one, which calamine reads first
            if b"<!" in head or b"<?" in head[head.find(b"?>") + 2 if head.startswith(b"<?xml") else 0:] \
                    or b"sheetData" in head:
                return None
            pos, started = at, True
        end = buf.rfind(b"</sheetData>", pos)  # from the end: it is near there, and an earlier one is noted
        if end >= 0:
            stop = end
        else:
            stop = buf.rfind(b"</row>", pos)
            stop = stop + 6 if stop >= 0 else buf.rfind(b">", pos) + 1
            if not chunk:
                return None  # cut off before </sheetData>
            if stop <= pos:
                if len(buf) - pos > MAX_TOKEN:
                    return None
                continue
        if not _measure(buf, pos, stop, out):
            return None
        if end >= 0:
            return out
        pos = stop
    return out  # already refused: the rest is not read


def _measure(buf: bytes, start: int, stop: int, out: SheetScan) -> bool:
    """Add buf[start:stop], a stretch of plain sheet XML, to `out`; False when it is not plain."""
    cells = _NOTED.findall(buf, start, stop)
    if (b"", b"") in cells:
        return False
    if cells:
        letters, rows = zip(*cells)  # loops in C: a million rows take a fraction of a second
        last_row = max(map(int, rows))
        last_col = max(map(column_number, set(letters)))
        if last_row > out.rows:
            out.far_cell = _far(cells, rows.index(str(last_row).encode()) if str(last_row).encode() in rows else -1)
        if last_col > out.columns:
            out.far_cell = _far(cells, letters.index(_ref(1, last_col)[:-1].encode()))
        out.rows, out.columns = max(out.rows, last_row), max(out.columns, last_col)
    if out.formulas is not None:
        _formulas(buf, start, stop, out.formulas)
    return True


def _formulas(buf: bytes, start: int, stop: int, found: dict[str, tuple[str, str | None]]) -> None:
    """Add the formula and error cells of buf[start:stop], plain sheet XML, to `found`. Only the cells around a
    formula tag or an error type are read: a sheet of values costs one search, and entities are resolved only
    in the formulas found."""
    hints = [m.start() for m in _F_START.finditer(buf, start, stop)]
    hints += [m.start() - 1 for m in _ERROR_TYPE.finditer(buf, start, stop) if buf[m.start() - 1:m.start()].isspace()]
    floor = start  # no cell starting before it holds a hint still to come: each byte is searched once or twice
    for at in sorted(hints):
        if at < floor:
            continue  # in the cell just read
        if len(found) >= MAX_FORMULAS:
            break
        cell = buf.rfind(b'<c r="', floor, at + 1)
        tag = _CELL_TAG.match(buf, cell, stop) if cell >= 0 else None
        nxt = buf.find(b'<c r="', tag.end(), stop) if tag else -1  # a cell ends before the next one starts
        close = buf.find(b"</c>", tag.end(), nxt if nxt >= 0 else stop) if tag else -1
        if close < at:  # in no cell: calamine would not read it either
            floor = at + 1
            continue
        floor = close
        f, error = _F_TAG.search(buf, tag.end(), close), None
        formula = None if f is None else b"" if f.group(1) else _between(buf, f.end(), b"</f>", close)
        kind = _TYPE.search(tag.group(2))
        if kind and kind.group(1) == b"e":
            v = buf.find(b"<v>", tag.end(), close)
            value = _between(buf, v + 3, b"</v>", close) if v >= 0 else None
            error = value.decode("utf-8", "replace").strip() if value else None
        if formula is not None or error:
            # a character is at most 10 bytes of XML (&#x10FFFF;): only what a message shows is decoded
            text = html.unescape(formula[:MAX_FORMULA_TEXT * 10].decode("utf-8", "replace"))[:MAX_FORMULA_TEXT] \
                if formula is not None else ""
            found[tag.group(1).decode()] = ("=" + text if formula is not None else "", error or None)


def _between(buf: bytes, start: int, end_tag: bytes, stop: int) -> bytes | None:
    """buf from `start` up to `end_tag`, or None when it does not come before `stop`."""
    end = buf.find(end_tag, start, stop)
    return buf[start:end] if end >= 0 else None


def _far(cells: list[tuple[bytes, bytes]], i: int) -> str:
    return (cells[i][0] + cells[i][1]).decode() if i >= 0 else ""


def scan_sheet(fh, budget: int = MAX_TAGS) -> SheetScan:
    """Stream one sheet's XML (a binary file object) up to </sheetData>, reading at most `budget` tags.
    Raises UnsafeXml for what no spreadsheet writer produces."""
    out = SheetScan(formulas={})
    row, col = 1, 1  # where the next row and cell go when they carry no "r" (calamine's rule)
    in_data = in_cell = False
    cell, kind, formula, value, capture, text_len = "", "", None, None, None, 0
    tags = 0
    for token, data in _tokens(fh):
        if out.cells > MAX_CELLS:
            break  # already refused: what follows cannot make the grid smaller
        if token == "text":
            text_len += len(data)
            if in_data and text_len > MAX_TOKEN:
                raise UnsafeXml("ô chứa văn bản dài bất thường")
            if capture is not None and len(capture) < MAX_FORMULA_TEXT * 4:
                capture += data
            continue
        text_len, tags = 0, tags + 1
        if tags > budget:
            raise UnsafeXml(f"hơn {MAX_TAGS:,} thẻ XML không theo cách Excel ghi".replace(",", "."))
        closing, name, attrs = data.group(1), data.group(2), data.group(3)
        empty = attrs.endswith(b"/")
        if not in_data:
            if name == b"sheetData" and not closing:
                in_data = not empty
            continue
        if name == b"c" and in_cell and closing:
            if (formula is not None or kind == "e") and len(out.formulas) < MAX_FORMULAS:
                error = value.decode("utf-8", "replace").strip() if kind == "e" and value else None
                if formula is not None or error:
                    text = html.unescape(formula.decode("utf-8", "replace"))[:MAX_FORMULA_TEXT] \
                        if formula is not None else ""
                    out.formulas[cell] = ("=" + text if formula is not None else "", error)
            in_cell, capture = False, None
        elif name == b"c" and not closing and not empty:  # calamine reads only <c>…</c>, never <c/>
            a = _attributes(attrs)
            if "r" in a:
                r, c = _position(a["r"])
            else:
                r, c = row, col
            col = c + 1
            if r > out.rows or c > out.columns:  # the cell that last pushed the grid's edge is named
                out.far_cell = _ref(r, c)
                out.rows, out.columns = max(out.rows, r), max(out.columns, c)
            cell, kind, formula, value, in_cell = _ref(r, c), a.get("t", ""), None, None, True
        elif name == b"row" and not empty:
            if closing:
                row, col = row + 1, 1
            else:
                a = _attributes(attrs)
                if "r" in a:
                    if not a["r"].isdigit() or len(a["r"]) > 7:
                        raise UnsafeXml(f"số dòng «{a['r'][:20]}» không hợp lệ")
                    row = int(a["r"])
                col = 1
        elif in_cell and name in (b"f", b"v"):
            if closing:
                if name == b"f":
                    formula = capture or b""
                else:
                    value = capture
                capture = None
            elif empty:
                if name == b"f":
                    formula = b""
            else:
                capture = b""
        elif name == b"sheetData" and closing:
            break  # calamine stops here too: what follows (a comment of any size) is never read
    out.tags = tags
    return out


def _ref(r: int, c: int) -> str:
    letters = ""
    while c:
        c, rem = divmod(c - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{r}"


class Scanner:
    """The sheets of one workbook file, each scanned once when the reader first asks for it."""

    def __init__(self, zf: zipfile.ZipFile, formulas_of: Callable[[str], bool] = lambda sheet: False):
        """`formulas_of(sheet)`: whether the reader will ask for the sheet's formulas (they are then collected
        in the same pass as its extent)."""
        self.zf = zf
        self.formulas_of = formulas_of
        self.parts = sheet_paths(zf)
        self.members = set(zf.namelist())
        self.scans: dict[str, SheetScan] = {}
        self.tags_left = MAX_TAGS

    def scan(self, sheet: str) -> SheetScan:
        """The sheet's extent (and, when the tokenizer measured it, its formulas)."""
        if sheet not in self.scans:
            with self._open(sheet) as fh:
                fast = _fast_scan(fh, self.formulas_of(sheet))
            if fast is not None:
                self.scans[sheet] = fast
                return fast
            with self._open(sheet) as fh:
                try:
                    self.scans[sheet] = scan_sheet(fh, self.tags_left)
                    self.tags_left -= self.scans[sheet].tags
                except UnsafeXml as exc:
                    raise type(exc)(f"sheet «{sheet}»: {exc}") from None
        return self.scans[sheet]

    def formulas(self, sheet: str) -> dict[str, tuple[str, str | None]]:
        """Cell -> (formula, error value or None) of the sheet's cells holding either; a plain sheet measured
        without them (not named by `formulas_of`) is read again for them."""
        scan = self.scan(sheet)
        if scan.formulas is None:
            with self._open(sheet) as fh:
                scan.formulas = _fast_scan(fh, formulas=True).formulas
        return scan.formulas

    def _open(self, sheet: str):
        part = self.parts.get(sheet)
        if part is None or part not in self.members:  # calamine would find what this cannot: not read
            raise KeyError(f"sheet part of {sheet!r}")
        return self.zf.open(part)

    def shared_strings_ok(self) -> bool:
        """Whether calamine may load the shared strings: it keeps each one as its own allocation."""
        if "xl/sharedStrings.xml" not in self.members:
            return True
        tags = 0
        with self.zf.open("xl/sharedStrings.xml") as fh:
            while chunk := fh.read(CHUNK):
                tags += chunk.count(b"<")
                if tags > MAX_SHARED_STRING_TAGS:
                    return False
        return True
