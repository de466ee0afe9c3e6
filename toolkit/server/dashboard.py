"""What the city's page shows: the counts and each unit's row for the period, and the city report from the store.

Everything comes from the consolidation the city workbook is written from (toolkit.city.consolidate_store):
the same statuses (chưa nộp, đã nộp, có lỗi, nộp muộn), the same deadline per unit and the same counts
(đã nộp = every unit with a version, late or not, with errors or not; hợp lệ = without errors), so the page
and the downloaded workbook agree. A refused Nộp stores nothing: the unit stays "chưa nộp" on both, and the
page adds when it tried and how many errors its workbook had, counts it in a card of its own and lists it right
after the units not in (the next to chase). Times are shown in the city's time zone and days
late counted on its calendar (toolkit.vnformat); one deadline for the period applies to every unit, so a unit not
in yet shows how many days it is overdue and comes first. A figure flagged «bất thường» is held out until settled
(HOLD_RULE, the sentence the city workbook and report print too).
"""
from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from toolkit.city import HOLD_RULE, ST_ERRORS, ST_LATE, ST_MISSING, ST_OK, Consolidation, Store, consolidate_store
from toolkit.definition import Form
from toolkit.errors import BaocaoError
from toolkit.server.nop import receipt_code
from toolkit.vnformat import CITY_TZ, city_time, fmt_percent, period_year, read_date

# The page's filters: key -> label. A row belongs to every group it matches (a late unit is also "đã nộp").
GROUPS = {"da-nop": "Đã nộp", "dung-han": "Đúng hạn, không lỗi", "nop-muon": "Nộp muộn", "co-loi": "Có lỗi",
          "chua-nop": "Chưa nộp", "tu-choi": "Bấm Nộp bị từ chối", "bat-thuong": "Có số liệu bất thường"}
COLUMNS = ("STT", "Mã ĐVHC", "Đơn vị", "Trạng thái", "Số ngày muộn", "Thời gian nhận", "Hạn nộp", "Phiên bản",
           "Mã tiếp nhận", "Lỗi", "Cảnh báo", "Bất thường", "Các phiên bản", "Ghi chú")
STATUS_CSS = {ST_MISSING: "chua-nop", ST_OK: "da-nop", ST_ERRORS: "co-loi", ST_LATE: "nop-muon"}
# Default order: the units to chase first: not in yet (most days overdue first), those whose Nộp was refused (not
# in yet either, but they tried: a call about their errors), late, with errors, then by code.
STATUS_ORDER = {ST_MISSING: 0, ST_LATE: 2, ST_ERRORS: 3, ST_OK: 4}
REFUSED_ORDER = 1


@dataclass
class Page:
    title: str  # the period, e.g. "6 tháng đầu năm 2026"
    now: datetime  # in the city's time zone
    counts: dict[str, int]  # group key -> units, plus "tong" (units that must submit)
    received_rate: str  # "97,37%" of units that submitted, as in the city workbook
    rows: list[dict[str, Any]]
    deadline: date | None = None  # the period's deadline, one for every unit
    rule: str = HOLD_RULE
    new_due: date | None = None  # what the dispatch form offers: today + the form's deadline days
    earliest: date | None = None  # the first new date the dispatch takes: tomorrow


def page_data(store: Path, period: str, year: int, deadline: date | None, form: Form) -> Page:
    now = datetime.now(CITY_TZ)
    res = consolidate_store(store, period, year, deadline=deadline, form=form, today=now.date())
    rows = unit_rows(res, store)
    counts = {g: sum(g in r["groups"] for r in rows) for g in GROUPS}
    counts["tong"] = res.expected
    rate = fmt_percent(res.received_rate, fixed=True) if res.received_rate is not None else ""
    return Page(period_year(res.period, year), now, counts, rate, rows, res.deadline,
                new_due=now.date() + timedelta(days=form.deadline_days), earliest=now.date() + timedelta(days=1))


def unit_rows(res: Consolidation, store: Path) -> list[dict[str, Any]]:
    """Each unit's row, the units to chase first, each with the period's deadline and its days late (received
    late) or overdue (not in yet), as the consolidation counted them on the city's calendar."""
    form, label, year = res.form, res.period, res.year
    with Store(store, form, readonly=True) as db:
        versions = db.hashes(label, year)
        tried = db.attempts(label, year)
    odd = Counter(a.unit for a in res.anomalies)  # the plausibility warnings of each unit
    settled = {(a.unit, a.code): who for a, who in res.settled}
    said: dict[str, list[tuple[str, str]]] = {}  # (which figure, why), as the «Bất thường» sheet says it
    for a in res.anomalies:
        state = settled.get((a.unit, a.code), "chưa xử lý, chưa cộng")
        said.setdefault(a.unit, []).append((a.label, f"{a.why} ({state})"))
    rows = []
    for r in res.rows:
        version = versions.get((r.unit.code, r.file_hash))
        late_days = r.days_late or None
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
                     "deadline": r.deadline, "version": version,
                     "receipt": receipt_code(r.unit.code, label, year, version, r.file_hash, form) if version else "",
                     "errors": r.errors if r.status != ST_MISSING else None,
                     "warnings": r.warnings if r.status != ST_MISSING else None, "note": note,
                     "anomalies": odd[r.unit.code], "odd": said.get(r.unit.code, []),
                     "order": REFUSED_ORDER if "tu-choi" in groups else STATUS_ORDER[r.status]})
    return sorted(rows, key=lambda r: (r["order"], -(r["late_days"] or 0), r["code"]))


def city_report(store: Path, folder: Path, period: str, year: int, deadline: date | None, form: Form) -> Path:
    """The city synthesis from the store's newest version of each unit: the consolidation the city workbook
    is written from, so both downloads agree."""
    from toolkit.city import render_city_report

    res = consolidate_store(store, period, year, deadline, form)
    if not res.received:
        raise BaocaoError(f"chưa có đơn vị nào nộp phiếu {form.period(period).label} năm {year}")
    # a draft: Đánh giá chung, Nhiệm vụ and Kiến nghị are the city officer's, written in tong_hop.xlsm
    return render_city_report(res, folder / f"bao_cao_tong_hop_{form.period(period).code}_{year}.docx",
                              draft=True)[0]


def city_dispatch(store: Path, folder: Path, period: str, year: int, deadline: date | None, form: Form,
                  due: date | None) -> tuple[str, bytes]:
    """The công văn đôn đốc from the page's consolidation and the store's refused Nộp attempts, with the new date
    `due` (None: today + the form's deadline days): (file name, .docx). Written in a folder of its own, so two
    officers asking at once with different dates each get their own."""
    from toolkit.city import render_dispatch

    res = consolidate_store(store, period, year, deadline, form)
    with Store(store, form, readonly=True) as db:
        tried = db.attempts(res.period, year)
    name = f"cong_van_don_doc_{form.period(period).code}_{year}.docx"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        return name, render_dispatch(res, Path(tmp) / name, due, tried)[0].read_bytes()


def typed_date(text: str) -> date | None:
    """A date from the page's form: the browser's date field sends 2026-12-20, a browser without one sends what
    was typed (20/12/2026); empty is None."""
    if not text.strip():
        return None
    found = read_date(text)
    if found is None:
        raise BaocaoError(f"hạn mới «{text.strip()[:40]}» không đúng dạng ngày/tháng/năm (ví dụ 20/12/2026)")
    return found
