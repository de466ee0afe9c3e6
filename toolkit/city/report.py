"""The city report (`bao-cao --loai tong-hop`): a writer of a `Consolidation`, like the city workbook.

It goes through the same consolidation as `tong-hop`, so it covers the same units and
the same period, and every number it prints is one the city workbook shows: the
totals of `Consolidation.totals`, the bases of its ratios, each unit's own figures, the
ranks of `Consolidation.ranks`. Section I says who sent, who still owes it (days overdue) and how
their files and anomalies count; section II follows the outline of a unit CCHC report (definition/sentences.yaml
› thanh_pho); section III is the table of units; sections IV to VI (Đánh giá chung, Nhiệm vụ trọng tâm kỳ tới,
Kiến nghị, đề xuất) are the city officer's paragraphs from tong_hop.xlsm. Its chart shows the CHART_UNITS highest
and lowest units on an axis that starts near the lowest value, half a page high.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from toolkit.city.consolidation import COUNT_RULE, HOLD_RULE, ST_MISSING, Consolidation
from toolkit.city.content import CityBook, require_content
from toolkit.city.sentences import city_sections, names, pct
from toolkit.city.workbook import CHART_UNITS, axis_floor
from toolkit.reports import dateline, lower_first, num, period_names, recipients, report_number
from toolkit.vnformat import fmt_date, fmt_number, fmt_percent, period_year, round_half_up

RATE, ONLINE = "TL_HS_DUNG_HAN", "TL_HS_TRUC_TUYEN"
NO_SIGNER_NOTE = ("Chưa có họ tên người ký (form.yaml › city_report › signer): dòng họ tên trong báo cáo để trống "
                  "để người ký ghi tay.")


def _cell_rate(x: Any) -> str:
    """A rate in the table: always two decimals ("100,00", "99,20"); the header says "%"."""
    return f"{round_half_up(x, 2):.2f}".replace(".", ",") if isinstance(x, (int, float)) else ""


def _cell_count(x: Any) -> str:
    """A count in the table: "5.892", "3"."""
    return fmt_number(x) if isinstance(x, (int, float)) else ""


def _authority(res: Consolidation) -> tuple[str, str]:
    """("UBND THÀNH PHỐ HẢI PHÒNG", "Hải Phòng") from the province the form names.

    The parent body is written short, as departments' letterheads do, so that it fits one line."""
    name = res.form.province
    place = name.removeprefix("Thành phố ")
    full = name if name.startswith("Thành phố") else f"Tỉnh {name}"
    return f"UBND {full.upper()}", place


def submission(res: Consolidation) -> list[str]:
    """Section I: who sent on time, late (with days), not yet (with the days overdue, first), with errors (said
    to be left out, with the rule), the anomalies held out until settled (one paragraph), and how files of
    other periods were used. Every count with its unit; no spreadsheet words: the report goes to UBND."""
    ky = period_year(res.period, res.year).lower()
    missing = sorted((r for r in res.rows if r.status == ST_MISSING), key=lambda r: (-r.days_late, r.unit.code))
    due = f" Hạn gửi phiếu là ngày {fmt_date(res.deadline)}." if res.deadline else ""
    out = [f"Có {num(res.received)}/{num(res.expected)} đơn vị gửi phiếu số liệu (đạt {pct(res.received_rate)}); "
           f"{num(len(missing))} đơn vị chưa gửi.{due}"]
    if missing:
        overdue = [r for r in missing if r.days_late]
        when = f" (tính đến ngày {fmt_date(res.today)})" if res.today and overdue else ""
        out.append(f"Các đơn vị chưa gửi{when}: " + ", ".join(
            f"{r.unit.name} (quá hạn {num(r.days_late)} ngày)" if r.days_late else r.unit.name for r in missing) + ".")
    late = sorted((r for r in res.rows if r.late), key=lambda r: (-r.days_late, r.unit.code))
    if late:
        on_time = f"Có {num(res.on_time)} đơn vị" if res.on_time else "Không có đơn vị nào"
        out.append(f"{on_time} gửi đúng hạn; {num(len(late))} đơn vị gửi muộn: "
                   + ", ".join(f"{r.unit.name} ({num(r.days_late)} ngày)" for r in late) + ".")
    elif res.received:
        out.append("Các đơn vị đã gửi đều gửi đúng hạn.")
    wrong = [r for r in res.rows if r.status != ST_MISSING and not r.counted]
    if wrong:
        out.append(f"Có {num(len(wrong))} đơn vị gửi phiếu còn lỗi, số liệu không được tổng hợp: "
                   + ", ".join(f"{r.unit.name} ({num(r.errors)} lỗi)" for r in wrong) + ". " + COUNT_RULE
                   + (f" Số liệu chung tại mục II được tổng hợp từ phiếu của {num(res.counted)} đơn vị không có lỗi."
                      if res.counted else " Chưa có đơn vị nào có số liệu được tổng hợp."))
    held = anomaly_paragraph(res)
    if held:
        out.append(held)
    rolled_rows = [r for r in res.rows if r.rolled_from and r.counted]  # a unit left out is said to be, no more
    if rolled_rows:
        parts = ", ".join(lower_first(res.form.period(p).label) for p in res.form.period(res.period).rollup)
        out.append(f"Số liệu {ky} của {names(rolled_rows)} được cộng dồn từ các phiếu {parts} của đơn vị "
                   "(đơn vị không gửi phiếu riêng cho kỳ này).")
    _, unused = res.other_period()
    if unused:
        out.append(f"{num(len(unused))} tệp thuộc kỳ khác không được cộng vào số liệu {ky} "
                   "(danh sách tại sổ tổng hợp, phần “Tình hình nộp”).")
    other = [f for f, why in res.left_out if f not in unused]
    if other:
        out.append(f"{num(len(other))} tệp không đọc được hoặc không thuộc đơn vị nào trong danh sách, không được "
                   "cộng (danh sách tại sổ tổng hợp, phần “Tình hình nộp”).")
    return out


