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
    ids = {}
    with zf.open("xl/workbook.xml") as fh:  # the sheet list comes first; the many defined names after it are skipped
        for _, el in iterparse(fh, events=("end",)):
            if el.tag == f"{_NS}sheet":
                ids[el.get("name")] = el.get(_REL)
            elif el.tag == f"{_NS}sheets":
                break
    rels = fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") or "" for r in rels}
    return {name: (t.lstrip("/") if t.startswith("/") else posixpath.join("xl", t))
            for name, t in ((name, targets.get(rid, "")) for name, rid in ids.items())}


def formula_cells(path: Path, columns: dict[str, str]) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Sheet -> cell -> (formula, error value or None) for the cells of each sheet's column (`columns`:
    sheet -> column letters) holding a formula or an error; the zip is opened once for all sheets."""
    out: dict[str, dict[str, tuple[str, str | None]]] = {sheet: {} for sheet in columns}
    with zipfile.ZipFile(path) as zf:
        parts, members = _sheet_paths(zf), set(zf.namelist())
        for sheet, column in columns.items():
            part = parts.get(sheet)
            if part is None or part not in members:
                continue
            data = zf.read(part)  # an input sheet is small (sniff() bounds the whole file)
            if b"<f>" not in data and b"<f " not in data and b't="e"' not in data:
                continue  # the usual case: no formula element (<formula1> of validations does not count)
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
                            out[sheet][ref] = ("=" + (f.text or "") if f is not None else "", error)
    return out
