"""What a unit changed between two stored versions of its submission: the cells whose value differs (label,
old → new) and the findings that appeared or cleared. Pure functions over the store's `Stored` versions; the
store is opened read-only, so looking at versions never changes them.

A finding is the same finding in both versions when its code, rule, severity and cell are the same: its message
quotes the values and changes with them, so it is shown, not compared.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from toolkit.city.store import Store, Stored
from toolkit.definition import SEVERITY_VI, Form
from toolkit.errors import BaocaoError
from toolkit.vnformat import fmt_number, fmt_time, fmt_value, period_year

EMPTY = "(trống)"


@dataclass
class Change:
    code: str
    label: str
    cell: str  # Sheet!A1 in the newer version (the older one's when the newer lacks the value)
    old: str  # as shown: Vietnamese number format, the indicator's unit; EMPTY for no value
    new: str


@dataclass
class Diff:
    """Version `new` against the one before it (`old`: None for a first version)."""

    unit: str
    unit_name: str
    title: str  # "6 tháng đầu năm 2026"
    old: Stored | None
    new: Stored
    changes: list[Change] = field(default_factory=list)
    appeared: list[dict] = field(default_factory=list)
    cleared: list[dict] = field(default_factory=list)


def city_time(moment: datetime | None) -> str:
    """A stored time as people in the city read it."""
    return fmt_time(moment) if moment else "không rõ"


def shown_value(value: Any, form: Form, code: str) -> str:
    """A stored value as the officer reads it: numbers in Vietnamese format with the indicator's unit."""
    if value is None or value == "":
        return EMPTY
    f = form.field(code)
    if f is None:
        return fmt_number(value) if _number(value) else str(value)
    return fmt_value(value, f.type, f.unit)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal as the officer reads them: 5 and 5.0 alike, an empty text as no value."""
    if _number(a) and _number(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return (None if a == "" else a) == (None if b == "" else b)


def _cell(where: str) -> str:
    """Sheet!A1 of a stored cell (a roll-up's or an older store's may carry the file name before it)."""
    return "!".join(where.split("!")[-2:]) if where else ""


def _order(form: Form) -> dict[str, int]:
    codes = [f.code for f in form.metadata] + [i.code for i in form.indicators]
    return {c: n for n, c in enumerate(codes)}


def changes(form: Form, old: Stored, new: Stored) -> list[Change]:
    """Every value that differs between the two versions, in the definition's order (codes it no longer has
    last)."""
    order = _order(form)
    out = []
    for code in sorted(old.values.keys() | new.values.keys(), key=lambda c: (order.get(c, len(order)), c)):
        (a, a_cell), (b, b_cell) = old.values.get(code, (None, "")), new.values.get(code, (None, ""))
        if _same(a, b):
            continue
        f = form.field(code)
        out.append(Change(code, f.label if f else code, _cell(b_cell or a_cell), shown_value(a, form, code),
                          shown_value(b, form, code)))
    return out


def _key(finding: dict) -> tuple:
    return (finding.get("code", ""), finding.get("rule", ""), finding.get("severity", ""),
            finding.get("sheet", ""), finding.get("cell", ""))


def finding_changes(old: Stored, new: Stored) -> tuple[list[dict], list[dict]]:
    """(findings of `new` that `old` did not have, findings of `old` that `new` no longer has)."""
    before, after = {_key(f) for f in old.findings}, {_key(f) for f in new.findings}
    return [f for f in new.findings if _key(f) not in before], [f for f in old.findings if _key(f) not in after]


def diff(form: Form, versions: list[Stored], number: int) -> Diff:
    """Version `number` of `versions` (one unit, one period, oldest first, at least one) against the version
    before it."""
    by_number = {v.version: v for v in versions}
    if number not in by_number:
        have = ", ".join(str(v.version) for v in versions)
        raise BaocaoError(f"không có phiên bản {number} (kho có phiên bản {have})")
    new = by_number[number]
    old = max((v for v in versions if v.version < number), key=lambda v: v.version, default=None)
    d = Diff(new.unit, new.unit_name, period_year(new.period, new.year), old, new)
    if old is not None:
        d.changes = changes(form, old, new)
        d.appeared, d.cleared = finding_changes(old, new)
    return d


def stored_versions(store: Path | str, form: Form, unit: str, period: str | None = None,
                    year: int | None = None) -> list[Stored]:
    """Every version of the unit's submission for the period, oldest first, read without writing. No period:
    the period of the unit's newest submission."""
    with Store(store, form, readonly=True) as db:
        if period is None or year is None:
            newest = max(db.history(unit), key=lambda s: (s.received_at is not None, _instant(s.received_at)),
                         default=None)
            if newest is None:
                return []
            period, year = newest.period, newest.year
        return db.versions(unit, period, year)


def _instant(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


def finding_line(f: dict) -> str:
    where = f"{f['sheet']}!{f['cell']}" if f.get("sheet") else ""
    return f"[{SEVERITY_VI.get(f.get('severity', ''), f.get('severity', ''))}] " + \
        (f"{where}: " if where else "") + str(f.get("message", ""))


def arrival(v: Stored) -> str:
    """How and when a version came, as the unit and the city officer know it: the button or the upload page with
    the unit's own file name, or the file of a consolidated folder; never the path the server keeps it under."""
    when = f"{city_time(v.received_at)} (giờ Việt Nam)"
    if v.sent_by == "excel":
        return f"nộp từ Excel lúc {when}" + (f", tệp «{v.sent_name}»" if v.sent_name else "")
    if v.sent_by == "trinh-duyet":
        return f"nộp qua trình duyệt lúc {when}" + (f", tệp «{v.sent_name}»" if v.sent_name else "")
    if "/" in v.file:  # a Nộp stored before the store kept how it came: only the server's own path is known
        return f"nộp qua máy chủ lúc {when}"
    return f"nhận lúc {when}, tệp «{v.file}»"


def version_line(v: Stored) -> str:
    return f"Phiên bản {v.version}: {arrival(v)}, {v.errors} lỗi, {v.warnings} cảnh báo"


def text(d: Diff) -> list[str]:
    """The diff as the command prints it."""
    head = f"{d.unit} {d.unit_name}, {d.title}"
    if d.old is None:
        return [f"{head}: phiên bản {d.new.version} là bản nộp đầu tiên, không có bản trước để so sánh."]
    lines = [f"{head}: phiên bản {d.new.version} so với phiên bản {d.old.version}."]
    if d.changes:
        lines.append(f"{len(d.changes)} ô thay đổi (chỉ tiêu, ô, cũ → mới):")
        lines += [f"- {c.label} ({c.code}), {c.cell}: {c.old} → {c.new}" for c in d.changes]
    else:
        lines.append("Không ô số liệu nào thay đổi.")
    for title, found in (("Lỗi, cảnh báo mới xuất hiện", d.appeared), ("Lỗi, cảnh báo đã hết", d.cleared)):
        lines.append(f"{title} ({len(found)}):" if found else f"{title}: không có.")
        lines += [f"- {finding_line(f)}" for f in found]
    return lines
