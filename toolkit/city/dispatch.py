"""The city's reminder dispatch (`bao-cao --loai don-doc`): a công văn đôn đốc, a writer of a `Consolidation`.

It chases, from the same consolidation as the city report, the units not in yet (days overdue), those whose
file or Nộp was refused for its errors (how many), and those with anomalies held out and not yet explained in
the workbook's «Giải trình» column (which figure, why: one the unit explained waits for the city officer's
acceptance, not for the unit); it states the period's deadline and the new one, and is addressed to exactly those units.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from toolkit.city.consolidation import ST_ERRORS, ST_MISSING, Consolidation
from toolkit.city.report import _authority, _why
from toolkit.errors import BaocaoError
from toolkit.reports import dateline, lower_first, num, period_names, recipients, report_number
from toolkit.vnformat import city_date, fmt_date, period_year

NOBODY = "Không có đơn vị nào cần đôn đốc: mọi đơn vị đã gửi phiếu không có lỗi, không có số liệu bất thường " \
         "chưa giải trình."


@dataclass
class Chase:
    """Who the dispatch names, each list in the order it is read (most overdue first)."""
    missing: list[str] = field(default_factory=list)  # sentences' items: "Xã A (quá hạn 05 ngày)"
    refused: list[str] = field(default_factory=list)  # "Phường B (phiếu còn 03 lỗi)"
    anomalies: list[str] = field(default_factory=list)  # "Xã C – số hồ sơ tiếp nhận: …"
    units: list[str] = field(default_factory=list)  # every unit named, once, in that order

    def __bool__(self) -> bool:
        return bool(self.units)


def chase(res: Consolidation, tried: dict[str, tuple[datetime, int, int]] | None = None) -> Chase:
    """The units to chase. `tried`: the store's refused Nộp attempts (unit -> (time, errors, warnings)); a unit
    not in yet that pressed Nộp is chased for its errors, not as silent."""
    tried = tried or {}
    out = Chase()

    def name(r) -> None:
        if r.unit.name not in out.units:
            out.units.append(r.unit.name)

    missing = sorted((r for r in res.rows if r.status == ST_MISSING), key=lambda r: (-r.days_late, r.unit.code))
    for r in missing:
        if r.unit.code in tried:
            at, errors, _ = tried[r.unit.code]
            out.refused.append(f"{r.unit.name} (bấm Nộp ngày {fmt_date(city_date(at))}, phiếu còn {num(errors)} lỗi"
                               + (f", quá hạn {num(r.days_late)} ngày" if r.days_late else "") + ")")
        else:
            out.missing.append(f"{r.unit.name} (quá hạn {num(r.days_late)} ngày)" if r.days_late else r.unit.name)
    for r in missing:
        if r.unit.code not in tried:
            name(r)
    for r in missing:
        if r.unit.code in tried:
            name(r)
    for r in sorted((r for r in res.rows if r.status == ST_ERRORS), key=lambda r: (-r.errors, r.unit.code)):
        out.refused.append(f"{r.unit.name} (phiếu còn {num(r.errors)} lỗi)")
        name(r)
    counted = {r.unit.code: r for r in res.rows if r.counted}
    settled = {(a.unit, a.code) for a, _ in res.settled}
    for a in res.anomalies:  # an explained one waits for the city officer, not for the unit: not chased
        if a.unit in counted and (a.unit, a.code) not in settled and not a.explanation:
            out.anomalies.append(f"{a.unit_name} – {lower_first(a.label)}: {_why(a)}")
            name(counted[a.unit])
    return out


def new_deadline(res: Consolidation, given: date | None) -> date:
    """The new date: `given` (--han-moi), else the city's today + deadline_days; never today or before."""
    today = res.today
    due = given or today + timedelta(days=res.form.deadline_days)
    if due <= today:
        raise BaocaoError(f"hạn mới {fmt_date(due)} phải sau hôm nay ({fmt_date(today)})")
    return due


