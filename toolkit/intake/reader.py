"""Read a filled intake workbook into a typed `Submission`.

python-calamine reads the cells (fast, read-only, no XML entity expansion).
Indicators are found by the code in the "Mã" column and list columns by their
header text, so inserted rows, moved blocks or reordered columns do not break
reading. A file that is not this form's workbook is refused with a Vietnamese
`BaocaoError`; a cell that cannot be read becomes a `Problem`, never a guess.
`read_workbook` is the one read every door goes through (`kiem-tra`, `tong-hop`,
the buttons, the server's upload and Tạo báo cáo); `read_submission` and
`read_grid` are its two kinds of input.
"""
from __future__ import annotations

import math
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping

import python_calamine as pc

from toolkit.definition import Field, Form, ListDef, catalogue, label_key, load_form, nfc
from toolkit.definition import layout as L
from toolkit.errors import BaocaoError, log_failure
from toolkit.intake import serials
from toolkit.intake.submission import Loc, Problem, Row, Submission, Value, cell_name
from toolkit.intake.vnnum import NumberError, parse_number
from toolkit.intake.xlsx_scan import MAX_CELLS, Scanner, TruncatedXml, UnsafeXml
from toolkit.vnformat import NOT_XML, char_names, clip, fmt_number, xml_safe

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
SHARED_STRINGS = "xl/sharedStrings.xml"
MAX_RATIO = 200  # a zip member that expands more than this is a zip bomb, not a workbook
# Parts read whole before any sheet (by calamine when it opens the book, by the scan for the sheets' places): a
# form's are under 200 KB; a larger one holds what no spreadsheet writes (a comment of hundreds of MB). The shared
# strings, read whole too, are measured after their count, which names the commoner attack.
WHOLE_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "[Content_Types].xml", "_rels/.rels")
MAX_WHOLE_PART = 20 * 1024 * 1024
MAX_ROWS = 20_000  # rows read per sheet; the form needs a few hundred
# Far above any figure of one commune (budgets are in triệu đồng), far below what SQLite and a float
# hold exactly: a larger number is a typing slip or a hostile file, never data.
MAX_FIGURE = 10**12
MIN_YEAR, MAX_YEAR = 1900, 2100  # dates outside are slips (Excel's calendar starts in 1900)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_EPOCH = date(1899, 12, 30)
STAMP_ROWS = 10  # rows of the lists sheet holding the form's id and version; the rest are Excel's dropdowns
_ERRORS = ("#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!")


def sniff(path: Path, name: str | None = None) -> zipfile.ZipFile:
    """Refuse, with a Vietnamese reason, anything that is not a readable .xlsx/.xlsm file; `name` names it in
    the reason (the user's own file name when the server keeps it under its own), the path by default. The
    workbook's zip is returned open (its directory is read once per file): the caller closes it."""
    shown = name or str(path)
    if not path.exists():
        raise BaocaoError("không tìm thấy tệp", path=shown, code="khong-tim-thay-tep")
    if not path.is_file():
        raise BaocaoError("không phải là tệp (có thể là thư mục)", path=shown, code="khong-tim-thay-tep")
    size = path.stat().st_size
    if size == 0:
        raise BaocaoError("tệp rỗng (0 byte)", path=shown, code="khong-phai-so-tinh")
    if size > MAX_FILE_BYTES:
        raise BaocaoError(f"tệp quá lớn ({size // 1048576} MB); phiếu số liệu chỉ vài trăm KB",
                          path=shown, code="tep-qua-lon")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE_MAGIC:  # an OLE container: an encrypted .xlsx or an old .xls
        if "EncryptedPackage".encode("utf-16-le") in path.read_bytes():
            raise BaocaoError("tệp được đặt mật khẩu; hãy mở bằng Excel, gỡ mật khẩu (Tệp › Thông tin › "
                              "Bảo vệ sổ làm việc) rồi gửi lại", path=shown, code="tep-co-mat-khau")
        raise BaocaoError("tệp định dạng Excel 97-2003 (.xls); hãy mở bằng Excel và lưu lại dạng "
                          "Excel Workbook (.xlsx)", path=shown, code="khong-phai-so-tinh")
    if head.startswith(b"%PDF"):
        raise BaocaoError("là tệp PDF, không phải tệp Excel (.xlsx); hãy chọn tệp phiếu Excel", path=shown,
                          code="khong-phai-so-tinh")
    if not head.startswith(b"PK"):
        raise BaocaoError("không phải tệp Excel (.xlsx); có thể là CSV hoặc văn bản đổi đuôi",
                          path=shown, code="khong-phai-so-tinh")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BaocaoError("tệp hỏng hoặc không đầy đủ (không giải nén được); hãy lưu lại từ Excel",
                          path=shown, code="tep-hong", detail=str(exc)) from None
    except Exception as exc:  # a zip directory damaged in ways zipfile has no BadZipFile for
        raise _refusal(exc, shown) from None
    try:
        _members(zf, shown)
    except BaseException:
        zf.close()
        raise
    return zf


