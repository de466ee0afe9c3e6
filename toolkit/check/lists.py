"""Row-by-row checks: the register of documents, Chính quyền thân thiện, and the metadata.

Each register and CQTT check is also a column of formulas on its list sheet
(`toolkit.excel.formulas`), counted on the Kiểm tra sheet; the metadata checks are
one row of it each.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Callable

from toolkit.definition import Finding, Form, label_key
from toolkit.intake import Row, Submission
from toolkit.vnformat import fmt_date, fmt_number, period_year

_SO = re.compile(r"^\d{1,5}(/\d{4})?$")
_KY_HIEU = re.compile(r"^[A-ZĐ][A-Za-zĐđ0-9&]*([-/][A-ZĐ][A-Za-zĐđ0-9&]*)*$")

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
            out.append(make(sub, "vb-so-sai-dang", row.cells["so"].loc, "", {"so": so}, name=name, so=so))
        if sym and not _KY_HIEU.match(str(sym)):
            out.append(make(sub, "vb-ky-hieu-sai-dang", cell.loc, "", {"ky_hieu": sym}, name=name, ky_hieu=sym))
        if kind in abbr and sym:
            head = re.split(r"[-/]", str(sym))[0]
            want = abbr[kind]
            if want and head != want:
                other = f" (là ký hiệu của {owner[head]})" if head in owner else ""
                out.append(make(sub, "vb-loai-ky-hieu", cell.loc, "", {"loai": kind, "ky_hieu": sym}, name=name,
                                loai=kind, want=want, ky_hieu=sym, other=other))
            elif not want and head in owner:
                out.append(make(sub, "vb-cong-van-ky-hieu", cell.loc, "", {"loai": kind, "ky_hieu": sym},
                                name=name, ky_hieu=sym, owner=owner[head]))
        if isinstance(day, date) and isinstance(report_date, date) and day > report_date:
            out.append(make(sub, "vb-ngay-sau-bao-cao", row.cells["ngay"].loc, "",
                            {"ngay": day, "ngay_bao_cao": report_date}, name=name, date_name=date_name,
                            date=fmt_date(report_date)))
        if so and sym and isinstance(day, date):
            key = (str(so), str(sym), day.year)
            other_day = [(d, r) for k, d, r in earlier if k == key and d != day]
            if other_day:  # the nearest earlier one, as the Kiểm tra formula finds it
                d0, r0 = other_day[-1]
                out.append(make(sub, "vb-trung-so-khac-ngay", row.cells["ngay"].loc, "",
                                {"ngay": day, "ngay_khac": d0}, name=name, first=r0.cells["ngay"].loc,
                                other_date=fmt_date(d0)))
            earlier.append((key, day, row))
    return out


def _cqtt(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    out: list[Finding] = []
    rows = sub.lists.get("cqtt", [])
    words = [w.casefold() for w in form.rule_knobs.get("cqtt_tthc_on_time_words", [])]
    for row in rows:
        top, score = row.get("diem_toi_da"), row.get("diem_tu_cham")
        if isinstance(top, (int, float)) and isinstance(score, (int, float)) and score > top:
            out.append(make(sub, "cqtt-diem-vuot-toi-da", row.cells["diem_tu_cham"].loc, score=fmt_number(score),
                            top=fmt_number(top), criterion=row.get("tieu_chi_thanh_phan") or ""))
        text = (row.get("tieu_chi_thanh_phan") or "").casefold()
        overdue = sub.get("HS_QUA_HAN")
        if words and all(w in text for w in words) and isinstance(overdue, (int, float)) and overdue > 0 \
                and isinstance(score, (int, float)) and isinstance(top, (int, float)) and score >= top:
            out.append(make(sub, "cqtt-tthc-qua-han", row.cells["diem_tu_cham"].loc, "",
                            {"HS_QUA_HAN": overdue, "diem_tu_cham": score}, criterion=row.get("tieu_chi_thanh_phan"),
                            overdue=fmt_number(overdue), where=sub.loc("HS_QUA_HAN")))
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
        return make(sub, "cqtt-tong-diem-toi-da", crit_rows[0].cells["diem_toi_da"].loc,
                    f"cqtt-tong-diem-toi-da-{crit.code.lower()}", criterion=crit.label, total=fmt_number(total),
                    need=need, limit=fmt_number(limit))
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


def unit_name(sub: Submission, form: Form, make: MakeFinding) -> Finding | None:
    """The unit's name is the one of its code; None when it is, or when either is missing."""
    code, name = sub.get("MA_DVHC"), sub.get("TEN_DON_VI")
    unit = form.unit_by_code(code) if code else None
    if unit and name and label_key(unit.name) != label_key(name):
        return make(sub, "don-vi-khong-khop", sub.loc("TEN_DON_VI"), name=name, code=code, expected=unit.name)
    return None


def period_bounds(form: Form, period_label: str | None, year) -> tuple[date, date] | None:
    """First and last day of a dated period of a year; None for a topical one or without a year."""
    period = next((p for p in form.periods if p.label == period_label), None)
    if not (period and period.months and isinstance(year, int)):
        return None
    m0, m1 = period.months
    end = (date(year + 1, 1, 1) if m1 == 12 else date(year, m1 + 1, 1)) - timedelta(days=1)
    return date(year, m0, 1), end


