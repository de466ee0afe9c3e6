"""Nộp on the city server: read the unit's workbook, check it, store it as a new version, then write back.

One walk: the grid is read once, checked by the same checker as Kiểm tra, stored,
and only then is the workbook edited, with one list of edits (results table, colours,
receipt, status line) applied at the end. When there is no error the submission is kept twice, each write
whole or not at all: the workbook's cells as an .xlsx under the server's folder
(a name the server makes from the unit, period and content hash; nothing the
client sends becomes a path) and the values in the city store, whose single
transaction gives the version number. A refused Nộp (errors) is logged as an
attempt so that the city's page can show "có lỗi".

No FastAPI here: toolkit.server.app only moves requests in and actions out.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from toolkit.check import check_read
from toolkit.city import (Store, StoreError, db_errors, history_findings, period_deadline, store_exists,
                          store_failure, unit_deadline)
from toolkit.definition import Form
from toolkit.errors import BaocaoError, log_failure
from toolkit.excel import NAME_RECEIPT, NAME_STATUS, Put, apply
from toolkit.excel import buttons as xl
from toolkit.intake import read_workbook
from toolkit.server.plain_xlsx import SheetNameError, write_grid
from toolkit.reports import num
from toolkit.vnformat import city_date, fmt_date, fmt_time, utc_now

@dataclass(frozen=True)
class Receipt:
    code: str  # mã tiếp nhận: unit, period, year, version and the start of the content hash
    unit: str
    period: str  # label
    year: int
    version: int
    received_at: datetime
    file: str  # relative to the server's folder
    new: bool  # False when the same content was already stored (the receipt of that version)
    due: date | None = None  # the deadline it is timed against: the period's, as the city's page counts it

    @property
    def timing(self) -> str:
        """"đúng hạn" or "muộn 171 ngày" with the deadline, counted on the city's calendar as tổng hợp counts."""
        if self.due is None:
            return "kỳ này không có hạn chung"
        late = (city_date(self.received_at) - self.due).days
        return (f"muộn {num(late)} ngày" if late > 0 else "đúng hạn") + f" (hạn {fmt_date(self.due)})"

    @property
    def text(self) -> str:
        """What the workbook keeps: mã tiếp nhận, version, time received, on time or late."""
        return (f"Mã tiếp nhận {self.code}; phiên bản {self.version}; nhận lúc "
                f"{fmt_time(self.received_at, seconds=True)}; {self.timing}")


@dataclass(frozen=True)
class Due:
    """The period the server follows and its deadline (--han, None: the period's own): a receipt of that period is
    timed against it, one of another period against that period's own deadline."""
    period: str
    year: int
    override: date | None = None

    def of(self, sub, form: Form) -> date | None:
        own = self.override if (form.period(self.period).label, self.year) == (sub.period, sub.year) else None
        return unit_deadline(form, sub.window[1], period_deadline(form, sub.period, sub.year, own))


def receipt_code(unit: str, period: str, year: int, version: int, content_hash: str, form: Form) -> str:
    return f"{unit}-{form.period(period).code}{year}-V{version}-{content_hash[:8].upper()}"


def submit(book, unit: str, store_path: Path | str, folder: Path, form: Form, due: Due | None = None
           ) -> Receipt | None:
    """The Nộp button: None when refused (the reason is in the status cell), else the receipt written back."""
    with xl.handler("Nộp", book) as book:
        reading = read_workbook(xl.live_grid(book), form, str(book.fullname))
        report = check_read(reading.submission, form)
        receipt = accept(reading.sheets, report, unit, store_path, folder, form, due=due,
                         name=Path(str(book.fullname)).name[:120])
        if receipt:
            again = "" if receipt.new else " (nội dung giống lần nộp trước, không tạo phiên bản mới)"
            said = [Put(NAME_RECEIPT, receipt.text),
                    Put(NAME_STATUS, f"Đã nộp lúc {fmt_time(receipt.received_at)}, {receipt.timing}{again}: "
                                     f"mã tiếp nhận "
                                     f"{receipt.code}, phiên bản {receipt.version}; {xl.verdict(report)}.")]
        else:
            said = [Put(NAME_STATUS, f"Chưa nộp được ({_now()}): phiếu còn {xl.verdict(report)}. Sửa các ô tô đỏ "
                                     "theo bảng bên dưới rồi bấm «Nộp» lại.")]
        apply(book, xl.shown(report.findings) + said)
        return receipt
    return None


