"""Row-by-row checks: the register of documents, Chính quyền thân thiện, and the metadata.

Each register and CQTT check is also a column of formulas on its list sheet
(`toolkit.rules_excel`), counted on the Kiểm tra sheet; the metadata checks run
from the «Kiểm tra» button only.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Callable

from toolkit.findings import ERROR, Finding
from toolkit.form import Form
from toolkit.submission import Row, Submission
from toolkit.vnformat import fmt_date, fmt_number

_SO = re.compile(r"^\d{1,5}(/\d{4})?$")
_KY_HIEU = re.compile(r"^[A-ZĐ][A-Za-zĐđ0-9&]*([-/][A-ZĐ][A-Za-zĐđ0-9&]*)*$")
_PERIOD_MONTHS = {"Q1": (1, 3), "Q2": (4, 6), "Q3": (7, 9), "Q4": (10, 12), "6T": (1, 6), "9T": (1, 9),
                  "NAM": (1, 12)}

MakeFinding = Callable[..., Finding]


def citation(row: Row) -> str:
    """ "Kế hoạch số 55/QĐ-UBND ngày 26/01/2026", as reports and findings cite a document.

    A party symbol already holding "/" (NQ/TW, KH/TU) joins its number with "-": 57-NQ/TW.
    """
    so, sym = str(row.get("so") or "").strip(), str(row.get("ky_hieu") or "").strip()
    ref = f"{so}-{sym}" if "/" in sym else f"{so}/{sym}" if sym else so
    text = f"{row.get('loai') or 'Văn bản'} số {ref}"
    return text + (f" ngày {fmt_date(row.get('ngay'))}" if isinstance(row.get("ngay"), date) else "")


def _abbreviations(form: Form) -> dict[str, str]:
    """Document type label -> its abbreviation in a symbol ("" for a công văn)."""
    return {c.label: c.extra.get("abbr", c.code) for c in form.choices["loai_van_ban"]}


def _documents(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    out: list[Finding] = []
    abbr = _abbreviations(form)
    owner = {v: k for k, v in reversed(list(abbr.items())) if v}  # the first type of an abbreviation
    report_date = sub.get("NGAY_BAO_CAO") or sub.get("DEN_NGAY")
    date_name = "ngày ký báo cáo" if sub.get("NGAY_BAO_CAO") else "ngày kết thúc kỳ số liệu"
    earlier: list[tuple[tuple, date, Row]] = []
    for row in sub.lists.get("van_ban", []):
        kind, so, sym, day = row.get("loai"), row.get("so"), row.get("ky_hieu"), row.get("ngay")
        name = citation(row)
        cell = row.cells.get("ky_hieu")
        if so and not _SO.match(str(so)):
            out.append(make(sub, "vb-so-sai-dang", ERROR, row.cells["so"].loc,
                            f"{name}: số «{so}» không đúng dạng (số thứ tự, văn bản QPPL kèm năm: 01/2026)",
                            "vb-so-sai-dang", {"so": so}))
        if sym and not _KY_HIEU.match(str(sym)):
            out.append(make(sub, "vb-ky-hieu-sai-dang", ERROR, cell.loc,
                            f"{name}: ký hiệu «{sym}» không đúng dạng (chữ in hoa nối bằng dấu gạch ngang, "
                            "không có khoảng trắng, ví dụ QĐ-UBND)", "vb-ky-hieu-sai-dang", {"ky_hieu": sym}))
        if kind in abbr and sym:
            head = re.split(r"[-/]", str(sym))[0]
            want = abbr[kind]
            if want and head != want:
                other = f" (là ký hiệu của {owner[head]})" if head in owner else ""
                out.append(make(sub, "vb-loai-ky-hieu", ERROR, cell.loc,
                                f"{name}: loại «{kind}» phải có ký hiệu bắt đầu bằng «{want}-», nhưng ký hiệu là "
                                f"«{sym}»{other}", "vb-loai-ky-hieu", {"loai": kind, "ky_hieu": sym}))
            elif not want and head in owner:
                out.append(make(sub, "vb-loai-ky-hieu", ERROR, cell.loc,
                                f"{name}: công văn không có ký hiệu loại văn bản, nhưng ký hiệu «{sym}» là của "
                                f"{owner[head]}", "vb-loai-ky-hieu", {"loai": kind, "ky_hieu": sym}))
        if isinstance(day, date) and isinstance(report_date, date) and day > report_date:
            out.append(make(sub, "vb-ngay-sau-bao-cao", ERROR, row.cells["ngay"].loc,
                            f"{name}: ngày ban hành sau {date_name} ({fmt_date(report_date)})",
                            "vb-ngay-sau-bao-cao", {"ngay": day, "ngay_bao_cao": report_date}))
        if so and sym and isinstance(day, date):
            key = (str(so), str(sym), day.year)
            other_day = [(d, r) for k, d, r in earlier if k == key and d != day]
            if other_day:  # the nearest earlier one, as the Kiểm tra formula finds it
                d0, r0 = other_day[-1]
                out.append(make(sub, "vb-trung-so-khac-ngay", ERROR, row.cells["ngay"].loc,
                                f"{name}: cùng số, ký hiệu với văn bản ở {r0.cells['ngay'].loc} nhưng khác ngày "
                                f"({fmt_date(d0)})", "vb-trung-so-khac-ngay", {"ngay": day, "ngay_khac": d0}))
            earlier.append((key, day, row))
    return out


def _cqtt(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    out: list[Finding] = []
    rows = sub.lists.get("cqtt", [])
    words = [w.casefold() for w in form.rule_knobs.get("cqtt_tthc_on_time_words", [])]
    for row in rows:
        top, score = row.get("diem_toi_da"), row.get("diem_tu_cham")
        if isinstance(top, (int, float)) and isinstance(score, (int, float)) and score > top:
            out.append(make(sub, "cqtt-diem-vuot-toi-da", ERROR, row.cells["diem_tu_cham"].loc,
                            f"Điểm tự chấm ({fmt_number(score)}) lớn hơn điểm tối đa ({fmt_number(top)}) của "
                            f"tiêu chí thành phần «{row.get('tieu_chi_thanh_phan') or ''}»", "cqtt-diem-vuot-toi-da"))
        text = (row.get("tieu_chi_thanh_phan") or "").casefold()
        overdue = sub.get("HS_QUA_HAN")
        if words and all(w in text for w in words) and isinstance(overdue, (int, float)) and overdue > 0 \
                and isinstance(score, (int, float)) and isinstance(top, (int, float)) and score >= top:
            out.append(make(sub, "cqtt-tthc-qua-han", ERROR, row.cells["diem_tu_cham"].loc,
                            f"Tiêu chí «{row.get('tieu_chi_thanh_phan')}» không thể đạt điểm tối đa khi có "
                            f"{fmt_number(overdue)} hồ sơ giải quyết quá hạn ({sub.loc('HS_QUA_HAN')})",
                            "cqtt-tthc-qua-han", {"HS_QUA_HAN": overdue, "diem_tu_cham": score}))
    return out


def cqtt_total(sub: Submission, crit, make: MakeFinding) -> Finding | None:
    """The maxima of one criterion's sub-criteria add up to the criterion's points (at most, while unscored)."""
    crit_rows = [r for r in sub.lists.get("cqtt", []) if r.get("tieu_chi") == crit.label]
    maxima = [r.get("diem_toi_da") for r in crit_rows if isinstance(r.get("diem_toi_da"), (int, float))]
    if not maxima:
        return None
    total, limit = sum(maxima), crit.extra["max"]
    complete = all(isinstance(r.get("diem_tu_cham"), (int, float)) for r in crit_rows)
    if total > limit + 1e-9 or (complete and abs(total - limit) > 1e-9):
        need = "bằng" if complete else "không vượt quá"
        return make(sub, "cqtt-tong-diem-toi-da", ERROR, crit_rows[0].cells["diem_toi_da"].loc,
                    f"Tổng điểm tối đa các tiêu chí thành phần của «{crit.label}» là {fmt_number(total)}, "
                    f"phải {need} {fmt_number(limit)}", f"cqtt-tong-diem-toi-da-{crit.code.lower()}")
    return None


def cqtt_level(sub: Submission, form: Form) -> tuple[float, str | None] | None:
    """Total self-score and the registered level it reaches, when every row is scored."""
    rows = sub.lists.get("cqtt", [])
    scores = [r.get("diem_tu_cham") for r in rows]
    if not rows or not all(isinstance(s, (int, float)) for s in scores):
        return None
    total = sum(scores)
    level = next((lv["label"] for lv in form.cqtt_levels if lv["min"] <= total < lv.get("below", 1e9)), None)
    return total, level


def _metadata(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    out: list[Finding] = []
    code, name = sub.get("MA_DVHC"), sub.get("TEN_DON_VI")
    unit = form.unit_by_code(code) if code else None
    if unit and name and unit.name != name:
        out.append(make(sub, "don-vi-khong-khop", ERROR, sub.loc("TEN_DON_VI"),
                        f"Tên đơn vị «{name}» không khớp mã {code} (mã này là «{unit.name}»)", "don-vi-khong-khop"))
    period = next((c for c in form.choices["ky_bao_cao"] if c.label == sub.period), None)
    year, start, end = sub.year, *sub.window
    if period and period.code in _PERIOD_MONTHS and isinstance(year, int) and start and end:
        m0, m1 = _PERIOD_MONTHS[period.code]
        p_start = date(year, m0, 1)
        p_end = (date(year + 1, 1, 1) if m1 == 12 else date(year, m1 + 1, 1)) - timedelta(days=1)
        lead = timedelta(days=form.rule_knobs.get("window_lead_days", 31))
        if start < p_start - lead or end > p_end or end < p_start:
            out.append(make(sub, "ky-ngoai-thoi-gian", ERROR, sub.loc("TU_NGAY"),
                            f"Khoảng số liệu {fmt_date(start)} – {fmt_date(end)} không nằm trong kỳ {period.label} "
                            f"năm {year} ({fmt_date(p_start)} – {fmt_date(p_end)})", "ky-ngoai-thoi-gian"))
    return out


def row_findings(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    """Findings of the row-by-row checks of the register and the CQTT table, in row order."""
    return _documents(sub, form, make) + _cqtt(sub, form, make)


def metadata_findings(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    return _metadata(sub, form, make)