def _members(zf: zipfile.ZipFile, shown: str) -> None:
    """Refuse a zip whose members are a bomb, too large, or not a workbook's."""
    names = set(zf.namelist())
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO \
                and info.file_size > 10 * 1024 * 1024:
            raise BaocaoError("tệp nén bất thường (zip bomb), từ chối đọc", path=shown,
                              code="noi-dung-khong-an-toan")
        if info.filename in WHOLE_PARTS and info.file_size > MAX_WHOLE_PART:
            raise _oversized(info, shown)
    if total > MAX_UNPACKED_BYTES:
        raise BaocaoError("tệp giải nén quá lớn, từ chối đọc", path=shown, code="tep-qua-lon")
    if "content.xml" in names and "mimetype" in names:
        raise BaocaoError("tệp OpenDocument (.ods); hãy lưu lại dạng Excel Workbook (.xlsx)",
                          path=shown, code="khong-phai-so-tinh")
    if "xl/workbook.xml" not in names:
        raise BaocaoError("tệp nén không phải sổ tính Excel", path=shown, code="khong-phai-so-tinh")


def _oversized(info: zipfile.ZipInfo, shown: str) -> BaocaoError:
    return BaocaoError(f"phần «{info.filename}» của tệp lớn bất thường ({info.file_size // 1048576} MB); tệp không "
                       "do Excel tạo ra, hãy chép số liệu sang mẫu mới", path=shown, code="noi-dung-khong-an-toan")


class _Sheet:
    """A sheet as a grid of rows from row 0, column 0 (Excel A1)."""

    def __init__(self, name: str, rows: list[list[Any]], merged: list[tuple] | None = None,
                 shown: Callable[[str, Any], Any] | None = None):
        self.name = name
        self.rows = rows
        self.merged = merged or []
        self.shown = shown  # (cell, calamine's value) -> what Excel shows, for values calamine cannot tell apart

    @classmethod
    def from_calamine(cls, book: pc.CalamineWorkbook, scanner: Scanner, name: str, path: Path) -> "_Sheet":
        scan = scanner.scan(name)  # before calamine: it allocates the whole grid up to the farthest cell
        if scan.cells > MAX_CELLS:
            raise BaocaoError(
                f"sheet «{name}» có ô {scan.far_cell} nằm quá xa vùng phiếu (vùng dữ liệu {fmt_number(scan.rows)} "
                f"dòng × {fmt_number(scan.columns)} cột); hãy xóa các dòng, cột thừa (Ctrl+End chỉ ô cuối cùng) "
                "rồi lưu lại", path=str(path), code="tep-qua-lon")
        sheet = book.get_sheet_by_name(name)
        part = scanner.parts[name]
        return cls(name, sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS),
                   [tuple(m) for m in (sheet.merged_cell_ranges or [])],
                   lambda ref, value: serials.true_value(scanner.zf, part, ref, value))

    def loc(self, r: int, c: int) -> Loc:
        return Loc(self.name, cell_name(r, c))

    def cell(self, r: int, c: int) -> Any:
        row = self.rows[r] if r < len(self.rows) else []
        value = row[c] if c < len(row) else ""
        if self.shown and serials.lookalike(value):
            return self.shown(cell_name(r, c), value)
        return value

    def find_header(self, wanted: tuple[str, ...], limit: int = 30) -> tuple[int, dict[str, int]] | None:
        """First row (within `limit`) holding the first wanted header; map of header -> column."""
        keys = {label_key(w): w for w in wanted}
        for r, row in enumerate(self.rows[:limit]):
            found = {keys[label_key(v)]: c for c, v in enumerate(row) if isinstance(v, str) and label_key(v) in keys}
            if wanted[0] in found:
                return r, found
        return None