def anomaly_paragraph(res: Consolidation) -> str:
    """One paragraph: the figures held out until settled, unit by unit and why (HOLD_RULE), and those the city
    accepted; empty when there is no anomaly among the units counted."""
    counted = {r.unit.code for r in res.rows if r.counted}
    settled = {(a.unit, a.code) for a, _ in res.settled}
    held = [a for a in res.anomalies if a.unit in counted and (a.unit, a.code) not in settled]
    accepted = [(a, who) for a, who in res.settled if a.unit in counted]
    if not held and not accepted:
        return ""
    text = ""
    if held:
        units = {a.unit for a in held}
        items = "; ".join(f"{a.unit_name} – {lower_first(a.label)}: {_why(a)}" + _explained(a) for a in held)
        text = (f"Có {num(len(held))} số liệu bất thường của {num(len(units))} đơn vị (đúng các phép kiểm tra nhưng "
                f"khác xa các kỳ trước, các đơn vị cùng loại hoặc các số liệu liên quan) chưa được xác minh: {items}. "
                f"{HOLD_RULE}")
    if accepted:
        text += (" " if text else "") + "Số liệu bất thường đã được xác minh, chấp nhận và tổng hợp như số liệu " \
            "khác: " + "; ".join(f"{a.unit_name} – {lower_first(a.label)} ({who})" for a, who in accepted) + "."
    return text


def _explained(a) -> str:
    """What the unit said of a figure still held, as the report quotes it (not yet accepted: no more than that)."""
    return f" (đơn vị giải trình: “{a.explanation}”, Sở Nội vụ đang xác minh)" if a.explanation else ""


def _why(a) -> str:
    """An anomaly's reason as prose: without the sheet's own "Bất thường:" lead."""
    why = a.why.removeprefix("Bất thường: ").removeprefix("Bất thường:").strip()
    return why.replace("«", "“").replace("»", "”")


def unit_table(res: Consolidation) -> list[dict[str, Any]]:
    """Every unit that sent, by rank (ties share a rank), the units that cannot be ranked last with "-"."""
    ranks = res.ranks(RATE)
    sent = sorted((r for r in res.rows if r.status != ST_MISSING),
                  key=lambda r: (ranks.get(r.unit.code) is None, ranks.get(r.unit.code, 0), r.unit.code))
    return [{"stt": i, "ten": r.unit.name, "ma": r.unit.code, "tiep_nhan": _cell_count(r.value("HS_TIEP_NHAN")),
             "da_giai_quyet": _cell_count(r.value("HS_DA_GQ")), "dung_han": _cell_rate(r.value(RATE)),
             "truc_tuyen": _cell_rate(r.value(ONLINE)), "loi": _cell_count(r.errors),
             "hang": _cell_count(ranks.get(r.unit.code)) or "-"}
            for i, r in enumerate(sent, start=1)]


