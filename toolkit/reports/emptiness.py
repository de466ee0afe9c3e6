"""The sections of a written report that hold nothing: what a final report may not carry.

A chairman does not sign a report with a heading over nothing, a placeholder where the unit's text should be, or
a table that has only its header row. The templates print the placeholder `EMPTY` where an area has no content at
all (a draft shows it, marked, where the text is to come); this reads the written document, so whatever a template
an admin edits in Word prints, the same three shapes are found.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

EMPTY = "(Đơn vị chưa nhập nội dung cho mục này.)"
_PART = re.compile(r"^PHẦN\s+[IVX]+\b")
_ROMAN = re.compile(r"^[IVX]+\.\s")
_NUMBERED = re.compile(r"^\d+\.\s")
_SUB = re.compile(r"^\d+(\.\d+)+\.?\s")
_CLOSING = re.compile(r"^Trên đây là\b")


def _text(p) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", "".join(t.text or "" for t in p.iter(qn("w:t"))))).strip()


def _emphasised(p) -> bool:
    """All of its text in bold, or all in italics: how the templates write a heading."""
    runs = [r for r in p.iter(qn("w:r")) if "".join(t.text or "" for t in r.iter(qn("w:t"))).strip()]

    def on(run, tag: str) -> bool:
        props = run.find(qn("w:rPr"))
        el = props.find(qn(tag)) if props is not None else None
        return el is not None and el.get(qn("w:val")) not in ("0", "false")

    return bool(runs) and (all(on(r, "w:b") for r in runs) or all(on(r, "w:i") for r in runs))


def _level(text: str) -> int | None:
    """0 PHẦN, 1 "I.", 2 "1.", 3 "1.1."; 4 an unnumbered heading ("Phát triển xã hội số")."""
    for level, pattern in enumerate((_PART, _ROMAN, _NUMBERED, _SUB)):
        if pattern.match(text):
            return level
    return 4


def empty_sections(docx: Path | str) -> list[str]:
    """The sections of a written report with nothing in them, each named by its heading and the heading above
    it ("III. ĐÁNH GIÁ CHUNG › 2. Tồn tại, hạn chế"), in document order, each once."""
    body = Document(str(docx)).element.body
    items: list[tuple[str, str, int | None]] = []  # (kind, text, heading level)
    started = False
    for el in body:
        if el.tag == qn("w:p"):
            text = _text(el)
            if not text:
                continue
            if _CLOSING.match(text):
                break
            heading = _emphasised(el) and text != EMPTY and not text.endswith((".", ":", ";"))
            started = started or (heading and _level(text) < 2)
            if started:
                items.append(("heading" if heading else "text", text, _level(text) if heading else None))
        elif el.tag == qn("w:tbl") and started:
            rows = el.findall(qn("w:tr"))
            items.append(("table", _text(rows[0]) if rows else "", len(rows)))
    found: list[str] = []
    trail: dict[int, str] = {}

    def name(level: int, text: str) -> str:
        above = [trail[k] for k in sorted(trail) if k < level and k > 0]
        return " › ".join([*above[-1:], text])

    current = ""
    for i, (kind, text, level) in enumerate(items):
        if kind == "heading":
            trail = {k: v for k, v in trail.items() if k < level}
            trail[level] = text
            current = name(level, text)
            nxt = items[i + 1] if i + 1 < len(items) else None
            bare = nxt is None or (nxt[0] == "heading" and (nxt[2] <= level if level < 4 else nxt[2] in (0, 1, 4)))
            if bare:
                found.append(current)
        elif kind == "text" and text == EMPTY:
            found.append(current)
        elif kind == "table" and level <= 1:
            found.append(f"{current} (bảng chỉ có dòng tiêu đề)")
    return list(dict.fromkeys(x for x in found if x))
