"""What the city officer writes into tong_hop.xlsm for the city's figures: the report's own paragraphs (sheet
«Nội dung»: Đánh giá chung, Nhiệm vụ trọng tâm kỳ tới, Kiến nghị, đề xuất) and the anomalies accepted as true
(sheet «Bất thường đã chấp nhận»). Read from the file through the guarded reader (`bao-cao --loai tong-hop`,
`tong-hop`) or from the grid Excel shows (the Tổng hợp buttons): one parser for both doors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from toolkit.city.anomalies import Acceptance
from toolkit.definition import Form, label_key
from toolkit.errors import BaocaoError
from toolkit.intake import as_text, read_sheets
from toolkit.vnformat import nfc

SHEET_CONTENT, SHEET_ACCEPTED = "Nội dung", "Bất thường đã chấp nhận"
CONTENT_HEADS = ("Mục", "Nội dung")
ACCEPTED_HEADS = ("Mã ĐVHC", "Mã chỉ tiêu", "Giá trị", "Lý do chấp nhận", "Người chấp nhận")
PARTS = ("DANH_GIA", "NHIEM_VU", "KIEN_NGHI")  # the report's headings a final report needs written


@dataclass
class CityBook:
    """The officer's paragraphs by content code (form.yaml city_report › content) and the accepted anomalies."""

    paragraphs: dict[str, list[str]] = field(default_factory=dict)
    accepted: list[Acceptance] = field(default_factory=list)

    def missing(self, form: Form) -> list[str]:
        """The report's headings with no paragraph written (what refuses a final city report)."""
        items = form.city_report.get("content", [])
        names = {"DANH_GIA": "Đánh giá chung", "NHIEM_VU": "Nhiệm vụ trọng tâm kỳ tới",
                 "KIEN_NGHI": "Kiến nghị, đề xuất"}
        return [names[p] for p in PARTS
                if not any(self.paragraphs.get(c["code"]) for c in items if c.get("part") == p)]


def require_content(book: CityBook | None, form: Form) -> None:
    """Refuse a final city report whose own headings are not written, as a unit report is refused (a draft is
    not)."""
    missing = (book or CityBook()).missing(form)
    if missing:
        raise BaocaoError(f"báo cáo tổng hợp chưa có nội dung mục {', '.join(f'«{m}»' for m in missing)}: ghi các "
                          f"đoạn văn ở sheet «{SHEET_CONTENT}» của tệp tong_hop.xlsm (--tep-tong-hop) rồi lập lại, "
                          "hoặc lập bản dự thảo (--du-thao)")


def _header(rows: list[list[Any]], heads: tuple[str, ...], sheet: str, name: str) -> tuple[int, dict[str, int]]:
    for r, row in enumerate(rows[:20]):
        found = {label_key(v): c for c, v in enumerate(row) if isinstance(v, str)}
        if all(label_key(h) in found for h in heads[:2]):
            return r, {h: found[label_key(h)] for h in heads if label_key(h) in found}
    raise BaocaoError(f"sheet «{sheet}» không có dòng tiêu đề «{'», «'.join(heads[:2])}»; hãy lấy tệp tong_hop.xlsm "
                      "mới (baocao tao-xlsm) và chép nội dung sang", path=name)


def _cell(row: list[Any], c: int | None) -> Any:
    return row[c] if c is not None and c < len(row) else None


def from_grid(grid: Mapping[str, list[list[Any]]], form: Form, name: str = "tong_hop.xlsm") -> CityBook:
    """The city book from a workbook's sheets (sheet name -> rows from A1); a sheet it lacks is empty."""
    book = CityBook()
    keys = {label_key(k): k for k in grid}
    items = {label_key(c["label"]): c["code"] for c in form.city_report.get("content", [])}
    rows = grid.get(keys.get(label_key(SHEET_CONTENT), ""), [])
    if rows:
        top, cols = _header(rows, CONTENT_HEADS, SHEET_CONTENT, name)
        for r, row in enumerate(rows[top + 1:], start=top + 2):
            part, text = _cell(row, cols["Mục"]), _cell(row, cols["Nội dung"])
            text = nfc(as_text(text)).strip() if text not in (None, "") else ""
            if not text:
                continue
            code = items.get(label_key(as_text(part or "")))
            if code is None:
                raise BaocaoError(f"sheet «{SHEET_CONTENT}», dòng {r}: mục «{as_text(part or '')}» không có trong "
                                  "danh sách; chọn mục trong danh sách thả xuống", path=name)
            book.paragraphs.setdefault(code, []).extend(p.strip() for p in text.splitlines() if p.strip())
    rows = grid.get(keys.get(label_key(SHEET_ACCEPTED), ""), [])
    if rows:
        top, cols = _header(rows, ACCEPTED_HEADS, SHEET_ACCEPTED, name)
        for r, row in enumerate(rows[top + 1:], start=top + 2):
            unit, code = (as_text(_cell(row, cols.get(h)) or "").strip() for h in ACCEPTED_HEADS[:2])
            if not unit and not code:
                continue
            value = _cell(row, cols.get("Giá trị"))
            if form.unit_by_code(unit) is None or code not in {i.code for i in form.indicators} \
                    or not isinstance(value, (int, float)) or isinstance(value, bool):
                raise BaocaoError(f"sheet «{SHEET_ACCEPTED}», dòng {r}: cần mã ĐVHC có trong danh sách, mã chỉ tiêu "
                                  "(như ở sheet «Bất thường» của sổ tổng hợp) và giá trị là số", path=name)
            why = as_text(_cell(row, cols.get("Lý do chấp nhận")) or "").strip()
            who = as_text(_cell(row, cols.get("Người chấp nhận")) or "").strip() or "Sở Nội vụ"
            book.accepted.append(Acceptance(unit, code, value, who, why))
    return book


def read_city_book(path: Path | str | None, form: Form) -> CityBook:
    """The city book of tong_hop.xlsm at `path` (None: nothing written, nothing accepted)."""
    if path is None:
        return CityBook()
    return from_grid(read_sheets(path, (SHEET_CONTENT, SHEET_ACCEPTED)), form, str(path))
