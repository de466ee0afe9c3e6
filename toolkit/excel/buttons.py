"""The Excel buttons: handlers run by xlwings' RunPython from the .xlsm workbooks.

The only module that imports xlwings. Each handler takes the calling workbook,
calls the library and writes its outcome into the cell named XL_TRANG_THAI; any
failure lands there too, in Vietnamese, instead of an Excel error box. Cells are
found through the defined names set by toolkit.excel.xlsm, never through positions.

Reports and consolidation are imported inside their handlers so that a click on
"Kiểm tra" does not pay for loading docxtpl.
"""
from __future__ import annotations

import importlib
import os
import sys
import unicodedata
from contextlib import contextmanager
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

# xlwings' remote interpreter (the city server) is licensed PolyForm Noncommercial, which permits government
# institutions; xlwings reads the key when it is imported.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import xlwings as xw  # noqa: E402

import toolkit  # noqa: E402
from toolkit.check import check_grid  # noqa: E402
from toolkit.definition import SEVERITY_VI, Form, Report, label_key, load_form  # noqa: E402
from toolkit.errors import BaocaoError, log_failure  # noqa: E402
from toolkit.excel.sheet_edit import Edit, Marks, Put, Table, apply, named, put  # noqa: E402
from toolkit.excel.xlsm import (  # noqa: E402
    NAME_FOLDER,
    NAME_MARKED,
    NAME_NEW_DEADLINE,
    NAME_PERIOD,
    NAME_REPORT_TYPE,
    NAME_RESULTS,
    NAME_STATUS,
    NAME_YEAR,
    RESULT_COLUMNS,
    report_types,
)
from toolkit.intake import as_text  # noqa: E402
from toolkit.vnformat import fmt_date, fmt_time, read_date, utc_now  # noqa: E402

# Handlers --------------------------------------------------------------------------------------------


def kiem_tra(book=None) -> None:
    """Kiểm tra: check the workbook as it is on screen (unsaved edits count).

    `book` is given by the city server (toolkit.server.app); Excel's RunPython passes none."""
    with handler("Kiểm tra", book) as book:
        from toolkit.reports import empty_findings  # docxtpl loads only when needed

        report = live_report(live_grid(book), book)
        report.findings += empty_findings(report.submission)  # as `baocao kiem-tra` says them
        apply(book, shown(report.findings) + [Put(NAME_STATUS, f"Kiểm tra xong lúc {_now()}: {verdict(report)}")])


def shown(findings: list) -> list[Edit]:
    """The edits that show findings: the results table and the coloured cells (Kiểm tra, Nộp, a refused report)."""
    return [Table(NAME_RESULTS, RESULT_COLUMNS,
                  [(f.code, f.message, SEVERITY_VI.get(f.severity, f.severity), f.where) for f in findings]),
            Marks(findings, NAME_MARKED)]


def verdict(report: Report) -> str:
    errors = len(report.errors)
    return "không có lỗi" if not report.findings else f"{errors} lỗi, {len(report.findings) - errors} cảnh báo"


def tao_bao_cao(book=None) -> None:
    """Tạo báo cáo: render the report type chosen in the dropdown next to the workbook."""
    with handler("Tạo báo cáo", book) as book:
        out = render_chosen(book, *_beside(book))
        if out:
            status(book, f"Đã tạo báo cáo lúc {_now()}: {', '.join(map(str, out))}")


def render_chosen(book, folder: Path, stem: str) -> list[Path] | None:
    """The report type chosen in the dropdown, rendered from the live workbook into `folder`; None when the
    workbook's errors refuse it, as `baocao bao-cao` does: then the errors are listed and marked."""
    from toolkit.reports import ReportRefused  # docxtpl loads only when needed
    from toolkit.reports import render_report as render

    code = _report_code(named(book, NAME_REPORT_TYPE).value)
    report = live_report(live_grid(book), book)
    try:
        return render(report.submission, code, folder / f"{stem}_{code}.docx", findings=report.findings)
    except ReportRefused as refused:
        apply(book, shown(refused.findings) + [
            Put(NAME_STATUS, f"Chưa lập báo cáo lúc {_now()}: phiếu còn {len(refused.findings)} lỗi (xem danh sách)")])
        return None


def tong_hop() -> None:
    """Tổng hợp: consolidate every intake workbook of the folder named in the workbook."""
    with handler("Tổng hợp") as book:
        from toolkit.city import consolidate, write_city_workbook

        folder, period, year = _city_inputs(book)
        out = _beside(book)[0] / f"tong_hop_{_slug(period)}_{year}.xlsx"
        res = consolidate(folder, period, year, accepted=city_book(book).accepted)
        res.require_usable()
        write_city_workbook(res, out)
        status(book, f"Đã tổng hợp lúc {_now()}: {res.received}/{res.expected} đơn vị đã nộp, {res.valid} "
                      f"không có lỗi, {res.late} nộp muộn. Kết quả: {out}")