def _convert(field: Field, raw: Any, form: Form) -> tuple[Any, str | None, dict]:
    """Typed value of a cell for `field`; when it cannot be taken, (None, finding code, its fields)."""
    value, reason = _typed(field, raw, form)
    if reason:
        return None, "gia-tri-khong-doc-duoc", {"label": field.label, "reason": reason}
    if isinstance(value, str) and NOT_XML.search(value):  # kept out of every report and workbook written
        return xml_safe(value), "ky-tu-dieu-khien", {"label": field.label, "chars": char_names(value)}
    if isinstance(value, (int, float)) and abs(value) > MAX_FIGURE:
        return None, "so-qua-lon", {"label": field.label, "value": fmt_number(value),
                                    "limit": fmt_number(MAX_FIGURE)}
    return value, None, {}


def _typed(field: Field, raw: Any, form: Form) -> tuple[Any, str | None]:
    """Typed value of a cell for `field`, or (None, reason) when it is not of the field's type."""
    if raw is serials.FEB29_1900:
        return (str(raw), None) if field.type == "text" else (None, "ô chứa ngày 29/02/1900, một ngày không có thật "
                                                                   "(lịch của Excel coi năm 1900 là năm nhuận)")
    if isinstance(raw, str):
        raw = nfc(raw).strip()
        if raw == "":
            return None, None
        if raw.upper() in _ERRORS:
            return None, f"ô chứa lỗi công thức {raw}"
    if isinstance(raw, bool):
        return None, "ô chứa giá trị TRUE/FALSE, không phải số liệu"
    if isinstance(raw, float) and not math.isfinite(raw):
        return None, "ô chứa giá trị vô cực hoặc không xác định (NaN), không phải số"
    kind = field.type
    if isinstance(raw, time):
        return (as_text(raw), None) if kind == "text" else (None, f"ô chứa giờ ({raw:%H:%M}), không phải "
                                                             + ("ngày" if kind == "date" else "số liệu"))
    if isinstance(raw, timedelta):
        return (as_text(raw), None) if kind == "text" else (None, f"ô chứa khoảng thời gian ({as_text(raw)}), "
                                                             "không phải số liệu")
    if kind in ("count", "decimal", "percent", "money"):
        if isinstance(raw, (datetime, date)):
            return None, f"ô chứa ngày ({as_text(raw)}), không phải số; hãy đặt định dạng ô là Number"
        if isinstance(raw, str):
            try:
                raw = parse_number(raw, percent=kind == "percent")
            except NumberError as exc:
                return None, str(exc)
        elif kind == "percent":  # a percent-formatted cell holds the fraction: 99,2% is 0.992, 100% is 1
            raw = round(raw * 100, 10)
        if kind == "count":
            if float(raw) != int(raw):
                return None, f"«{_vn_plain(raw)}» không phải số nguyên"
            return int(raw), None
        return (int(raw) if float(raw).is_integer() else float(raw)), None
    if kind == "date":
        day = _as_date(raw)
        if isinstance(day, str):
            return None, day
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            return None, f"ngày {as_text(day)} nằm ngoài khoảng hợp lý ({MIN_YEAR}–{MAX_YEAR})"
        return day, None
    text = as_text(raw)
    if kind == "choice":
        match = form.choice_by_label(field.choices, text)
        if match is None:
            return None, f"«{clip(text)}» không có trong danh mục"
        return match.label, None
    return text, None