def accept(grid: dict[str, list[list[Any]]], report, unit: str, store_path: Path | str, folder: Path,
           form: Form, typed: bool = False, due: Due | None = None, name: str = "") -> Receipt | None:
    """Nộp of a checked workbook, for the button and for the upload page alike: `grid` is the cells its read
    produced (toolkit.intake.Reading.sheets), stored as a version when it has no error, else logged as a refused
    attempt (None). Raises when the workbook is not the key holder's own (`typed`: the key came from the upload
    page, else from the workbook in Excel); `due` says which deadline the receipt is timed against; `name` is the
    file's name as the unit knows it, kept with the version to show it (never a path)."""
    sub = report.submission
    _require_own(sub, unit, form, typed)
    if store_exists(store_path):  # bất thường against the unit's own history: warnings, never a refusal
        try:
            with Store(store_path, form) as db:
                report.findings += history_findings(form, db, sub)
        except StoreError as exc:  # without the server's own paths
            log_failure(exc, f"Nộp {unit}")
            raise BaocaoError(f"chưa lưu được bản nộp ({exc.reason}); hãy báo Sở Nội vụ rồi bấm Nộp lại sau",
                              detail=exc.detail) from None
    if report.valid:
        receipt = _store(grid, sub, unit, [f.as_dict() for f in report.findings], store_path, folder, form,
                         ("trinh-duyet" if typed else "excel", name))
        return dataclasses.replace(receipt, due=(due or Due(sub.period, sub.year)).of(sub, form))
    _log_attempt(store_path, form, unit, sub.period, sub.year, len(report.errors), len(report.warnings))
    return None


def _require_own(sub, unit: str, form: Form, typed: bool) -> None:
    """The workbook is the key holder's own and names its period: else nothing is stored nor marked. `typed`:
    the key was typed on the upload page, not read from the workbook's own settings."""
    if sub.unit_code != unit:
        name = form.unit_by_code(unit).name if form.unit_by_code(unit) else unit
        written = f"«{sub.unit_code or 'trống'}» ở sheet «Thông tin chung»"
        if typed:
            raise BaocaoError(f"khóa bạn nhập là của {name} (mã {unit}) nhưng tệp đã chọn ghi mã đơn vị {written}; "
                              f"hãy chọn tệp của {name}, hoặc nhập khóa của đơn vị ghi trong tệp")
        raise BaocaoError(f"khóa trong tệp này là của {name} (mã {unit}) nhưng phiếu ghi mã đơn vị {written}; "
                          "sửa mã đơn vị hoặc dùng đúng tệp thành phố đã cấp cho đơn vị")
    if not sub.period or not isinstance(sub.year, int):
        raise BaocaoError("hãy chọn kỳ báo cáo và nhập năm ở sheet «Thông tin chung» rồi bấm Nộp lại")


def _now() -> str:
    return fmt_time(utc_now())


def _content_hash(grid: dict[str, list[list[Any]]]) -> str:
    text = json.dumps(grid, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _store(grid: dict[str, list[list[Any]]], sub, unit: str, findings: list[dict], store_path: Path | str,
           folder: Path, form: Form, sent: tuple[str, str]) -> Receipt:
    digest = _content_hash(grid)
    rel = f"{form.period(sub.period).code}_{sub.year}/{unit}_{digest[:16]}.xlsx"
    target = folder / rel
    values = {c: (v.value, f"{v.loc}") for c, v in {**sub.meta, **sub.values}.items()}
    try:
        if not target.exists():
            write_grid(grid, target)
        with Store(store_path, form) as db:  # the transaction waits its turn in this process (backend.Db.write)
            version, received, new = db.receive(unit, sub.unit_name or "", sub.period, sub.year, values, rel,
                                                 digest, findings, sub.version, sent)
    except SheetNameError as exc:  # posted by no Excel: nothing kept nor stored
        raise BaocaoError(f"chưa lưu được bản nộp ({exc}); hãy đổi tên sheet rồi bấm Nộp lại") from None
    except (*db_errors(), BaocaoError) as exc:  # the server's disk or store: no receipt, the unit is told why
        log_failure(exc, f"Nộp {unit}")
        if not isinstance(exc, BaocaoError):
            why = store_failure(exc, "kho dữ liệu không ghi được")
        elif exc.path:  # without the server's own paths, which are no business of the unit
            why = str(exc).removeprefix(f"{exc.path}: ")
        else:  # toolkit.atomic: "Không ghi được tệp <path>: <reason>"
            why = f"máy chủ không ghi được tệp: {str(exc).rpartition(': ')[2]}"
        raise BaocaoError(f"chưa lưu được bản nộp ({why}); hãy báo Sở Nội vụ rồi bấm Nộp lại sau",
                          detail=str(exc)) from None
    return Receipt(receipt_code(unit, sub.period, sub.year, version, digest, form), unit, sub.period, sub.year,
                   version, received, rel, new)


def _log_attempt(store_path: Path | str, form: Form, unit: str, period: str, year: int, errors: int,
                 warnings: int) -> None:
    try:
        with Store(store_path, form) as db:
            db.attempt(unit, period, year, errors, warnings)
    except (*db_errors(), BaocaoError) as exc:  # only the page's "có lỗi" is lost; the unit gets its list of errors
        log_failure(exc, f"Nộp {unit}: attempt not logged")
