"""What calamine does not show: formulas and error values in input cells.

Streams the sheet XML straight from the zip with defusedxml (no entity
expansion, no external entities), so a hostile file cannot blow up memory.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from defusedxml.ElementTree import fromstring, iterparse

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_COL = re.compile(r"^([A-Z]+)")


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the zip."""
    book = fromstring(zf.read("xl/workbook.xml"))
    rels = fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for sheet in book.iter(f"{_NS}sheet"):
        target = targets.get(sheet.get(_REL), "")
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    return out


def formula_cells(path: Path, sheet: str, column: str) -> dict[str, tuple[str, str | None]]:
    """Cell -> (formula, error value or None) for cells of `column` holding a formula or an error."""
    out: dict[str, tuple[str, str | None]] = {}
    with zipfile.ZipFile(path) as zf:
        part = _sheet_paths(zf).get(sheet)
        if part is None or part not in zf.namelist():
            return out
        data = zf.read(part)  # an input sheet is small (sniff() bounds the whole file)
        if b"<f>" not in data and b"<f " not in data and b't="e"' not in data:
            return out  # the usual case: no formula element (<formula1> of validations does not count)
        with zf.open(part) as fh:
            for _, el in iterparse(fh, events=("end",)):
                if el.tag != f"{_NS}c":
                    if el.tag == f"{_NS}row":
                        el.clear()
                    continue
                ref = el.get("r") or ""
                m = _COL.match(ref)
                if m and m.group(1) == column:
                    f = el.find(f"{_NS}f")
                    v = el.find(f"{_NS}v")
                    error = v.text if el.get("t") == "e" and v is not None else None
                    if f is not None or error:
                        out[ref] = ("=" + (f.text or "") if f is not None else "", error)
    return out
