"""The window each figure of a report was counted over, and how a report says it.

Real reports give a window per block: a plan's tasks "tính đến ngày 31/5/2026", news "từ ngày
01/01/2026 đến nay", procedures "từ ngày 15/12/2025 đến hết ngày 14/6/2026". A row of sheet Số liệu
riêng gives one indicator, or a whole group of indicators.yaml, a window (Từ ngày / Đến ngày); an own
value without dates of its own takes the report's window on sheet Báo cáo (a flow: a stock is a level
at the report's date); every other figure is the workbook's (Thông tin chung). A sentence never puts
figures of two windows together: it is written once per window, each with the figures of that window
only (toolkit.reports.sentences), so a rate typed for the sơ kết's span is never printed beside the
half-year's counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from toolkit.definition import Form, ReportDef
from toolkit.intake import Submission
from toolkit.reports.scope import belongs, identity
from toolkit.vnformat import fmt_date

STOCKS = ("latest", "first")  # indicators.yaml `periods` of a level at a date, not a count over a span


@dataclass(frozen=True)
class Window:
    """From `start` to `end`; no end: "đến nay"; no start: "tính đến" the end."""

    start: date | None
    end: date | None

    def phrase(self, to_the_end: bool = False) -> str:
        """"từ ngày 01/01/2026 đến ngày 04/6/2026", "từ ngày 01/7/2025 đến nay", "tính đến ngày 31/5/2026";
        `to_the_end`: "đến hết ngày" (seed 000's TTHC window)."""
        start, end = self.start, self.end
        if start and end:
            return f"từ ngày {fmt_date(start)} đến {'hết ' if to_the_end else ''}ngày {fmt_date(end)}"
        if start:
            return f"từ ngày {fmt_date(start)} đến nay"
        return f"tính đến ngày {fmt_date(end)}" if end else ""


def row_window(row) -> Window | None:
    start, end = row.get("tu_ngay"), row.get("den_ngay")
    return Window(start, end) if start or end else None


def figure_windows(sub: Submission, kind: ReportDef, form: Form) -> dict[str, Window]:
    """Indicator code -> its window in report `kind`, for the figures that have one other than the workbook's."""
    ident = identity(sub, kind, form)
    report = Window(ident.start, ident.end) if ident.start or ident.end else None
    groups: dict[str, Window] = {}
    own: dict[str, Window] = {}
    for row in sub.lists.get("so_lieu_rieng", []):
        if not belongs(row, kind, form):
            continue
        codes, window = form.figure_codes(row.get("chi_tieu")), row_window(row)
        single = form.indicator_code(row.get("chi_tieu"))
        if window and not single:
            groups.update(dict.fromkeys(codes, window))
        elif window:
            own[single] = window
        elif single and report and row.get("gia_tri") is not None \
                and kind.code in form.report_tags(row.get("bao_cao"))[0] \
                and form.indicator(single).periods not in STOCKS:
            own[single] = report
    return {**groups, **own}