def bao_cao_tong_hop() -> None:
    """Báo cáo tổng hợp: consolidate the folder, then render the city synthesis from the accepted workbooks."""
    with handler("Báo cáo tổng hợp") as book:
        from toolkit.city import consolidate, render_city_report, write_city_workbook

        folder, period, year = _city_inputs(book)
        here = _beside(book)[0]
        written = city_book(book)
        res = consolidate(folder, period, year, accepted=written.accepted)
        res.require_usable()
        write_city_workbook(res, here / f"tong_hop_{_slug(period)}_{year}.xlsx")
        out = render_city_report(res, here / f"bao_cao_tong_hop_{_slug(period)}_{year}.docx", book=written)[0]
        status(book, f"Đã tạo báo cáo tổng hợp lúc {_now()} từ {res.received} phiếu: {out}")


def cong_van_don_doc() -> None:
    """Công văn đôn đốc: consolidate the folder as «Tổng hợp» does, then write the reminder dispatch beside the
    workbook, with the date of the «Hạn mới» cell (empty: the city's today + the form's deadline days)."""
    with handler("Công văn đôn đốc") as book:
        from toolkit.city import consolidate, new_deadline, render_dispatch

        folder, period, year = _city_inputs(book)
        typed = _typed_date(named(book, NAME_NEW_DEADLINE).value)
        res = consolidate(folder, period, year, accepted=city_book(book).accepted)
        res.require_usable()
        due = new_deadline(res, typed)
        out = render_dispatch(res, _beside(book)[0] / f"cong_van_don_doc_{_slug(period)}_{year}.docx", due)[0]
        status(book, f"Đã tạo công văn đôn đốc lúc {_now()} (hạn mới {fmt_date(due)}; {res.received}/{res.expected} "
                     f"đơn vị đã nộp): {out}")


def kiem_tra_cai_dat() -> None:
    """Kiểm tra cài đặt: versions and paths of Python, xlwings and baocao, and which parts are installed."""
    with handler("Kiểm tra cài đặt") as book:
        parts = (("toolkit.check.checker", "Kiểm tra số liệu"), ("toolkit.reports.render", "Báo cáo Word"),
                 ("toolkit.city.consolidation", "Tổng hợp"))
        rows = [("Python", sys.version.split()[0], sys.executable, "có"),
                ("xlwings", xw.__version__, str(Path(xw.__file__).parent), "có"),
                ("baocao", metadata.version("baocao"), str(Path(toolkit.__file__).parent), "có"),
                ("Tệp Excel", "", book.fullname, "")]
        rows += [(label, "", module, _importable(module)) for module, label in parts]
        apply(book, [Table(NAME_RESULTS, ("Thành phần", "Đường dẫn", "Phiên bản", "Trạng thái"),
                           [(name, path, version, state) for name, version, path, state in rows]),
                     Put(NAME_STATUS, f"Cài đặt hoạt động bình thường (kiểm tra lúc {_now()}); xem bảng bên dưới")])


# The city server's side of xlwings' remote interpreter ----------------------------------------------------


def open_posted(payload: dict):
    """The workbook xlwings' VBA RunServerPython posted, as a book whose writes become actions (book.json())."""
    try:
        return xw.Book(json=payload)
    except xw.XlwingsError:
        raise BaocaoError(f"tệp được tạo cho phiên bản xlwings {payload.get('version')!s}, máy chủ dùng "
                          f"{xw.__version__}; hãy xin Sở Nội vụ tệp phiếu mới và chép số liệu sang") from None
    except Exception:
        raise BaocaoError("dữ liệu Excel gửi lên không đúng dạng; hãy bấm lại") from None


def close_posted(book) -> None:
    """Forget a posted workbook. xlwings keeps it in its list of books and caches every range read, keyed by
    the sheet's values (an unbounded lru_cache): on a server running for a whole reporting period that only
    grows, so both are emptied after each request."""
    from xlwings.pro import _xlremote

    book.close()
    _xlremote.get_range_api.cache_clear()


def status_actions(sheet_index: int, address: str, text: str) -> dict:
    """The actions that write `text` into one cell, for a refusal the server makes without opening the book."""
    book = xw.Book(json={"client": "VBA", "version": xw.__version__, "names": [],
                         "book": {"name": "", "active_sheet_index": 0, "selection": None},
                         "sheets": [{"name": f"S{i}", "values": [[]], "pictures": [], "tables": []}
                                    for i in range(sheet_index + 1)]})
    try:
        book.sheets[sheet_index][address].value = text
        return book.json()
    finally:
        close_posted(book)


# Plumbing --------------------------------------------------------------------------------------------


# A failure of the city server, told to a unit: the log and the «Kiểm tra cài đặt» button are on the server, not
# on the unit's computer.
SERVER_FAILURE = ("lỗi không mong đợi của máy chủ; chi tiết đã ghi vào nhật ký của máy chủ. Hãy báo Sở Nội vụ rồi "
                  "bấm lại sau")


