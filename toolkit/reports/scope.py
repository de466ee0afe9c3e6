"""What one report of a workbook carries: its identity, its own texts and its own figures.

One workbook feeds several reports of the same unit and period. Sheet Báo cáo holds
what differs per report (số, ngày ký, signer, Nơi nhận, a subtitle, the window of its
own figures; a blank cell takes Thông tin chung's value); a text row of sheet Nội dung
says which report types it belongs to (blank: all); sheet Số liệu riêng holds a
report's own figures (another window or date) and the qualifier of an approximate one
("trên 450"). `scoped(sub, kind)` gives the submission as that report sees it.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from toolkit.definition import Form, ReportDef
from toolkit.intake import Loc, Row, Submission, Value


def belongs(row: Row, kind: ReportDef, form: Form) -> bool:
    codes, _ = form.report_tags(row.get("bao_cao"))
    return not codes or kind.code in codes


@dataclass(frozen=True)
class Identity:
    """Who signs one report and for whom: a row of sheet Báo cáo over the defaults of Thông tin chung."""

    number: Any
    signed: date | None
    title: str | None  # chuc_vu_ky choice label
    signer: str
    recipients: str | None
    subtitle: list[str]
    start: date | None  # window of the report's own figures, when it has one
    end: date | None


def identity_row(sub: Submission, kind: ReportDef, form: Form) -> Row | None:
    label = next((c.label for c in form.choices["loai_bao_cao"] if c.code == kind.code), None)
    return next((r for r in sub.lists.get("bao_cao", []) if label and r.get("loai") == label), None)


def identity(sub: Submission, kind: ReportDef, form: Form) -> Identity:
    row = identity_row(sub, kind, form)

    def pick(column: str, meta: str | None) -> Any:
        own = row.get(column) if row else None
        return own if own not in (None, "") else (sub.get(meta) if meta else None)

    return Identity(number=pick("so", "SO_BAO_CAO"), signed=pick("ngay", "NGAY_BAO_CAO"),
                    title=pick("chuc_vu_ky", "CHUC_VU_KY"), signer=pick("nguoi_ky", "NGUOI_KY") or "",
                    recipients=pick("noi_nhan", "NOI_NHAN"),
                    subtitle=[ln.strip() for ln in str(pick("dong_phu", None) or "").splitlines() if ln.strip()],
                    start=pick("tu_ngay", None), end=pick("den_ngay", None))


def fed_types(sub: Submission, form: Form) -> list[str]:
    """The report types sheet Báo cáo declares for this workbook (empty when it declares none)."""
    labels = {c.label: c.code for c in form.choices["loai_bao_cao"]}
    return [labels[r.get("loai")] for r in sub.lists.get("bao_cao", []) if r.get("loai") in labels]


def scoped(sub: Submission, kind: ReportDef, form: Form) -> Submission:
    """The submission as report `kind` states it: its own figures in place, qualifiers and notes attached.

    A shallow copy: the workbook's own Submission is never changed, so another report
    of the same workbook still sees the Số liệu sheet's values.
    """
    view = copy.copy(sub)
    view.values = dict(sub.values)
    view.qualifiers, view.remarks = dict(sub.qualifiers), dict(sub.remarks)
    for row in sub.lists.get("so_lieu_rieng", []):
        code = form.indicator_code(row.get("chi_tieu"))
        if code is None or not belongs(row, kind, form):
            continue
        loc = row.cells["gia_tri"].loc if "gia_tri" in row.cells else row.loc
        if row.get("gia_tri") is not None:
            view.values[code] = Value(code, row.get("gia_tri"), Loc(loc.sheet, loc.cell))
        if row.get("uoc_tinh"):
            view.qualifiers[code] = row.get("uoc_tinh")
        if row.get("ghi_chu"):
            view.remarks[code] = row.get("ghi_chu")
    return view


def own_figures(sub: Submission, kind: ReportDef, form: Form) -> set[str]:
    """Indicator codes whose value report `kind` takes from sheet Số liệu riêng."""
    return {code for row in sub.lists.get("so_lieu_rieng", [])
            if (code := form.indicator_code(row.get("chi_tieu"))) and row.get("gia_tri") is not None
            and kind.code in form.report_tags(row.get("bao_cao"))[0]}


def texts(sub: Submission, kind: ReportDef, form: Form) -> dict[str, list[str]]:
    """Paragraphs of sheet Nội dung per block code, only those this report type carries."""
    label_to_code = {c.label: c.code for c in form.choices["muc_noi_dung"]}
    out: dict[str, list[str]] = {c.code: [] for c in form.choices["muc_noi_dung"]}
    for row in sub.lists.get("noi_dung", []):
        code = label_to_code.get(row.get("muc"))
        if code in kind.blocks and row.get("noi_dung") and belongs(row, kind, form):
            out[code].append(row.get("noi_dung"))
    return {code: ended(block) for code, block in out.items()}


# A numbered heading the officer typed as a paragraph ("2.2. Kết quả giải quyết TTHC"): it takes no full stop.
_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[IVX]+\.|[a-zđ]\))\s+\S.{0,150}$")
# Ended: a stop, maybe inside a closing bracket or quote ("…(có lý do)." but not "…(có lý do)"), or a whole
# parenthetical line ("(Kết quả cụ thể tại Phụ lục gửi kèm)", seed 004).
_ENDED = re.compile(r"[.!?:;…][)”\"»’]*$|^\(.*\)$")


def stopped(text: str) -> str:
    """`text` with a full stop when it has no closing mark of its own."""
    return text + "." if text and not _ENDED.search(text) else text


def ended(block: list[str]) -> list[str]:
    """Paragraphs that end as a person ends them: a full stop where the officer left none (not after a
    numbered heading), and a "Căn cứ …" clause that the next paragraph completes ends with a colon (seed 004),
    not as a sentence of its own."""
    out = []
    for i, text in enumerate(block):
        text = text.rstrip()
        introduces = text.startswith("Căn cứ") and i < len(block) - 1
        if introduces and text[-1:] in (".", ""):
            text = text.rstrip(".") + ":"
        elif not _HEADING.match(text):
            text = stopped(text)
        out.append(text)
    return out