def period_window(sub: Submission, form: Form, make: MakeFinding) -> Finding | None:
    """The data window lies in the period (it may start `window_lead_days` early: 15/12 - 14/6)."""
    bounds = period_bounds(form, sub.period, sub.year)
    start, end = sub.window
    if bounds is None or not (start and end):
        return None
    p_start, p_end = bounds
    lead = timedelta(days=form.rule_knobs.get("window_lead_days", 31))
    if start < p_start - lead or end > p_end or end < p_start:
        return make(sub, "ky-ngoai-thoi-gian", sub.loc("TU_NGAY"), start=fmt_date(start), end=fmt_date(end),
                    ky=period_year(sub.period, sub.year), p_start=fmt_date(p_start), p_end=fmt_date(p_end))
    return None


def report_part_findings(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    """Report tags that name no report type, and a report's own figure that its indicator could not hold
    (the Kiểm tra sheet has no row for them)."""
    out: list[Finding] = []
    for list_id in ("noi_dung", "so_lieu_rieng"):
        for row in sub.lists.get(list_id, []):
            _, unknown = form.report_tags(row.get("bao_cao"))
            out += [make(sub, "bao-cao-khong-co", row.cells["bao_cao"].loc, "", {"bao_cao": name}, name=name,
                         codes=", ".join(r.code for r in form.reports.values() if not r.city)) for name in unknown]
    for row in sub.lists.get("so_lieu_rieng", []):
        code, value = form.indicator_code(row.get("chi_tieu")), row.get("gia_tri")
        if code is None and value is not None and form.figure_codes(row.get("chi_tieu")):
            out.append(make(sub, "so-lieu-rieng-sai", row.cells["gia_tri"].loc, "", {"gia_tri": value},
                            label=row.get("chi_tieu"), value=fmt_number(value),
                            reason="một nhóm chỉ tiêu chỉ ghi khoảng thời gian (Từ ngày, Đến ngày), không ghi Giá trị"))
        if code is None or value is None:
            continue
        field = form.indicator(code)
        reason = ("phải là số nguyên" if field.type == "count" and float(value) != int(value) else
                  f"nhỏ hơn {fmt_number(field.min)}" if field.min is not None and value < field.min else
                  f"lớn hơn {fmt_number(field.max)}" if field.max is not None and value > field.max else "")
        if reason:
            out.append(make(sub, "so-lieu-rieng-sai", row.cells["gia_tri"].loc, "", {code: value}, label=field.label,
                            value=fmt_number(value), reason=reason))
    return out


def _windows(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    """The windows of sheet Số liệu riêng: from before to; a row without its own value windows the Số liệu
    sheet's figures, which are the period's, so its dates lie in the period (as the workbook's window may,
    starting `window_lead_days` early). Both located at the row's Từ ngày, as the Kiểm tra formula marks it."""
    out: list[Finding] = []
    bounds = period_bounds(form, sub.period, sub.year)
    lead = timedelta(days=form.rule_knobs.get("window_lead_days", 31))
    own = _own_window_bounds(sub, form)
    for row in sub.lists.get("so_lieu_rieng", []):
        start, end, label = row.get("tu_ngay"), row.get("den_ngay"), row.get("chi_tieu") or ""
        cell = row.cells["tu_ngay"].loc if "tu_ngay" in row.cells else row.loc
        if isinstance(start, date) and isinstance(end, date) and start > end:
            out.append(make(sub, "thoi-gian-nguoc", cell, "", {"tu_ngay": start, "den_ngay": end}, label=label,
                            start=fmt_date(start), end=fmt_date(end)))
        if row.get("gia_tri") is not None and own:
            low, high, date_name = own
            bad = [d for d in (start, end) if isinstance(d, date) and not low <= d <= high]
            if bad:
                out.append(make(sub, "thoi-gian-khong-hop-ly", cell, "", {"ngay": bad[0]}, label=label,
                                date=fmt_date(bad[0]), low=fmt_date(low), high=fmt_date(high),
                                first_year=low.year, date_name=date_name))
        if bounds is None or row.get("gia_tri") is not None:
            continue
        p_start, p_end = bounds
        bad = [d for d in (start, end) if isinstance(d, date) and (d < p_start - lead or d > p_end)]
        if bad:
            out.append(make(sub, "thoi-gian-ngoai-ky", cell, "", {"ngay": bad[0]}, label=label,
                            date=fmt_date(bad[0]), p_start=fmt_date(p_start), p_end=fmt_date(p_end)))
    return out


def _own_window_bounds(sub: Submission, form: Form) -> tuple[date, date, str] | None:
    """(first day, last day, name of the last day) a report's own figure may be counted over: from 1 January
    `window_years_back` years before the report's year to the report's date (the data window's end before the
    report is dated, as for the documents)."""
    high = sub.get("NGAY_BAO_CAO") or sub.get("DEN_NGAY")
    if not isinstance(sub.year, int) or not isinstance(high, date):
        return None
    name = "ngày ký báo cáo" if sub.get("NGAY_BAO_CAO") else "ngày kết thúc kỳ số liệu"
    return date(sub.year - form.rule_knobs.get("window_years_back", 5), 1, 1), high, name


def row_findings(sub: Submission, form: Form, make: MakeFinding) -> list[Finding]:
    """Findings of the row-by-row checks of the register, the CQTT table and the windows, in row order."""
    return _documents(sub, form, make) + _cqtt(sub, form, make) + _windows(sub, form, make)

