"""What calamine does not show: formulas and error values in input cells.

Streams the sheet XML straight from the zip with defusedxml (no entity
expansion, no external entities), so a hostile file cannot blow up memory; the
sheet list is read with a pattern over the bytes, which expands nothing either.
"""
from __future__ import annotations

import html
import posixpath
import re
import zipfile
from pathlib import Path

from defusedxml.ElementTree import iterparse

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_COL = re.compile(r"^([A-Z]+)")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\s[^>]*>")
_RELATION = re.compile(rb"<(?:\w+:)?Relationship\s[^>]*>")
_ATTR = re.compile(rb"([\w:]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _attributes(tag: bytes) -> dict[str, str]:
    """Attributes of one start tag, prefixes dropped, entities resolved (nothing is expanded)."""
    return {k.decode().rsplit(":", 1)[-1]: html.unescape((v or w).decode("utf-8", "replace"))
            for k, v, w in _ATTR.findall(tag)}


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the zip.

    The <sheet> and <Relationship> tags are picked out of the bytes: an XML parse of
    workbook.xml (its many defined names) cost more than reading the input cells.
    """
    sheets = [_attributes(m.group(0)) for m in _SHEET.finditer(zf.read("xl/workbook.xml"))]
    rels = [_attributes(m.group(0)) for m in _RELATION.finditer(zf.read("xl/_rels/workbook.xml.rels"))]
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    return {s.get("name", ""): (t.lstrip("/") if t.startswith("/") else posixpath.join("xl", t))
            for s in sheets for t in (targets.get(s.get("id"), ""),)}


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
