"""What the city's page shows: the counts and each unit's row for the period, and the city report from the store.

Everything comes from the consolidation the city workbook is written from (toolkit.city.consolidate_store):
the same statuses (chưa nộp, đã nộp, có lỗi, nộp muộn), the same deadline per unit and the same counts
(đã nộp = every unit with a version, late or not, with errors or not; hợp lệ = without errors), so the page
and the downloaded workbook agree. A refused Nộp stores nothing: the unit stays "chưa nộp" on both, and the
page adds when it tried and how many errors its workbook had. Times are shown in the city's time zone.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from toolkit.city import ST_ERRORS, ST_LATE, ST_MISSING, ST_OK, Consolidation, Store, consolidate_store
from toolkit.definition import Form
from toolkit.errors import BaocaoError
from toolkit.server.nop import receipt_code
from toolkit.vnformat import fmt_percent, period_year

CITY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# The page's filters: key -> label. A row belongs to every group it matches (a late unit is also "đã nộp").
GROUPS = {"da-nop": "Đã nộp", "dung-han": "Đúng hạn, không lỗi", "nop-muon": "Nộp muộn", "co-loi": "Có lỗi",
          "chua-nop": "Chưa nộp", "tu-choi": "Bấm Nộp bị từ chối", "bat-thuong": "Có số liệu bất thường"}
COLUMNS = ("STT", "Mã ĐVHC", "Đơn vị", "Trạng thái", "Số ngày muộn", "Thời gian nhận", "Hạn nộp", "Phiên bản",
           "Mã tiếp nhận", "Lỗi", "Cảnh báo", "Bất thường", "Các phiên bản", "Ghi chú")
STATUS_CSS = {ST_MISSING: "chua-nop", ST_OK: "da-nop", ST_ERRORS: "co-loi", ST_LATE: "nop-muon"}
# Default order: the units to chase first (most days late first), then by status, then by code.
STATUS_ORDER = {ST_LATE: 0, ST_ERRORS: 1, ST_MISSING: 2, ST_OK: 3}


@dataclass
class Page:
    title: str  # the period, e.g. "6 tháng đầu năm 2026"
    now: datetime  # in the city's time zone
    counts: dict[str, int]  # group key -> units, plus "tong" (units that must submit)
    received_rate: str  # "97,37%" of units that submitted, as in the city workbook
    rows: list[dict[str, Any]]


def city_time(moment: datetime) -> datetime:
    """A time the server recorded (its own clock, naive) as a time in the city."""
    return moment.astimezone(CITY_TZ)


def page_data(store: Path, period: str, year: int, deadline: date | None, form: Form) -> Page:
    res = consolidate_store(store, period, year, deadline=deadline, form=form)
    now = datetime.now(CITY_TZ)
    rows = unit_rows(res, store, deadline, now.date())
    counts = {g: sum(g in r["groups"] for r in rows) for g in GROUPS}
    counts["tong"] = res.expected
    rate = fmt_percent(res.received_rate, fixed=True) if res.received_rate is not None else ""
    return Page(period_year(res.period, year), now, counts, rate, rows)


def unit_rows(res: Consolidation, store: Path, deadline: date | None, today: date) -> list[dict[str, Any]]:
    """Each unit's row, the units to chase first. A unit not in yet has the city's deadline when one was set
    (else its own is known only from its workbook's data window)."""
    form, label, year = res.form, res.period, res.year
    with Store(store, form, readonly=True) as db:
        versions = db.hashes(label, year)
        tried = db.attempts(label, year)
    odd = Counter(a.unit for a in res.anomalies)  # the plausibility warnings of each unit
    rows = []
    for r in res.rows:
        version = versions.get((r.unit.code, r.file_hash))
        due = r.deadline or (deadline if r.status == ST_MISSING else None)
        late_days = None
        if r.late:
            late_days = (r.received.date() - due).days
        elif r.status == ST_MISSING and due and today > due:
            late_days = (today - due).days  # not in yet: how long overdue so far
        groups = ["chua-nop"] if r.status == ST_MISSING else ["da-nop"]
        groups += ["nop-muon"] if r.late else []
        groups += ["co-loi"] if r.status == ST_ERRORS else []
        groups += ["dung-han"] if r.status == ST_OK else []
        groups += ["bat-thuong"] if odd[r.unit.code] else []  # as the city workbook's «Bất thường» sheet
        note = r.note
        if r.status == ST_MISSING and r.unit.code in tried:
            at, errors, _ = tried[r.unit.code]
            groups.append("tu-choi")
            note = (f"Đã bấm Nộp lúc {city_time(at):%H:%M %d/%m/%Y} nhưng phiếu còn {errors} lỗi; chưa có bản nào "
                    "được nhận")
        rows.append({"code": r.unit.code, "name": r.unit.name, "status": r.status, "groups": groups,
                     "late_days": late_days, "received": city_time(r.received) if r.received else None,
                     "deadline": due, "version": version,
                     "receipt": receipt_code(r.unit.code, label, year, version, r.file_hash, form) if version else "",
                     "errors": r.errors if r.status != ST_MISSING else None,
                     "warnings": r.warnings if r.status != ST_MISSING else None, "note": note,
                     "anomalies": odd[r.unit.code]})
    return sorted(rows, key=lambda r: (-(r["late_days"] or 0), STATUS_ORDER[r["status"]], r["code"]))


def city_report(store: Path, folder: Path, period: str, year: int, deadline: date | None, form: Form) -> Path:
    """The city synthesis from the store's newest version of each unit: the consolidation the city workbook
    is written from, so both downloads agree."""
    from toolkit.city import render_city_report

    res = consolidate_store(store, period, year, deadline, form)
    if not res.received:
        raise BaocaoError(f"chưa có đơn vị nào nộp phiếu {form.period(period).label} năm {year}")
    return render_city_report(res, folder / f"bao_cao_tong_hop_{form.period(period).code}_{year}.docx")[0]
