"""The city report (`bao-cao --loai tong-hop`): a writer of a `Consolidation`, like the city workbook.

It goes through the same consolidation as `tong-hop`, so it covers the same units and
the same period, and every number it prints is one the city workbook shows: the
totals of `Consolidation.totals`, each unit's own figures, the ranks of
`Consolidation.ranks`. Its chart shows the CHART_UNITS highest and lowest units on an
axis that starts near the lowest value, half a page high.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from toolkit.city.consolidation import ST_MISSING, Consolidation
from toolkit.city.workbook import CHART_UNITS, axis_floor
from toolkit.reports import dateline, num, period_names, qty, recipients, report_number
from toolkit.vnformat import fmt_percent, period_year

RATE, ONLINE = "TL_HS_DUNG_HAN", "TL_HS_TRUC_TUYEN"
NO_SIGNER = "(chưa có họ tên người ký: ghi vào form.yaml › city_report › signer)"


def _pct(x: Any) -> str:
    return fmt_percent(x, fixed=True) if isinstance(x, (int, float)) else ""


def _count(x: Any) -> str:
    return num(x) if isinstance(x, (int, float)) else ""


def _authority(res: Consolidation) -> tuple[str, str]:
    """("UBND THÀNH PHỐ HẢI PHÒNG", "Hải Phòng") from the province the form names.

    The parent body is written short, as departments' letterheads do, so that it fits one line."""
    name = res.form.province
    place = name.removeprefix("Thành phố ")
    full = name if name.startswith("Thành phố") else f"Tỉnh {name}"
    return f"UBND {full.upper()}", place


def _sentences(res: Consolidation) -> list[str]:
    t = res.totals
    out = []
    if t.get("HS_TIEP_NHAN") is not None:
        out.append(f"Tổng số hồ sơ tiếp nhận của các đơn vị là {qty(t['HS_TIEP_NHAN'], 'hồ sơ')}.")
    if t.get("HS_DA_GQ") is not None and t.get("HS_TRUOC_DUNG_HAN") is not None and t.get(RATE) is not None:
        out.append(f"Tổng số hồ sơ đã giải quyết là {qty(t['HS_DA_GQ'], 'hồ sơ')}, trong đó "
                   f"{qty(t['HS_TRUOC_DUNG_HAN'], 'hồ sơ')} giải quyết trước hạn và đúng hạn, đạt tỷ lệ "
                   f"{_pct(t[RATE])}.")
    if t.get("HS_TRUC_TUYEN") is not None and t.get("HS_TRONG_KY") is not None and t.get(ONLINE) is not None:
        out.append(f"Hồ sơ tiếp nhận trực tuyến là {qty(t['HS_TRUC_TUYEN'], 'hồ sơ')} trên "
                   f"{qty(t['HS_TRONG_KY'], 'hồ sơ')} tiếp nhận trong kỳ, đạt tỷ lệ {_pct(t[ONLINE])}.")
    if t.get("HS_QUA_HAN") is not None:
        out.append(f"Số hồ sơ giải quyết quá hạn là {qty(t['HS_QUA_HAN'], 'hồ sơ')}.")
    top, bottom = res.extremes(RATE, 1)
    if top and bottom:
        out.append(f"Đơn vị có tỷ lệ giải quyết hồ sơ trước hạn và đúng hạn cao nhất là {top[0].unit.name} "
                   f"({_pct(top[0].value(RATE))}); thấp nhất là {bottom[0].unit.name} "
                   f"({_pct(bottom[0].value(RATE))}).")
    return out


def city_context(res: Consolidation, signed: date | None = None) -> dict[str, Any]:
    """The city report's template variables (templates/README.md) from one consolidation."""
    conf = res.form.city_report
    parent, place = _authority(res)
    ranks = res.ranks(RATE)
    sent = sorted((r for r in res.rows if r.status != ST_MISSING),
                  key=lambda r: (ranks.get(r.unit.code) is None, ranks.get(r.unit.code, 0), r.unit.code))
    table = [{"stt": i, "ten": r.unit.name, "ma": r.unit.code, "tiep_nhan": _count(r.value("HS_TIEP_NHAN")),
              "da_giai_quyet": _count(r.value("HS_DA_GQ")), "dung_han": _pct(r.value(RATE)),
              "truc_tuyen": _pct(r.value(ONLINE)), "loi": _count(r.errors), "hang": _count(ranks.get(r.unit.code))}
             for i, r in enumerate(sent, start=1)]
    missing = [r.unit.name for r in res.rows if r.status == ST_MISSING]
    notes = []
    other = [why for _, why in res.excluded if why.startswith("Khác kỳ")]
    if other:
        notes.append(f"{num(len(other))} tệp thuộc kỳ khác không được cộng vào số liệu "
                     f"{period_year(res.period, res.year)} (xem sổ tổng hợp, sheet «Tình hình nộp»).")
    return {
        "co_quan_chu_quan": parent,
        "co_quan": conf.get("issuer", ""),
        "so_ky_hieu": report_number(None, conf.get("symbol", "BC")),
        "dia_danh_ngay": dateline(place, signed, res.year),
        "ky": period_names(res.period, res.year),
        "ky_ky": list(conf.get("signature", [])),
        "nguoi_ky": conf.get("signer") or NO_SIGNER,
        "noi_nhan": recipients("\n".join(conf.get("recipients", []))),
        "nop": {"da_nop": num(res.received), "tong": num(res.expected),
                "ty_le": _pct(res.received_rate),
                "chua_nop": num(res.expected - res.received), "ds_chua_nop": ", ".join(missing)},
        "don_vi_bang": table,
        "tong_hop": _sentences(res),
        "canh_bao": notes,
        "loai_bao_cao": "Báo cáo tổng hợp của thành phố (tất cả đơn vị)",
    }


def chart_png(res: Consolidation, code: str = RATE) -> bytes | None:
    """The highest and lowest units on `code` as horizontal bars, on an axis that shows their differences."""
    from PIL import Image, ImageDraw, ImageFont

    top, bottom = res.extremes(code, CHART_UNITS)
    units = top + bottom
    if not units:
        return None
    values = [r.value(code) for r in units]
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


def render_city_report(res: Consolidation, out: Path | str, pdf: bool = False,
                       signed: date | None = None) -> list[Path]:
    """Write the city report of `res` (and its PDF when asked); returns the files written."""
    from docx.shared import Cm
    from docxtpl import InlineImage

    from toolkit.reports import CompiledTemplate, report_type, template_path, to_pdf

    out = Path(out)
    ctx = city_context(res, signed)
    png = chart_png(res)
    # the picture needs the document being rendered, hence a callable resolved per render; 16 x 9 cm
    ctx["bieu_do_anh"] = (lambda doc: InlineImage(doc, io.BytesIO(png), width=Cm(16))) if png else ""
    written = [CompiledTemplate(template_path(report_type("tong-hop").template)).render(ctx, out)]
    if pdf:
        written += to_pdf(written, out.parent)
    return written
