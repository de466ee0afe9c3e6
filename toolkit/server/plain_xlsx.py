"""The cells of a submitted workbook as a plain .xlsx: values only, one style for dates.

Nộp keeps every accepted workbook as a file. xlsxwriter took 19 ms of the 30 ms of CPU a Nộp costs (a unit's
workbook is some 1,900 cells over 13 sheets): it is built for workbooks with formats, formulas and charts and
keeps a Python object per cell and a shared-string table. This writes the few parts a values-only workbook
needs, strings inline, in one pass. What it writes is what xlsxwriter wrote for the same grid (tests compare
the two read back): same sheets, values, date serials and dd/mm/yyyy format, control characters escaped as
Excel does, strings cut at Excel's 32,767 UTF-16 units, cells beyond Excel's grid left out, sheet names Excel
refuses refused.
"""
from __future__ import annotations

import math
import re
import zipfile
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from toolkit.atomic import atomic_path

MAX_ROWS, MAX_COLS, MAX_CHARS = 1_048_576, 16_384, 32_767
_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("([\x00-\x08\x0b-\x1f])")
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {_NS}>'
           '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
           '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


class SheetNameError(ValueError):
    """A sheet name Excel refuses (the message is Vietnamese: toolkit.server.nop tells it to the unit)."""


@lru_cache(maxsize=MAX_COLS)
def _column(c: int) -> str:
    """Letters of the 0-based column `c` (0 -> A, 26 -> AA)."""
    letters = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        letters = chr(65 + r) + letters
    return letters


# A string needing none of _text's work: most of a workbook's (names, labels, codes) are written as they are.
_PLAIN = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x")


def _text(s: str) -> str:
    """A cell's string as Excel stores it: cut at 32,767 UTF-16 units, control characters as _xHHHH_."""
    if len(s) > MAX_CHARS // 2 and len(s.encode("utf-16-le")) // 2 > MAX_CHARS:
        s = s.encode("utf-16-le")[:2 * MAX_CHARS].decode("utf-16-le", errors="ignore")
    if _PLAIN.search(s) is None:
        return s
    if "_x" in s:
        s = _ESCAPED.sub(r"_x005F\1", s)
    s = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", s)
    return escape(s)


def _serial(d: date) -> int:
    """Excel's 1900 date serial of a day (with Excel's 29/02/1900)."""
    days = (d - date(1899, 12, 31)).days
    return days + 1 if days > 59 else days


def _sheet(rows: list[list[Any]]) -> str:
    """One worksheet part. Dispatched on the exact type: the kept cells are None, str, int, float or a date
    (toolkit.intake.Reading), and this runs for every cell of every Nộp."""
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}><sheetData>']
    for r, row in enumerate(rows[:MAX_ROWS], start=1):
        cells = []
        for c, v in enumerate(row[:MAX_COLS]):
            kind = type(v)
            if kind is str:
                if v:
                    cells.append(f'<c r="{_column(c)}{r}" t="inlineStr"><is><t xml:space="preserve">{_text(v)}'
                                 '</t></is></c>')
            elif kind is int or kind is float:
                if kind is float and not math.isfinite(v):  # a posted NaN or ±Infinity no rule reads: #NUM!
                    cells.append(f'<c r="{_column(c)}{r}" t="e"><v>#NUM!</v></c>')
                else:
                    cells.append(f'<c r="{_column(c)}{r}"><v>{v:.16G}</v></c>')  # xlsxwriter's digits
            elif v is None or kind is bool:
                continue
            elif isinstance(v, (date, datetime)):
                cells.append(f'<c r="{_column(c)}{r}" s="1"><v>{_serial(date(v.year, v.month, v.day))}</v></c>')
            elif isinstance(v, (int, float)):  # a subclass (numpy's, an IntEnum): as its number
                cells.append(f'<c r="{_column(c)}{r}"><v>{float(v):.16G}</v></c>')
            elif str(v):
                cells.append(f'<c r="{_column(c)}{r}" t="inlineStr"><is><t xml:space="preserve">{_text(str(v))}'
                             '</t></is></c>')
        if cells:
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out)


def _names(grid: dict[str, list[list[Any]]]) -> list[str]:
    """The sheet names, checked as Excel (and xlsxwriter) check them; an empty one becomes SheetN."""
    names, seen = [], set()
    for i, name in enumerate(grid, start=1):
        name = name or f"Sheet{i}"
        if len(name) > 31 or _BAD_NAME.search(name) or name.startswith("'") or name.endswith("'") \
                or name.lower() in seen:
            raise SheetNameError(f"Excel không nhận tên sheet «{name}»")
        seen.add(name.lower())
        names.append(name)
    return names


def write_grid(grid: dict[str, list[list[Any]]], out: Path) -> Path:
    """The submitted cells as a plain workbook the reader (and a person) can open again. Its folder gets a file
    per Nộp, so a write does not look through it for a killed write's temporary: the server does at its start
    (toolkit.server.app.prepare)."""
    names = _names(grid)
    sheets = "".join(f"<sheet name={quoteattr(n)} sheetId=\"{i}\" r:id=\"rId{i}\"/>"
                     for i, n in enumerate(names, start=1))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxml'
                      'formats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, len(names) + 1))
            + "</Types>"),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG}">'
                        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
                        '</Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} '
                            f'xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(names) + 1))
            + f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
              '</Relationships>'),
        "xl/styles.xml": _STYLES,
    }
    with atomic_path(out, tidy=False) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, body in parts.items():  # a few hundred bytes each: not worth a compressor
            zf.writestr(name, body, zipfile.ZIP_STORED)
        for i, rows in enumerate(grid.values(), start=1):
            # a lone surrogate (valid in posted JSON, not in UTF-8) becomes "?" rather than stopping the write
            zf.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(rows).encode("utf-8", "replace"))
    return out