def _as_date(raw: Any) -> date | str:
    """The date in a cell, or why there is none."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float)) and 1 <= raw < 2958466:
        return _EXCEL_EPOCH + timedelta(days=int(raw))
    if isinstance(raw, (int, float)) and raw < 0:
        return f"ô chứa số âm ({fmt_number(raw)}), không phải ngày (Excel hiện «########»)"
    if isinstance(raw, str):
        day, reason = _parse_date(raw)
        return day or reason
    return "không đọc được ngày"


def _raw(raw: Any, value: Any) -> Any:
    """What the cell held, kept only when it is not simply the value."""
    return None if raw in ("", None) or raw == value else raw


def _vn_plain(x: float) -> str:
    return str(x).replace(".", ",")


def as_text(raw: Any) -> str:
    """A cell as the text the user sees (whole numbers without ".0", dates as dd/mm/yyyy)."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (datetime, date)):
        return f"{raw.day:02d}/{raw.month:02d}/{raw.year}"
    if isinstance(raw, timedelta):
        minutes = int(raw.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    return nfc(str(raw)).strip()


def _parse_date(text: str) -> tuple[date | None, str | None]:
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date(), None
        except ValueError:
            continue
    return None, f"«{clip(text)}» không phải ngày hợp lệ (dạng ngày/tháng/năm, ví dụ 09/01/2026)"


def _read_stamp(sheets: dict[str, str], sheet_at, path: Path, form: Form) -> tuple[str, str]:
    if label_key(L.SHEET_LISTS) not in sheets:
        raise BaocaoError(
            f"không phải phiếu số liệu {form.form_id}: thiếu sheet «{L.SHEET_LISTS}» chứa mã biểu mẫu; "
            "hãy dùng mẫu tạo bởi lệnh «baocao tao-mau»", path=str(path), code="sai-bieu-mau")
    sheet = sheet_at(sheets[label_key(L.SHEET_LISTS)])
    stamp = {label_key(r[0]): as_text(r[1]) for r in sheet.rows[:STAMP_ROWS]
             if len(r) > 1 and isinstance(r[0], str)}
    form_id, version = stamp.get(label_key(L.STAMP_FORM), ""), stamp.get(label_key(L.STAMP_VERSION), "")
    if form_id != form.form_id:
        raise BaocaoError(f"là biểu mẫu «{form_id or 'không rõ'}», không phải phiếu {form.form_id}",
                          path=str(path), code="sai-bieu-mau")
    if version != form.version:
        raise BaocaoError(
            f"phiếu phiên bản {version or 'không rõ'}, phần mềm đang dùng phiên bản {form.version}; "
            "hãy chép số liệu sang mẫu mới (lệnh «baocao tao-mau»)", path=str(path), code="sai-bieu-mau")
    return form_id, version


def _problem(sub: Submission, code: str, loc: Loc, field: str = "", /, **fields) -> None:
    """Note a problem, worded by its catalogue entry."""
    sub.problems.append(Problem(code, loc, catalogue.message(code, **fields), field))


def _values_sheet(sheet: _Sheet, fields: tuple[Field, ...], form: Form, sub: Submission,
                  target: dict[str, Value], note_col: bool) -> None:
    """Read one value per field, located by its code in the "Mã" column."""
    wanted = (L.HEAD_CODE, L.HEAD_VALUE, L.HEAD_NOTE, L.HEAD_EXPLAIN) if note_col else (L.HEAD_CODE, L.HEAD_VALUE)
    found = sheet.find_header(wanted)
    if found is None or L.HEAD_VALUE not in found[1]:
        raise BaocaoError(f"sheet «{sheet.name}» thiếu dòng tiêu đề có cột «{L.HEAD_CODE}» và "
                          f"«{L.HEAD_VALUE}»", path=str(sub.path), code="sai-bieu-mau")
    head, cols = found
    code_col, value_col, note = cols[L.HEAD_CODE], cols[L.HEAD_VALUE], cols.get(L.HEAD_NOTE)
    explain = cols.get(L.HEAD_EXPLAIN)  # a workbook made before the column reads as explaining nothing
    by_code = {f.code: f for f in fields}
    last = len(sheet.rows)  # a merge can reach row 1,048,576: only the rows read matter
    merged_rows = {r for (r0, c0), (r1, c1) in sheet.merged if c0 <= value_col <= c1
                   for r in range(max(r0, head + 1), min(r1, last - 1) + 1)}
    for r in range(head + 1, len(sheet.rows)):
        code = sheet.cell(r, code_col)
        if not isinstance(code, str) or not code.strip():
            continue
        code = code.strip()
        loc = sheet.loc(r, value_col)
        field = by_code.get(code)
        if field is None:
            _problem(sub, "ma-khong-xac-dinh", sheet.loc(r, code_col), code, code=code)
            continue
        if code in target:
            _problem(sub, "ma-trung", sheet.loc(r, code_col), code, code=code, first=target[code].loc)
            continue
        if r in merged_rows:
            _problem(sub, "o-bi-gop", loc, code, label=field.label)
        raw = sheet.cell(r, value_col)
        value, problem, wording = _convert(field, raw, form)
        if problem:
            _problem(sub, problem, loc, code, **wording)
        target[code] = Value(code, value, loc, _raw(raw, value))
        if note is not None:
            text = sheet.cell(r, note)
            if isinstance(text, str) and NOT_XML.search(text):
                _problem(sub, "ky-tu-dieu-khien", sheet.loc(r, note), code, label=f"Ghi chú của {code}",
                         chars=char_names(text))
                text = xml_safe(text)
            if isinstance(text, str) and text.strip():
                sub.notes[code] = nfc(text).strip()
        if explain is not None:
            _explanation(sheet, r, explain, code, sub)
    for f in fields:
        if f.code not in target:
            _problem(sub, "thieu-chi-tieu", Loc(sheet.name, "A1"), f.code, code=f.code, label=f.label,
                     sheet=sheet.name)


def _explanation(sheet: _Sheet, r: int, c: int, code: str, sub: Submission) -> None:
    """The «Giải trình» of the figure `code` (row r): any text the cell shows, spaces and line breaks aside, as
    the Kiểm tra sheet's LEN(TRIM(CLEAN(…))) tells it."""
    raw = sheet.cell(r, c)
    if raw in ("", None):
        return
    text = as_text(raw)
    if NOT_XML.search(text):
        _problem(sub, "ky-tu-dieu-khien", sheet.loc(r, c), code, label=f"Giải trình của {code}",
                 chars=char_names(text))
        text = xml_safe(text)
    text = " ".join(text.split())
    if text:
        sub.explanations[code] = Value(code, text, sheet.loc(r, c))


def _list_sheet(sheet: _Sheet, lst: ListDef, form: Form, sub: Submission) -> list[Row]:
    labels = tuple(c.label for c in lst.columns)
    found = sheet.find_header(labels)
    if found is None:
        _problem(sub, "thieu-tieu-de-bang", Loc(sheet.name, "A1"), sheet=sheet.name, column=labels[0])
        return []
    head, cols = found
    for c in lst.columns:
        if c.label not in cols:
            _problem(sub, "thieu-cot", sheet.loc(head, 0), sheet=sheet.name, column=c.label)
    rows: list[Row] = []
    for r in range(head + 1, len(sheet.rows)):
        cells = {c.code: sheet.cell(r, cols[c.label]) for c in lst.columns if c.label in cols}
        if all(v == "" or v is None for v in cells.values()):
            continue
        row = Row(len(rows) + 1, sheet.loc(r, 0))
        for c in lst.columns:
            if c.code not in cells:
                continue
            loc = sheet.loc(r, cols[c.label])
            value, problem, wording = _convert(c, cells[c.code], form)
            if problem:
                _problem(sub, problem, loc, c.code, **wording)
            row.cells[c.code] = Value(c.code, value, loc, _raw(cells[c.code], value))
        rows.append(row)
    return rows


def _scan_formulas(scanner: Scanner, sub: Submission) -> None:
    """Formulas typed over input cells (the value is only the last result) and error values."""
    for target in (t for t in (sub.meta, sub.values) if t):
        sheet = next(iter(target.values())).loc.sheet
        by_cell = {v.loc.cell: v for v in target.values()}
        for cell, (formula, error) in scanner.formulas(sheet).items():
            value = by_cell.get(cell)
            if value is None:
                continue
            loc = Loc(sheet, cell)
            if error:
                _problem(sub, "loi-cong-thuc", loc, value.code, code=value.code, error=error,
                         formula=f" (công thức {formula})" if formula else "")
                target[value.code] = Value(value.code, None, loc, error)
            elif formula:
                _problem(sub, "cong-thuc-trong-o-nhap", loc, value.code, code=value.code, formula=formula)


@dataclass
class Reading:
    """A workbook read: the submission, and the cells of the sheets the form uses as they were read (`sheets`)."""

    submission: Submission
    rows: dict[str, list[list[Any]]]  # sheet name -> rows as read (of the lists sheet its stamp alone)

    @cached_property
    def sheets(self) -> dict[str, list[list[Any]]]:
        """Sheet name -> rows from A1, empty cells None, whole numbers as int, trailing blanks dropped: what Nộp
        keeps and hashes, the same for a file and for the grid Excel posts of it (made when first asked: a
        consolidation never asks)."""
        return {name: _kept(rows) for name, rows in self.rows.items()}


def read_workbook(source: Path | str | Mapping[str, list[list[Any]]], form: Form | None = None,
                  name: str | None = None) -> Reading:
    """The one read of a workbook, for every door: a file (CLI, upload) is checked (`sniff`) and each sheet the
    form uses scanned before calamine reads it, and no other sheet is opened; a grid (what Excel shows, posted by
    the button) is read as it is. `name` names the workbook in messages (the user's own file name), the path
    by default. Whatever a parser raises becomes a Vietnamese refusal (`BaocaoError`)."""
    form = form or load_form()
    if isinstance(source, Mapping):
        return _read_posted(source, form, name or "phiếu đang mở")
    path = Path(source)
    shown = name or str(path)
    try:
        with sniff(path, shown) as zf:
            inputs = {label_key(L.SHEET_META), label_key(L.SHEET_DATA)}  # whose formulas _scan_formulas reads
            scanner = Scanner(zf, lambda sheet: label_key(sheet) in inputs)
            if not scanner.shared_strings_ok():
                raise BaocaoError("tệp có hàng triệu chuỗi văn bản, quá nhiều so với một phiếu số liệu; từ chối đọc",
                                  path=shown, code="tep-qua-lon")
            if SHARED_STRINGS in scanner.members and zf.getinfo(SHARED_STRINGS).file_size > MAX_WHOLE_PART:
                raise _oversized(zf.getinfo(SHARED_STRINGS), shown)  # few strings, yet a huge comment among them
            return _read_book(path, form, scanner, shown)
    except BaocaoError:
        raise
    except TruncatedXml as exc:
        raise BaocaoError(f"tệp hỏng hoặc không đầy đủ ({exc}); hãy mở và lưu lại bằng Excel", path=shown,
                          code="tep-hong") from None
    except UnsafeXml as exc:
        raise BaocaoError(f"{exc}; tệp không do Excel tạo ra, hãy chép số liệu sang mẫu mới", path=shown,
                          code="noi-dung-khong-an-toan") from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # calamine's PanicException is a BaseException: a damaged file all the same
        raise _refusal(exc, shown) from None


def read_submission(path: Path | str, form: Form | None = None) -> Submission:
    """Read `path` as a filled intake workbook of `form` (the bundled one by default)."""
    return read_workbook(Path(path), form).submission


def _read_book(path: Path, form: Form, scanner: Scanner, shown: str) -> Reading:
    try:
        book = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        raise BaocaoError("tệp được đặt mật khẩu; hãy gỡ mật khẩu rồi gửi lại", path=shown,
                          code="tep-co-mat-khau") from None
    try:
        hidden = frozenset(m.name for m in book.sheets_metadata if m.visible != pc.SheetVisibleEnum.Visible)
        reading = _read(book.sheet_names, lambda name: _Sheet.from_calamine(book, scanner, name, Path(shown)),
                        Path(shown), form, hidden)
        _scan_formulas(scanner, reading.submission)
    finally:
        book.close()
    return reading


def _refusal(exc: BaseException, path: str) -> BaocaoError:
    """A library's failure on a hostile or damaged file, told in Vietnamese by kind; its own text is detail."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError):
        code = "tep-qua-lon"
    elif isinstance(exc, (pc.CalamineError, zipfile.BadZipFile, KeyError, UnicodeDecodeError, EOFError,
                          OSError, NotImplementedError, zlib.error, struct.error)) \
            or type(exc).__name__ == "PanicException":  # calamine's Rust code gave up on the file
        code = "tep-hong"
    else:  # not a known failure of a library on a bad file: a reader bug, logged for the administrator
        log_failure(exc, path)
        code = "loi-doc-khong-mong-doi"
    return BaocaoError(catalogue.message(code), path=str(path), code=code, detail=detail)


def read_grid(grid: Mapping[str, list[list[Any]]], form: Form | None = None,
              name: str = "phiếu đang mở") -> Submission:
    """Read a workbook given as its cell values, sheet name -> rows from A1 (what Excel shows on screen,
    e.g. through xlwings); `name` is the workbook's file name for messages. Empty cells may be "" or
    None, dates may be midnight datetimes. Merged cells and formulas are not seen this way."""
    return read_workbook(grid, form, name).submission


def _read_posted(grid: Mapping[str, list[list[Any]]], form: Form, name: str) -> Reading:
    sheets = {sheet: _Sheet(sheet, [[_grid_cell(v) for v in row] for row in rows[:MAX_ROWS]])
              for sheet, rows in grid.items()}
    return _read(list(sheets), sheets.__getitem__, Path(name), form)


def _grid_cell(value: Any) -> Any:
    """A cell as python-calamine gives it: "" when empty, a date for a date-only cell."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def _read(sheet_names: list[str], read_sheet: Callable[[str], _Sheet], path: Path, form: Form,
          hidden: frozenset[str] = frozenset()) -> Reading:
    """The submission in the sheets (`read_sheet` gives a sheet by its name, reading it when asked; `hidden` names
    the sheets Excel does not show), and the cells of the sheets it read."""
    read: dict[str, _Sheet] = {}

    def sheet_at(name: str) -> _Sheet:
        if name not in read:
            read[name] = read_sheet(name)
        return read[name]

    wanted = (L.SHEET_LISTS, L.SHEET_META, L.SHEET_DATA, *(lst.sheet for lst in form.lists))
    names = _sheet_names(sheet_names, wanted, hidden, path)
    form_id, version = _read_stamp(names, sheet_at, path, form)
    sub = Submission(path=path, form_id=form_id, version=version)
    for required in (L.SHEET_META, L.SHEET_DATA):
        if label_key(required) not in names:
            raise BaocaoError(f"thiếu sheet «{required}» (bị xóa hoặc đổi tên)", path=str(path), code="sai-bieu-mau")
    _values_sheet(sheet_at(names[label_key(L.SHEET_META)]), form.metadata, form, sub, sub.meta, False)
    _values_sheet(sheet_at(names[label_key(L.SHEET_DATA)]), form.indicators, form, sub, sub.values, True)
    for lst in form.lists:
        if label_key(lst.sheet) not in names:
            _problem(sub, "thieu-sheet", Loc(lst.sheet, "A1"), sheet=lst.sheet)
            sub.lists[lst.id] = []
            continue
        sub.lists[lst.id] = _list_sheet(sheet_at(names[label_key(lst.sheet)]), lst, form, sub)
    order = {name: i for i, name in enumerate(sheet_names)}
    stamp = names[label_key(L.SHEET_LISTS)]  # only its stamp is read: the dropdowns' lists are the template's
    return Reading(sub, {name: read[name].rows[:STAMP_ROWS] if name == stamp else read[name].rows
                         for name in sorted(read, key=order.__getitem__)})


