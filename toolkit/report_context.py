"""The docxtpl context of every report: metadata, Vietnamese numbers, citations, sentences, text blocks.

Templates only place what is built here, so the wording rules live in one place:
numbers through toolkit.vnformat, a sentence clause only when its values are
present (never "None"), ratios from counts with round half-up, and a typed
percentage shown as typed when it agrees with its counts (one that does not is a
typing slip the checker reports; the report shows the value of the counts).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from toolkit.checks_lists import citation as document_reference
from toolkit.form import Form, load_form
from toolkit.submission import Submission
from toolkit.vnformat import (fmt_count, fmt_date, fmt_date_header, fmt_money, fmt_number, fmt_percent,
                              round_half_up)

BLANK_DAY = "ngày    tháng    năm"
QUARTERS = ("Quý I", "Quý II", "Quý III", "Quý IV")
# Kinds of unit as they start the name in don_vi.csv, longest first ("Đặc khu" before "Xã").
UNIT_KINDS = ("Đặc khu", "Phường", "Xã")


# ---------------------------------------------------------------- numbers


def num(n: int | float) -> str:
    """A count in prose: 05, 5.892; zero stays "0" as the seeds write it ("0 hồ sơ")."""
    if n == 0:
        return "0"
    return fmt_count(int(n)) if float(n).is_integer() else fmt_number(n)


def qty(n: int | float, unit: str) -> str:
    return f"{num(n)} {unit}".strip()


def _decimals(x: float) -> int:
    text = repr(float(x))
    return 0 if text.endswith(".0") else len(text.split(".")[1])


def _value(sub: Submission, code: str) -> Any:
    """An indicator value, with the one derived total the seeds write either way (trước + đúng hạn)."""
    v = sub.get(code)
    if v is None and code == "HS_TRUOC_DUNG_HAN":
        parts = [sub.get("HS_TRUOC_HAN"), sub.get("HS_DUNG_HAN")]
        if any(p is not None for p in parts):
            v = sum(p or 0 for p in parts)
    return v


def percent(sub: Submission, code: str, form: Form) -> str | None:
    """The percentage to print for a ratio indicator (see the module note), or None."""
    typed = sub.get(code)
    field = form.indicator(code)
    raw = None
    if field.ratio:
        n, d = _value(sub, field.ratio[0]), _value(sub, field.ratio[1])
        if n is not None and d:
            raw = 100 * n / d
    if typed is not None and (raw is None or round_half_up(raw, min(_decimals(typed), 2)) == typed):
        return fmt_percent(typed)
    if raw is not None:
        return fmt_percent(round_half_up(raw, 2), fixed=True)
    return None


def _join(parts: Iterable[str | None], sep: str = "; ") -> str:
    return sep.join(p for p in parts if p)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _items(sub: Submission, form: Form, codes: Iterable[str]) -> list[str]:
    """"Label: 05 unit" for each present count, in the order given."""
    out = []
    for code in codes:
        v = sub.get(code)
        if v is not None:
            f = form.indicator(code)
            out.append(f"{f.label}: {qty(v, f.unit)}.")
    return out


# ---------------------------------------------------------------- metadata


def unit_names(full: str | None) -> dict[str, str]:
    """"Xã Nghi Dương" -> kind "xã", bare "Nghi Dương", upper "XÃ NGHI DƯƠNG", lower "xã Nghi Dương"."""
    full = (full or "").strip()
    kind = next((k for k in UNIT_KINDS if full.casefold().startswith(k.casefold() + " ")), "")
    bare = full[len(kind):].strip() if kind else full
    kind_l = kind.lower() or "xã"
    return {"ten": full, "ten_hoa": full.upper(), "ten_thuong": f"{kind_l} {bare}".strip(), "ten_rieng": bare,
            "loai": kind_l, "ubnd": f"Ủy ban nhân dân {kind_l}", "ubnd_day_du": f"Ủy ban nhân dân {kind_l} {bare}"}


def period(sub: Submission) -> dict[str, str]:
    """Names of the period and of the next one, as the trích yếu and headings write them."""
    return period_names(sub.period or "", sub.year or "", sub.window)


def period_names(label: str, year: int | str, window: tuple[date | None, date | None] = (None, None)) -> dict:
    """`period` for a period label and year (the city report has no single workbook)."""
    if label in QUARTERS:
        i = QUARTERS.index(label)
        # "quý I": only the word is lower case, the Roman numeral stays upper.
        nxt = f"quý {QUARTERS[(i + 1) % 4].split()[1]} năm {year if i < 3 else int(year) + 1}"
        name = f"quý {label.split()[1]} năm {year}"
    elif label == "6 tháng đầu năm":
        name, nxt = f"6 tháng đầu năm {year}", f"6 tháng cuối năm {year}"
    elif label == "9 tháng":
        name, nxt = f"9 tháng năm {year}", f"quý IV năm {year}"
    elif label == "Năm":
        name, nxt = f"năm {year}", f"năm {int(year) + 1 if year else ''}".strip()
    else:
        name, nxt = f"năm {year}".strip(), "thời gian tới"
    start, end = window
    return {"ten": name, "ten_hoa": name.upper(), "ky_toi": nxt, "ky_toi_hoa": nxt.upper(), "nhan": label,
            "nam": str(year), "tu_ngay": fmt_date(start) if start else "", "den_ngay": fmt_date(end) if end else "",
            "la_quy": label in QUARTERS}


def dateline(place: str, signed: date | None, year: Any) -> str:
    """"Nghi Dương, ngày 05 tháng 01 năm 2026", or blanks to fill by hand when not yet dated."""
    if signed:
        return fmt_date_header(signed, place)
    return f"{place}, {BLANK_DAY} {year}".strip(", ")


def report_number(raw: Any, symbol: str) -> str:
    """"Số: 05/BC-UBND"; blanks when the number is not yet taken."""
    text = str(raw or "").strip()
    if text.isdigit() and int(text) < 10:
        text = f"{int(text):02d}"
    return f"Số: {text or '      '}/{symbol}"


def recipients(raw: str | None) -> list[str]:
    """One "- …;" line each, the last ending with "." and a "Lưu: VT" line always present."""
    lines = [ln.strip().lstrip("-–+ ").rstrip(";.").strip() for ln in (raw or "").splitlines()]
    lines = [ln for ln in lines if ln]
    if not any(ln.casefold().startswith("lưu") for ln in lines):
        lines.append("Lưu: VT")
    return [f"- {ln}{'.' if i == len(lines) - 1 else ';'}" for i, ln in enumerate(lines)]


def signature(sub: Submission, form: Form) -> list[str]:
    choice = form.choice_by_label("chuc_vu_ky", sub.get("CHUC_VU_KY") or "") or form.choices["chuc_vu_ky"][0]
    return [str(x) for x in choice.extra.get("signature", [choice.label.upper()])]


# ---------------------------------------------------------------- documents


def citation(row, issuer_default: str, with_issuer: bool = True) -> str:
    """"Quyết định số 12/QĐ-UBND ngày 09/01/2026 của Ủy ban nhân dân xã về việc …"."""
    text = document_reference(row)
    if with_issuer:
        text += f" của {row.get('co_quan') or issuer_default}"
    if row.get("trich_yeu"):
        text += f" {row.get('trich_yeu').strip().rstrip('.;')}"
    return text


def document_sentences(rows: list, unit: dict[str, str]) -> list[str]:
    """Up to two sentences citing a group of documents: those received, then those the unit issued."""
    outside = [r for r in rows if r.get("co_quan")]
    own = [r for r in rows if not r.get("co_quan")]
    out = []
    if outside:
        out.append("Thực hiện " + "; ".join(citation(r, unit["ubnd"]) for r in outside) + ".")
    if own:
        out.append(f"{unit['ubnd']} đã ban hành " + "; ".join(citation(r, unit["ubnd"], False) for r in own) + ".")
    return out


# ---------------------------------------------------------------- generated sentences per data block


def _tthc(sub: Submission, form: Form) -> list[str]:
    g, out = sub.get, []
    if g("TTHC_TONG") is not None:
        s = f"Số thủ tục hành chính thuộc thẩm quyền giải quyết là {qty(g('TTHC_TONG'), 'thủ tục')}"
        if g("TTHC_CONG_KHAI") is not None:
            s += f", trong đó {qty(g('TTHC_CONG_KHAI'), 'thủ tục')} được công khai"
        out.append(s + ".")
    if g("HS_TIEP_NHAN") is not None:
        parts = _join([qty(g("HS_TRONG_KY"), "hồ sơ trong kỳ") if g("HS_TRONG_KY") is not None else None,
                       qty(g("HS_KY_TRUOC"), "hồ sơ từ kỳ trước") if g("HS_KY_TRUOC") is not None else None], ", ")
        out.append(f"Tổng số hồ sơ tiếp nhận là {qty(g('HS_TIEP_NHAN'), 'hồ sơ')}"
                   + (f", trong đó: {parts}." if parts else "."))
    online = percent(sub, "TL_HS_TRUC_TUYEN", form)
    if g("HS_TRUC_TUYEN") is not None and g("HS_TRONG_KY"):
        s = (f"Hồ sơ tiếp nhận trực tuyến trên tổng hồ sơ tiếp nhận trong kỳ là {num(g('HS_TRUC_TUYEN'))}/"
             f"{num(g('HS_TRONG_KY'))} hồ sơ, đạt {online}")
        extra = _join([f"hồ sơ trực tiếp {qty(g('HS_TRUC_TIEP'), 'hồ sơ')}" if g("HS_TRUC_TIEP") is not None else None,
                       f"hồ sơ qua dịch vụ bưu chính công ích {qty(g('HS_BUU_CHINH'), 'hồ sơ')}"
                       if g("HS_BUU_CHINH") is not None else None])
        out.append(s + (f"; {extra}." if extra else "."))
    elif online:
        out.append(f"Tỷ lệ hồ sơ nộp trực tuyến đạt {online}.")
    if g("HS_DA_GQ") is not None:
        parts = []
        on_time = _value(sub, "HS_TRUOC_DUNG_HAN")
        rate = percent(sub, "TL_HS_DUNG_HAN", form)
        if g("HS_TRUOC_DUNG_HAN") is not None:
            parts.append(f"{qty(on_time, 'hồ sơ')} được giải quyết trước hạn và đúng hạn")
        elif on_time is not None:
            parts.append(_join([f"{qty(g('HS_TRUOC_HAN'), 'hồ sơ')} giải quyết trước hạn"
                                if g("HS_TRUOC_HAN") is not None else None,
                                f"{qty(g('HS_DUNG_HAN'), 'hồ sơ')} giải quyết đúng hạn"
                                if g("HS_DUNG_HAN") is not None else None], ", "))
        if parts and rate:
            parts[-1] += f", đạt tỷ lệ {rate}"
        if g("HS_QUA_HAN") is not None:
            rows = sub.lists.get("ho_so_qua_han", [])
            detail = "; ".join(
                f"{qty(r.get('so_ho_so'), 'hồ sơ')} lĩnh vực {_lower_first(r.get('linh_vuc') or '')}"
                + (f" ({r.get('nguyen_nhan')})" if r.get("nguyen_nhan") else "")
                for r in rows if r.get("so_ho_so"))
            parts.append("không có hồ sơ quá hạn" if g("HS_QUA_HAN") == 0 else
                         f"{qty(g('HS_QUA_HAN'), 'hồ sơ')} quá hạn" + (f" (gồm: {detail})" if detail else ""))
        if g("HS_TU_CHOI") is not None:
            parts.append(f"{qty(g('HS_TU_CHOI'), 'hồ sơ')} từ chối, không giải quyết (có lý do)")
        if g("HS_RUT") is not None:
            parts.append(f"{qty(g('HS_RUT'), 'hồ sơ')} rút")
        out.append(f"Tổng số hồ sơ đã giải quyết là {qty(g('HS_DA_GQ'), 'hồ sơ')}"
                   + (f", trong đó: {'; '.join(parts)}." if parts else "."))
    if g("HS_DANG_GQ") is not None:
        named = [(g("HS_DANG_TRONG_HAN"), "trong hạn"), (g("HS_DANG_QUA_HAN"), "quá hạn"),
                 (g("HS_CHO_BO_SUNG"), "chờ bổ sung")]
        named = [(v, label) for v, label in named if v]
        s = f"Số lượng hồ sơ đang giải quyết là {qty(g('HS_DANG_GQ'), 'hồ sơ')}"
        if len(named) == 1 and named[0][0] == g("HS_DANG_GQ"):
            s += f" ({named[0][1]})"
        elif named:
            s += ", trong đó: " + "; ".join(f"{qty(v, 'hồ sơ')} {label}" for v, label in named)
        out.append(s + ".")
    if g("HS_PHI_DIA_GIOI") is not None:
        out.append("Chưa phát sinh hồ sơ tiếp nhận không phụ thuộc địa giới hành chính." if g("HS_PHI_DIA_GIOI") == 0
                   else f"Tiếp nhận {qty(g('HS_PHI_DIA_GIOI'), 'hồ sơ')} không phụ thuộc địa giới hành chính.")
    if g("PAKN_NHAN") is not None:
        if g("PAKN_NHAN") == 0:
            out.append("Không tiếp nhận phản ánh, kiến nghị nào về quy định thủ tục hành chính.")
        else:
            s = f"Tiếp nhận {qty(g('PAKN_NHAN'), 'phản ánh, kiến nghị')} về quy định thủ tục hành chính"
            if g("PAKN_DA_XU_LY") is not None:
                s += f", đã xử lý {qty(g('PAKN_DA_XU_LY'), 'phản ánh, kiến nghị')}"
            out.append(s + ".")
    if g("TL_HAI_LONG") is not None:
        out.append(f"Tỷ lệ người dân, tổ chức hài lòng đạt {fmt_percent(g('TL_HAI_LONG'))}.")
    digital = _items(sub, form, ("HS_SO_HOA", "HS_KQ_DIEN_TU", "HS_TAI_SU_DUNG"))
    if digital:
        out.append("Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính: " + "; ".join(_lower_first(x[:-1]) for x in digital)
                   + ".")
    return out


def _staff(sub: Submission) -> list[str]:
    g, out = sub.get, []
    for given, present, who in (("CC_BIEN_CHE", "CC_CO_MAT", "công chức"), ("VC_BIEN_CHE", "VC_CO_MAT", "viên chức")):
        parts = []
        if g(given) is not None:
            parts.append(f"tổng số biên chế {who} được giao trong năm: {qty(g(given), 'người')}")
        if g(present) is not None:
            parts.append(f"số {who} có mặt đến thời điểm báo cáo: {qty(g(present), 'người')}")
        if parts:
            out.append(_join(parts)[0].upper() + _join(parts)[1:] + ".")
    if g("HD_LAO_DONG") is not None:
        out.append(f"Hợp đồng lao động: {qty(g('HD_LAO_DONG'), 'người')}.")
    if g("CV_TINH_GIAN") is not None:
        out.append("Số biên chế đã tinh giản trong kỳ báo cáo: "
                   + ("Không." if g("CV_TINH_GIAN") == 0 else f"{qty(g('CV_TINH_GIAN'), 'người')}."))
    return out


def _finance(sub: Submission, form: Form, ky: dict) -> list[str]:
    g, out = sub.get, []
    for done, plan, rate, what in (("NS_THU_TH", "NS_THU_KH", "TL_THU_NS", f"Kết quả thu ngân sách nhà nước {ky['ten']}"),
                                   ("DTC_GN_TH", "DTC_GN_KH", "TL_GIAI_NGAN", "Kết quả giải ngân vốn đầu tư công")):
        if g(done) is None:
            continue
        s = f"{what}: {fmt_money(g(done))}"
        p = percent(sub, rate, form)
        if p and g(plan):
            s += f" bằng {p} so với kế hoạch {fmt_money(g(plan))}"
        elif g(plan):
            s += f"; kế hoạch {fmt_money(g(plan))}"
        out.append(s + ".")
    if g("DVSN_TU_CHU") is not None:
        out.append(f"Có {qty(g('DVSN_TU_CHU'), 'đơn vị sự nghiệp')} được giao quyền tự chủ tài chính.")
    if g("DVSN_NN_BAO_DAM") is not None:
        out.append(f"Có {qty(g('DVSN_NN_BAO_DAM'), 'đơn vị sự nghiệp công lập')} do Nhà nước bảo đảm chi thường xuyên.")
    return out


def _digital(sub: Submission, form: Form) -> dict[str, list[str]]:
    g = sub.get
    gov, econ, society, infra, safety = [], [], [], [], []
    if g("DVC_TOAN_TRINH") is not None or g("DVC_MOT_PHAN") is not None:
        parts = _join([f"dịch vụ công trực tuyến toàn trình là {qty(g('DVC_TOAN_TRINH'), 'thủ tục')}"
                       if g("DVC_TOAN_TRINH") is not None else None,
                       f"dịch vụ công trực tuyến một phần là {qty(g('DVC_MOT_PHAN'), 'thủ tục')}"
                       if g("DVC_MOT_PHAN") is not None else None], ", ")
        gov.append(f"Số {parts}." if g("TTHC_TONG") is None else
                   f"Tổng số TTHC thuộc thẩm quyền giải quyết là {qty(g('TTHC_TONG'), 'thủ tục')}, trong đó: {parts}.")
    if g("DVC_PHAT_SINH") is not None:
        p = percent(sub, "TL_DVC_PHAT_SINH", form)
        gov.append(f"Số dịch vụ công trực tuyến có phát sinh hồ sơ là {qty(g('DVC_PHAT_SINH'), 'thủ tục')}"
                   + (f", đạt tỷ lệ {p}." if p else "."))
    if g("HS_DVCTT_TONG") is not None:
        gov.append(f"Tổng hồ sơ dịch vụ công trực tuyến tiếp nhận là {qty(g('HS_DVCTT_TONG'), 'hồ sơ')}.")
    for total, online, rate, what in (("HS_TOAN_TRINH", "HS_TOAN_TRINH_TT", "TL_TOAN_TRINH_TT", "toàn trình"),
                                      ("HS_MOT_PHAN", "HS_MOT_PHAN_TT", "TL_MOT_PHAN_TT", "một phần")):
        if g(total) is None:
            continue
        s = f"Tổng số hồ sơ của dịch vụ công trực tuyến {what} là {qty(g(total), 'hồ sơ')}"
        if g(online) is not None:
            s += f", trong đó nộp trực tuyến {qty(g(online), 'hồ sơ')}"
        p = percent(sub, rate, form)
        gov.append(s + (f", đạt tỷ lệ {p}." if p else "."))
    if g("TL_KY_SO") is not None:
        gov.append(f"Tỷ lệ văn bản đi được ký số đạt {fmt_percent(g('TL_KY_SO'))}.")
    if g("TTHC_NVTC") is not None:
        s = f"Tổng số TTHC có yêu cầu nghĩa vụ tài chính là {qty(g('TTHC_NVTC'), 'thủ tục')}"
        if g("TTHC_TICH_HOP_TT") is not None:
            s += f"; số TTHC đã được tích hợp, triển khai thanh toán trực tuyến là {qty(g('TTHC_TICH_HOP_TT'), 'thủ tục')}"
            p = percent(sub, "TL_TICH_HOP_TT", form)
            s += f", đạt tỷ lệ {p}" if p else ""
        if g("TTHC_PHAT_SINH_PHI") is not None:
            s += f"; số TTHC đã phát sinh phí, lệ phí là {qty(g('TTHC_PHAT_SINH_PHI'), 'thủ tục')}"
        econ.append(s + ".")
    pay = percent(sub, "TL_THANH_TOAN_TT", form)
    if g("HS_CO_PHI") is not None or pay:
        s = _join([f"Số hồ sơ TTHC có phát sinh phí, lệ phí là {qty(g('HS_CO_PHI'), 'hồ sơ')}"
                   if g("HS_CO_PHI") is not None else None,
                   f"số hồ sơ thanh toán trực tuyến là {qty(g('HS_THANH_TOAN_TT'), 'hồ sơ')}"
                   if g("HS_THANH_TOAN_TT") is not None else None,
                   f"tỷ lệ thanh toán trực tuyến đạt {pay}" if pay else None])
        econ.append(s[0].upper() + s[1:] + ".")
    if g("TL_CQ_INTERNET") is not None:
        infra.append(f"Tỷ lệ cơ quan, đơn vị có Internet băng rộng đạt {fmt_percent(g('TL_CQ_INTERNET'))}.")
    if g("TO_CNS") is not None:
        society.append(f"Trên địa bàn có {qty(g('TO_CNS'), 'tổ công nghệ số cộng đồng')}.")
    if g("CNS_TAP_HUAN") is not None:
        society.append(f"Tổ chức {qty(g('CNS_TAP_HUAN'), 'buổi')} tập huấn, hướng dẫn kỹ năng số cho người dân.")
    for count, base, rate, what, unit in (("VNEID_TAI_KHOAN", "DAN_SO", "TL_VNEID",
                                           "Số tài khoản định danh điện tử VNeID được kích hoạt", "tài khoản"),
                                          ("HO_HP_SMART", "HO_TONG", "TL_HP_SMART",
                                           "Số hộ gia đình cài đặt ứng dụng Hải Phòng Smart", "hộ")):
        p = percent(sub, rate, form)
        if g(count) is not None:
            society.append(f"{what} là {qty(g(count), unit)}" + (f", đạt tỷ lệ {p}." if p else "."))
        elif p:
            society.append(f"{what.replace('Số ', 'Tỷ lệ ', 1)} đạt {p}.")
    if g("SU_CO_ATTT") is not None:
        safety.append("Trong kỳ không phát sinh sự cố an toàn, an ninh thông tin mạng." if g("SU_CO_ATTT") == 0 else
                      f"Trong kỳ phát sinh {qty(g('SU_CO_ATTT'), 'sự cố')} an toàn, an ninh thông tin mạng.")
    return {"chinh_quyen_so": gov, "kinh_te_so": econ, "xa_hoi_so": society, "ha_tang_so": infra, "attt": safety,
            "tat_ca": gov + econ + infra + society + safety}


def _direction(sub: Submission, form: Form) -> list[str]:
    g, out = sub.get, []
    vb = _items(sub, form, ("VB_QD", "VB_KH", "VB_CV", "VB_TB", "VB_TTR", "VB_KHAC"))
    if g("VB_TONG") is not None:
        out.append(f"Trong kỳ đã ban hành {qty(g('VB_TONG'), 'văn bản')} chỉ đạo, điều hành về cải cách hành chính"
                   + (" (gồm: " + "; ".join(_lower_first(x[:-1]).replace(": ", " ") for x in vb) + ")." if vb else "."))
    for total, prefix, parts in (
            ("KH_NV_TONG", "Kế hoạch cải cách hành chính năm có",
             (("KH_NV_HOAN_THANH", "đã hoàn thành"), ("KH_NV_THUONG_XUYEN", "thực hiện thường xuyên"),
              ("KH_NV_DANG_TH", "đang thực hiện"), ("KH_NV_CHUA_DEN_HAN", "chưa đến hạn"),
              ("KH_NV_QUA_HAN", "quá hạn chưa hoàn thành"))),
            ("NV_TP_TONG", "Ủy ban nhân dân thành phố, Chủ tịch Ủy ban nhân dân thành phố giao",
             (("NV_TP_HT_DUNG_HAN", "hoàn thành đúng hạn"), ("NV_TP_HT_QUA_HAN", "hoàn thành quá hạn"),
              ("NV_TP_DANG_TH", "đang thực hiện trong hạn"), ("NV_TP_QUA_HAN", "quá hạn chưa hoàn thành")))):
        if g(total) is None:
            continue
        detail = "; ".join(f"{qty(g(c), 'nhiệm vụ')} {label}" for c, label in parts if g(c) is not None)
        out.append(f"{prefix} {qty(g(total), 'nhiệm vụ')}" + (f", trong đó: {detail}." if detail else "."))
    return out


def unit_context(sub: Submission, form: Form | None = None) -> dict[str, Any]:
    """Everything a unit report template may use (documented in templates/README.md)."""
    form = form or load_form()
    unit = unit_names(sub.unit_name)
    ky = period(sub)
    place = sub.get("DIA_DANH") or unit["ten_rieng"]
    start, end = sub.window
    docs = sub.lists.get("van_ban", [])
    groups = {c.code: [r for r in docs if r.get("nhom") == c.label] for c in form.choices["nhom_noi_dung"]}
    texts = {c.code: sub.texts(c.code) for c in form.choices["muc_noi_dung"]}
    cqtt_rows = sub.lists.get("cqtt", [])
    digital = _digital(sub, form)
    return {
        "don_vi": unit,
        "co_quan_chu_quan": "ỦY BAN NHÂN DÂN",
        "co_quan": unit["ten_hoa"],
        "so_ky_hieu": report_number(sub.get("SO_BAO_CAO"), "BC-UBND"),
        "dia_danh_ngay": dateline(place, sub.get("NGAY_BAO_CAO"), end.year if end else sub.year),
        "ky": ky,
        "ky_ky": signature(sub, form),
        "nguoi_ky": sub.get("NGUOI_KY") or "",
        "noi_nhan": recipients(sub.get("NOI_NHAN")),
        "nd": texts,
        "vb": {code: document_sentences(rows, unit) for code, rows in groups.items()},
        "vb_ds": {code: [citation(r, unit["ubnd"]) for r in rows] for code, rows in groups.items()},
        "cau": {
            "chi_dao": _direction(sub, form),
            "tuyen_truyen": _items(sub, form, ("TT_TIN_CONG_TTDT", "TT_TIN_PHAT_THANH", "TT_TIN_MXH", "TT_TO_ROI",
                                               "TT_LUOT_TIEP_CAN", "TT_PANO", "TT_HOI_NGHI")),
            "kiem_tra": _items(sub, form, ("KT_CUOC", "KT_LUOT", "KT_DON_VI")),
            "the_che": _items(sub, form, ("TC_VBQPPL", "TC_VB_KIEM_TRA", "TC_VB_RA_SOAT", "TC_SAI_SOT")),
            "tthc": _tthc(sub, form),
            "bo_may": _items(sub, form, ("BM_PHONG_CM", "BM_DVSN", "BM_TRUONG_CL", "BM_NHAN_LUC_YTE", "BM_THON_TDP")),
            "bien_che": _staff(sub),
            "cong_vu": _items(sub, form, ("CV_TUYEN_DUNG", "CV_TIEP_NHAN", "CV_BO_NHIEM", "CV_DIEU_DONG",
                                          "CV_KY_LUAT", "CV_LOP_BOI_DUONG", "CV_LUOT_DI_HOC", "CV_KIEM_TRA")),
            "tai_chinh": _finance(sub, form, ky),
            **digital,
            "hai_cap": _two_tier(sub),
        },
        "tthc_thoi_gian": (f"Kết quả giải quyết thủ tục hành chính từ ngày {fmt_date(start)} đến hết ngày "
                           f"{fmt_date(end)}:" if start and end else "Kết quả giải quyết thủ tục hành chính:"),
        "cqtt": _cqtt(cqtt_rows, form),
    }


def _two_tier(sub: Submission) -> list[str]:
    """Seed 002's staffing and structure lines, from the same counts as the CCHC report."""
    g, out = sub.get, []
    if g("CC_CO_MAT") is not None:
        out.append(f"Tổng số công chức hiện có: {qty(g('CC_CO_MAT'), 'người')}.")
    if g("CC_BIEN_CHE") is not None:
        out.append(f"Biên chế công chức được giao năm {sub.year}: {qty(g('CC_BIEN_CHE'), 'biên chế')}.")
        if g("CC_CO_MAT") is not None and g("CC_BIEN_CHE") > g("CC_CO_MAT"):
            out.append(f"Hiện còn thiếu {qty(g('CC_BIEN_CHE') - g('CC_CO_MAT'), 'biên chế')} so với chỉ tiêu được giao.")
    if g("BM_PHONG_CM") is not None:
        names = sub.notes.get("BM_PHONG_CM")
        out.append(f"Tổ chức bộ máy gồm {qty(g('BM_PHONG_CM'), 'phòng chuyên môn')}" + (f" ({names})." if names else "."))
    if g("BM_NHAN_LUC_YTE") is not None:
        out.append(f"Trạm Y tế có tổng số {qty(g('BM_NHAN_LUC_YTE'), 'nhân lực y tế')}.")
    if g("BM_TRUONG_CL") is not None:
        out.append(f"Duy trì hoạt động ổn định của {qty(g('BM_TRUONG_CL'), 'cơ sở giáo dục công lập')} trên địa bàn.")
    return out