def city_context(res: Consolidation, signed: date | None = None, book: CityBook | None = None,
                 draft: bool = False) -> dict[str, Any]:
    """The city report's template variables (templates/README.md) from one consolidation and the city officer's
    paragraphs (`book`, sheet «Nội dung» of tong_hop.xlsm)."""
    conf = res.form.city_report
    book = book or CityBook()
    parent, place = _authority(res)
    return {
        "co_quan_chu_quan": parent,
        "co_quan": conf.get("issuer", ""),
        "co_quan_ten": conf.get("issuer_name", conf.get("issuer", "")),
        "so_ky_hieu": report_number(None, conf.get("symbol", "BC")),
        "dia_danh_ngay": dateline(place, signed, res.year),
        "ky": period_names(res.period, res.year),
        "ky_ky": list(conf.get("signature", [])),
        "nguoi_ky": conf.get("signer") or "",
        "noi_nhan": recipients("\n".join(conf.get("recipients", []))),
        "nop": submission(res),
        "muc": city_sections(res),
        "don_vi_bang": unit_table(res),
        "loai_bao_cao": "Báo cáo tổng hợp của thành phố (tất cả đơn vị)",
        "dong_phu": [],
        "noi_dung": {c["code"]: [x.replace("«", "“").replace("»", "”") for x in book.paragraphs.get(c["code"], [])]
                     for c in conf.get("content", [])},
        "du_thao": draft,
        "phu_luc": [],
    }


def chart_png(res: Consolidation, code: str = RATE) -> bytes | None:
    """The highest and lowest units on `code` as horizontal bars, on an axis that shows their differences."""
    from PIL import Image, ImageDraw, ImageFont

    top, bottom = res.extremes(code, CHART_UNITS)
    units = top + bottom
    if not units:
        return None
    values = [r.counted_value(code) for r in units]
    lo, hi = axis_floor(values), 100.0
    width, row, left, right, head, foot = 1800, 50, 560, 150, 70, 90
    height = head + row * len(units) + foot
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)

    def font(size: int, bold: bool = False):
        try:
            return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
        except OSError:
            return ImageFont.load_default()

    text, small = font(26), font(22)
    scale = (width - left - right) / (hi - lo)
    draw.text((left, 20), f"{CHART_UNITS} đơn vị cao nhất và {CHART_UNITS} đơn vị thấp nhất (%)", fill="black",
              font=font(28, True))
    step = 1 if hi - lo <= 10 else 5 if hi - lo <= 40 else 10
    tick = lo
    while tick <= hi + 1e-9:  # gridlines and labels of the value axis
        x = left + (tick - lo) * scale
        draw.line([x, head, x, height - foot], fill=(210, 210, 210), width=2)
        draw.text((x, height - foot + 12), fmt_percent(tick), fill="black", font=small, anchor="mt")
        tick += step
    for i, (unit, value) in enumerate(zip(units, values)):
        y = head + i * row + (12 if i >= len(top) else 0)
        colour = (84, 130, 53) if i < len(top) else (192, 0, 0)
        draw.text((left - 14, y + row / 2), unit.unit.name, fill="black", font=text, anchor="rm")
        draw.rectangle([left, y + row * 0.15, left + (value - lo) * scale, y + row * 0.85], fill=colour)
        draw.text((left + (value - lo) * scale + 10, y + row / 2), fmt_percent(value, fixed=True), fill="black",
                  font=text, anchor="lm")
    draw.line([left, head, left, height - foot], fill="black", width=3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def render_city_report(res: Consolidation, out: Path | str, pdf: bool = False, signed: date | None = None,
                       book: CityBook | None = None, draft: bool = False) -> list[Path]:
    """Write the city report of `res` with the city officer's paragraphs (`book`) and its PDF when asked; returns
    the files written. A final report with a heading of its own left unwritten is refused, as a unit report is
    (a draft prints it blank). With no signer configured the name line is blank (NO_SIGNER_NOTE is the caller's
    to say)."""
    from docx.shared import Cm
    from docxtpl import InlineImage

    from toolkit.reports import CompiledTemplate, report_type, template_path, to_pdf

    out = Path(out)
    if not draft:
        require_content(book, res.form)
    ctx = city_context(res, signed, book, draft)
    png = chart_png(res)
    # the picture needs the document being rendered, hence a callable resolved per render; 16 x 9 cm
    ctx["bieu_do_anh"] = (lambda doc: InlineImage(doc, io.BytesIO(png), width=Cm(16))) if png else ""
    written = [CompiledTemplate(template_path(report_type("tong-hop").template)).render(ctx, out)]
    if pdf:
        written += to_pdf(written, out.parent)
    return written