def body(res: Consolidation, who: Chase, due: date) -> list[str]:
    """The dispatch's paragraphs: the deadline, then each group, then what is asked by when."""
    ky = period_year(res.period, res.year).lower()
    when = f"ngày {fmt_date(res.deadline)}" if res.deadline else "thời hạn quy định"
    out = [f"Thực hiện chế độ báo cáo định kỳ về công tác cải cách hành chính, hạn gửi phiếu số liệu {ky} là "
           f"{when}. Đến ngày {fmt_date(res.today)}, {num(res.received)}/{num(res.expected)} đơn vị đã gửi phiếu; "
           f"còn {num(len(who.units))} đơn vị dưới đây chưa hoàn thành:"]
    i = 0
    for head, items in (("Chưa gửi phiếu số liệu", who.missing),
                        ("Đã gửi nhưng phiếu còn lỗi, chưa được tiếp nhận", who.refused),
                        ("Có số liệu bất thường cần giải trình", who.anomalies)):
        if items:
            i += 1
            out.append(f"{i}. {head} ({num(len(items))} "
                       f"{'số liệu' if items is who.anomalies else 'đơn vị'}): " + "; ".join(items) + ".")
    out.append(f"Sở Nội vụ đề nghị Ủy ban nhân dân các đơn vị nêu trên khẩn trương gửi phiếu số liệu, sửa các lỗi "
               f"và gửi lại, giải trình các số liệu bất thường (ghi lý do ở cột “Giải trình” cùng dòng của số liệu "
               f"trong phiếu rồi gửi lại phiếu) hoặc sửa số liệu nếu nhầm trước ngày "
               f"{fmt_date(due)}. Quá thời hạn này, Sở Nội vụ sẽ tổng hợp, báo cáo Ủy ban nhân dân thành phố các "
               f"đơn vị chưa thực hiện; số liệu có lỗi hoặc bất thường chưa được xác minh không được tổng hợp.")
    return out


def dispatch_context(res: Consolidation, who: Chase, due: date, signed: date | None = None) -> dict[str, Any]:
    """The dispatch's template variables (templates/README.md)."""
    conf = res.form.city_report
    parent, place = _authority(res)
    units = [f"UBND {lower_first(n)}" for n in who.units]
    many = len(units) > 6  # a long address list goes to Nơi nhận only, as công văn write it
    return {
        "co_quan_chu_quan": parent,
        "co_quan": conf.get("issuer", ""),
        "so_ky_hieu": report_number(None, conf.get("dispatch_symbol", "SNV-CCHC")),
        "trich_yeu": f"V/v đôn đốc gửi báo cáo cải cách hành chính {period_names(res.period, res.year)['ten']}",
        "dia_danh_ngay": dateline(place, signed, res.year),
        "kinh_gui": (["Ủy ban nhân dân các xã, phường, đặc khu có tên tại Nơi nhận"] if many
                     else [f"Ủy ban nhân dân {lower_first(n)}" for n in who.units]),
        "noi_dung": body(res, who, due),
        "han": fmt_date(res.deadline) if res.deadline else "",
        "han_moi": fmt_date(due),
        "ky_ky": list(conf.get("signature", [])),
        "nguoi_ky": conf.get("signer") or "",
        "noi_nhan": recipients("\n".join([*units, "Lưu: VT, CCHC"])),
        "du_thao": False,
    }


def render_dispatch(res: Consolidation, out: Path | str, due: date | None = None,
                    tried: dict[str, tuple[datetime, int, int]] | None = None, pdf: bool = False,
                    signed: date | None = None) -> list[Path]:
    """Write the dispatch (and its PDF when asked); refused (BaocaoError NOBODY) when nobody is to be chased."""
    from toolkit.reports import CompiledTemplate, report_type, template_path, to_pdf

    who = chase(res, tried)
    if not who:
        raise BaocaoError(NOBODY)
    ctx = dispatch_context(res, who, new_deadline(res, due), signed)
    out = Path(out)
    written = [CompiledTemplate(template_path(report_type("don-doc").template)).render(ctx, out)]
    if pdf:
        written += to_pdf(written, out.parent)
    return written
