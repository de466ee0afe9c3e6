"""What the city's page shows: each unit's status for the period, and the city report from the store.

A unit is "đã nộp" or "nộp muộn" by its newest stored version (the server stores
only submissions without errors), "có lỗi" when it pressed Nộp and was refused for
errors and has no stored version, "chưa nộp" otherwise. The statuses and the
deadline are those of the city workbook (toolkit.city.consolidation), so the page and the
downloaded workbook agree. Units to chase come first.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from toolkit.city import ST_ERRORS, ST_LATE, ST_MISSING, Store, consolidate_store
from toolkit.definition import Form
from toolkit.errors import BaocaoError
from toolkit.server.nop import last_attempts, receipt_code


def unit_rows(store: Path, period: str, year: int, deadline: date | None, form: Form) -> list[dict[str, Any]]:
    result = consolidate_store(store, period, year, deadline=deadline, form=form)
    label = form.period(period).label
    with Store(store, form) as db:
        versions = {(u, f): (v, h) for u, f, v, h in db.db.execute(
            "SELECT unit, file, version, file_hash FROM submission WHERE period=? AND year=?", (label, year))}
    tried = last_attempts(store, label, year)
    odd = Counter(a.unit for a in result.anomalies)
    rows = []
    for r in result.rows:
        version, digest = versions.get((r.unit.code, r.file), (None, ""))
        row = {"code": r.unit.code, "name": r.unit.name, "kind": r.unit.kind, "status": r.status,
               "received": r.received, "version": version, "errors": r.errors, "warnings": r.warnings,
               "deadline": r.deadline, "note": r.note, "anomalies": odd[r.unit.code],
               "receipt": receipt_code(r.unit.code, label, year, version, digest, form) if version else ""}
        if r.status == ST_MISSING and r.unit.code in tried:
            at, errors, warnings = tried[r.unit.code]
            row.update(status=ST_ERRORS, errors=errors, warnings=warnings,
                       note=f"Bấm Nộp lúc {at:%H:%M %d/%m/%Y} nhưng phiếu còn {errors} lỗi; chưa có bản nào được nhận")
        rows.append(row)
    # The units the city must chase first: refused, then missing, then late.
    order = {ST_ERRORS: 0, ST_MISSING: 1, ST_LATE: 2}
    return sorted(rows, key=lambda r: (order.get(r["status"], 3), r["code"]))


def city_report(store: Path, folder: Path, period: str, year: int, deadline: date | None, form: Form) -> Path:
    """The city synthesis from the store's newest version of each unit: the consolidation the city workbook
    is written from, so both downloads agree."""
    from toolkit.city import render_city_report

    res = consolidate_store(store, period, year, deadline, form)
    if not res.received:
        raise BaocaoError(f"chưa có đơn vị nào nộp phiếu {form.period(period).label} năm {year}")
    return render_city_report(res, folder / f"bao_cao_tong_hop_{form.period(period).code}_{year}.docx")[0]