@contextmanager
def handler(action: str, book=None) -> Iterator[Any]:
    """The calling workbook (`book` when the city server runs the handler); whatever goes wrong is written to
    its status cell in Vietnamese."""
    remote = book is not None
    book = book or xw.Book.caller()
    status(book, f"{action}: đang chạy…")
    try:
        yield book
    except BaocaoError as exc:
        status(book, f"{action}: {exc}")
    except Exception as exc:  # a bug: the user still gets a sentence, the admin the details in the log
        log = log_failure(exc, f"{action} {book.fullname}")
        status(book, f"{action}: " + (SERVER_FAILURE if remote else f"lỗi không mong đợi của phần mềm; chi tiết đã "
                                      f"ghi vào {log}. Hãy bấm «Kiểm tra cài đặt» và gửi tệp đó cho người quản trị."))


def status(book, text: str) -> None:
    try:
        put(named(book, NAME_STATUS), text)
    except BaocaoError as exc:
        # No status cell: xlwings shows this message in its error box, in Vietnamese rather than empty.
        raise BaocaoError(f"{text} ({exc})") from None


def _now() -> str:
    return fmt_time(utc_now())


def _importable(module: str) -> str:
    """ "có" when the part and the libraries it needs import; else why not (e.g. docxtpl missing)."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"lỗi: thiếu thư viện {exc.name or exc}; hãy cài lại baocao"
    return "có"


def _report_code(label: Any) -> str:
    text = as_text(label) if label not in (None, "") else ""
    for code, name in report_types():
        if label_key(text) in (label_key(code), label_key(name)):
            return code
    raise BaocaoError("hãy chọn loại báo cáo trong ô «Loại báo cáo» rồi bấm lại")


def _beside(book) -> tuple[Path, str]:
    """Folder and name stem of the workbook file, where outputs are written."""
    full = str(book.fullname)
    if "://" in full:
        raise BaocaoError("tệp đang mở từ OneDrive/SharePoint dưới dạng địa chỉ web, không xác định được thư mục "
                          "trên máy; hãy bật đồng bộ OneDrive hoặc chép tệp ra thư mục trên máy (xem hướng dẫn)")
    path = Path(full)
    if not path.is_absolute():
        raise BaocaoError("tệp chưa được lưu; hãy lưu tệp vào một thư mục rồi bấm lại")
    return path.parent, path.stem


def city_book(book):
    """What the city officer wrote in the open tong_hop.xlsm (unsaved edits count): paragraphs, accepted anomalies."""
    from toolkit.city import SHEET_ACCEPTED, SHEET_CONTENT, from_grid

    names = {label_key(n) for n in (SHEET_CONTENT, SHEET_ACCEPTED)}
    grid = {name: rows for name, rows in live_grid(book).items() if label_key(name) in names}
    return from_grid(grid, load_form(), str(book.fullname))


def _city_inputs(book) -> tuple[Path, str, int]:
    folder = str(named(book, NAME_FOLDER).value or "").strip().strip('"')
    period = as_text(named(book, NAME_PERIOD).value or "")
    year = named(book, NAME_YEAR).value
    if not folder or not Path(folder).is_dir():
        raise BaocaoError(f"không tìm thấy thư mục «{folder}»; hãy nhập đường dẫn thư mục chứa các phiếu")
    if not period:
        raise BaocaoError("hãy chọn kỳ báo cáo")
    if not isinstance(year, (int, float)) or not 2025 <= year <= 2100:
        raise BaocaoError("hãy nhập năm báo cáo (ví dụ 2026)")
    return Path(folder), period, int(year)


def _typed_date(value: Any) -> date | None:
    """The «Hạn mới» cell: a date as Excel holds it, or text typed where Excel did not take it for one."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = as_text(value).strip()
    found = read_date(text)
    if found is not None:
        return found
    raise BaocaoError(f"ô «Hạn mới» ghi «{text[:40]}», không phải một ngày; hãy nhập ngày dạng ngày/tháng/năm "
                      "(ví dụ 20/12/2026) hoặc để trống")


def _slug(text: str) -> str:
    """File-name part: ASCII, no spaces ("6 tháng" -> "6_thang")."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "_".join("".join(c for c in plain if c.isascii() and (c.isalnum() or c == " ")).split()).lower()


# Reading the live workbook ----------------------------------------------------------------------------


def live_grid(book) -> dict[str, list[list[Any]]]:
    """Every sheet's values from A1 as the workbook shows them (what the city server keeps of a submission)."""
    grid = {}
    for sheet in book.sheets:
        last = sheet.used_range.last_cell
        grid[sheet.name] = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, err_to_str=True).value
    return grid


def live_report(grid: dict[str, list[list[Any]]], book, form: Form | None = None) -> Report:
    """The calling workbook's grid as it is on screen (unsaved edits count), checked; a refusal is raised."""
    report = check_grid(grid, form or load_form(), name=str(book.fullname))
    if report.refusal:
        raise BaocaoError(report.refusal)
    return report