def _score(x: Any) -> str:
    return "" if x is None else num(x)


def _cqtt(rows: list, form: Form) -> dict[str, Any]:
    """Criteria with points, self-scores when typed, and the unmet sub-criteria of seed 004's table."""
    unmet = [r for r in rows
             if (r.get("diem_tu_cham") is not None and r.get("diem_toi_da") is not None
                 and r.get("diem_tu_cham") < r.get("diem_toi_da"))
             or (r.get("diem_tu_cham") is None and r.get("ly_do"))]
    criteria = []
    for c in form.cqtt_criteria:
        mine = [r for r in rows if r.get("tieu_chi") == c.label]
        scored = [r.get("diem_tu_cham") for r in mine if r.get("diem_tu_cham") is not None]
        criteria.append({"ten": c.label, "diem_toi_da": num(c.extra["max"]), "ma": c.code,
                         "diem_tu_cham": _score(sum(scored)) if scored and len(scored) == len(mine) else ""})
    scores = [r.get("diem_tu_cham") for r in rows]
    total = sum(scores) if rows and all(s is not None for s in scores) else None
    level = next((lv for lv in form.cqtt_levels if total is not None and lv["min"] <= total < lv.get("below", 101)), None)
    return {
        "tieu_chi": criteria,
        "tong_diem_toi_da": num(sum(c.extra["max"] for c in form.cqtt_criteria)),
        "tong_diem_tu_cham": _score(total),
        "muc_dat": (f"{level['label']} (đạt từ {num(level['min'])} đến dưới {num(level['below'])} điểm)"
                    if level else ""),
        "chua_dat": [{"stt": i, "tieu_chi_thanh_phan": r.get("tieu_chi_thanh_phan") or "",
                      "diem_toi_da": _score(r.get("diem_toi_da")), "diem_tu_cham": _score(r.get("diem_tu_cham")),
                      "don_vi_chu_tri": r.get("don_vi_chu_tri") or "", "ly_do": r.get("ly_do") or ""}
                     for i, r in enumerate(unmet, start=1)],
        "da_cham": bool(rows),
    }