def _kept(rows: list[list[Any]]) -> list[list[Any]]:
    """A sheet's cells as Nộp keeps and hashes them: the same for a file read by calamine and for the grid
    Excel posts of it (empty as None, whole numbers as int, a midnight datetime as its date, no trailing blanks)."""
    out = []
    for row in rows:
        cells = [_kept_cell(v) for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


def _kept_cell(v: Any) -> Any:
    if v == "" or v is None:
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if isinstance(v, datetime) and v.time() == datetime.min.time():
        return v.date()
    return v


def _sheet_names(sheet_names: list[str], wanted: tuple[str, ...], hidden: frozenset[str],
                 path: Path) -> dict[str, str]:
    """Key of each sheet the form reads -> the workbook's sheet: the one of exactly that name, else the one
    whose name differs only in spaces, case or the Unicode form of its accents. Two sheets that both answer
    to one name (a hidden "Số liệu " beside "Số liệu") are refused: which one holds the figures is not ours
    to guess, and a hidden copy must never replace what the officer sees."""
    keys = {label_key(w) for w in wanted}
    by_key: dict[str, list[str]] = {}
    for name in sheet_names:
        if label_key(name) in keys:
            by_key.setdefault(label_key(name), []).append(name)
    for found in by_key.values():
        if len(found) > 1:
            shown = " và ".join(f"«{n}»{' (đang ẩn)' if n in hidden else ''}" for n in found)
            raise BaocaoError(
                f"có {len(found)} sheet cùng tên {shown}, khác nhau ở khoảng trắng, chữ hoa hoặc cách gõ dấu; "
                "hãy xóa sheet thừa (kể cả sheet đang ẩn: chuột phải vào tên sheet › Unhide) rồi gửi lại",
                path=str(path), code="sai-bieu-mau")
    return {key: found[0] for key, found in by_key.items()}


def read_sheets(path: Path | str, wanted: tuple[str, ...]) -> dict[str, list[list[Any]]]:
    """The rows of the `wanted` sheets a workbook holds (matched as the form's sheets are: case, spaces and accents
    aside), through the same guards as a unit's workbook: a file that is not a sound .xlsx/.xlsm is refused in
    Vietnamese, a sheet with cells far out is refused before it is read. A wanted sheet the file lacks is absent."""
    path = Path(path)
    try:
        with sniff(path) as zf:
            scanner = Scanner(zf)
            book = pc.CalamineWorkbook.from_path(str(path))
            try:
                keys = {label_key(w): w for w in wanted}
                return {keys[label_key(name)]: _Sheet.from_calamine(book, scanner, name, path).rows
                        for name in book.sheet_names if label_key(name) in keys}
            finally:
                book.close()
    except BaocaoError:
        raise
    except pc.PasswordError:
        raise BaocaoError("tệp được đặt mật khẩu; hãy gỡ mật khẩu rồi chọn lại", path=str(path),
                          code="tep-co-mat-khau") from None
    except UnsafeXml as exc:
        raise BaocaoError(f"{exc}; tệp không do Excel tạo ra", path=str(path), code="noi-dung-khong-an-toan") from None
    except Exception as exc:
        raise _refusal(exc, path) from None
