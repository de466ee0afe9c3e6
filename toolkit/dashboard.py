"""What the city's page shows: each unit's status for the period, and the city report from the store.

A unit is "đã nộp" or "nộp muộn" by its newest stored version (the server stores
only submissions without errors), "có lỗi" when it pressed Nộp and was refused for
errors and has no stored version, "chưa nộp" otherwise. The statuses and the
deadline are those of the city workbook (toolkit.consolidate), so the page and the
downloaded workbook agree. Units to chase come first.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from toolkit.consolidate import ST_ERRORS, ST_LATE, ST_MISSING, consolidate_store
from toolkit.errors import BaocaoError
from toolkit.form import Form
from toolkit.intake import last_attempts, receipt_code
from toolkit.store import Store


def unit_rows(store: Path, period: str, year: int, deadline: date | None, form: Form) -> list[dict[str, Any]]:
    result = consolidate_store(store, period, year, deadline=deadline, form=form)
    label = form.period(period).label
    with Store(store, form) as db:
        versions = {(u, f): (v, h) for u, f, v, h in db.db.execute(
            "SELECT unit, file, version, file_hash FROM submission WHERE period=? AND year=?", (label, year))}
    tried = last_attempts(store, label, year)
    rows = []
    for r in result.rows:
        version, digest = versions.get((r.unit.code, r.file), (None, ""))
        row = {"code": r.unit.code, "name": r.unit.name, "kind": r.unit.kind, "status": r.status,
               "received": r.received, "version": version, "errors": r.errors, "warnings": r.warnings,
               "deadline": r.deadline, "note": r.note,
               "receipt": receipt_code(r.unit.code, label, year, version, digest, form) if version else ""}
        if r.status == ST_MISSING and r.unit.code in tried:
            at, errors, warnings = tried[r.unit.code]
            row.update(status=ST_ERRORS, errors=errors, warnings=warnings,
                       note=f"Bấm Nộp lúc {at:%H:%M %d/%m/%Y} nhưng phiếu còn {errors} lỗi; chưa có bản nào được nhận")
        rows.append(row)
    # The units the city must chase first: refused, then missing, then late.
    order = {ST_ERRORS: 0, ST_MISSING: 1, ST_LATE: 2}
    return sorted(rows, key=lambda r: (order.get(r["status"], 3), r["code"]))


def city_report(store: Path, folder: Path, period: str, year: int, form: Form) -> Path:
    """The city synthesis from the newest received workbook of each unit (kept by toolkit.intake)."""
    from toolkit.reports import render_batch

    label = form.period(period).label
    with Store(store, form) as db:
        files = [folder / "phieu" / s.file for s in (db.latest(u, label, year) for u in db.units(label, year))
                 if s is not None and (folder / "phieu" / s.file).exists()]
    if not files:
        raise BaocaoError(f"chưa có đơn vị nào nộp phiếu {label} năm {year} qua máy chủ")
    city = next(code for code, kind in _report_kinds() if kind)
    return render_batch(files, city, folder / "tong_hop")[0]


def _report_kinds() -> list[tuple[str, bool]]:
    from toolkit.reports import REPORT_TYPES

    return [(t.code, t.city) for t in REPORT_TYPES.values()]
