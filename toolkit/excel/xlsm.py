"""Build the macro-enabled workbooks (.xlsm) with their buttons, on any OS and without Excel.

The VBA project is made from source: the button macros in macros/*.bas (package
`toolkit.macros`) plus xlwings' standalone module and its Dictionary class taken
from the installed xlwings package, so the VBA side always matches the Python side.
pyOpenVBA writes a source-only project (Excel compiles it on first open) whose
document modules match XlsxWriter's default code names (ThisWorkbook, Sheet1..N);
XlsxWriter embeds it with add_vba_project and wires each button to its macro.

The handlers in toolkit.excel.buttons find every cell they use through the defined names
below, never through positions.
"""
from __future__ import annotations

import importlib.util
import io
import tempfile
from pathlib import Path

import xlsxwriter

from toolkit import shipped
from toolkit.atomic import atomic_path
from toolkit.city import ACCEPTED_HEADS, CONTENT_HEADS, SHEET_ACCEPTED, SHEET_CONTENT
from toolkit.definition import Form, load_form
from toolkit.definition import layout as L
from toolkit.errors import BaocaoError
from toolkit.excel.check_sheet import PANEL_ROWS, results_row
from toolkit.excel.workbook import CREATED, build

INTAKE_NAME = "phieu_so_lieu.xlsm"
CITY_NAME = "tong_hop.xlsm"

# Defined names shared with toolkit.xl.
NAME_STATUS = "XL_TRANG_THAI"
NAME_RESULTS = "XL_KET_QUA"  # top-left cell of the table a handler writes (header row included)
NAME_REPORT_TYPE = "XL_LOAI_BAO_CAO"
NAME_MARKED = "XL_DANH_DAU"  # cells coloured by the last check, restored before the next one
NAME_REPORT_LIST = "DM_LOAI_BAO_CAO"
NAME_FOLDER = "XL_THU_MUC"
NAME_PERIOD = "XL_KY"
NAME_YEAR = "XL_NAM"
NAME_NEW_DEADLINE = "XL_HAN_MOI"  # the new date the Công văn đôn đốc button asks units to meet
NAME_PERIOD_LIST = "DM_KY_BAO_CAO"
NAME_CONTENT_LIST = "DM_MUC_NOI_DUNG"  # the headings of the city report's own paragraphs (sheet «Nội dung»)
CONTENT_ROWS = 60  # rows laid out for paragraphs and for accepted anomalies
NAME_RECEIPT = "XL_BIEN_NHAN"  # the receipt the city server writes after Nộp: code, version, time received
# What macros/RemoteButtons.bas says when the server gives no answer (VBA source is ASCII only).
REMOTE_MESSAGES = {
    "XL_DANG_GUI": "Đang gửi phiếu tới máy chủ của thành phố…",
    "XL_LOI_KET_NOI": "Không kết nối được máy chủ của thành phố: kiểm tra mạng/Internet của máy rồi bấm lại; nếu "
                      "vẫn không được, báo bộ phận công nghệ thông tin của Sở Nội vụ",
    "XL_LOI_KHONG_TRA_LOI": "Máy chủ của thành phố không trả lời (quá thời gian chờ hoặc đường truyền bị ngắt); "
                            "phiếu chưa được kiểm tra hay nộp. Chờ một lát rồi bấm lại.",
    "XL_LOI_AP_DUNG": "Excel không ghi được kết quả máy chủ gửi về vào phiếu; bấm lại, nếu vẫn lỗi hãy báo Sở "
                      "Nội vụ kèm nội dung ô này",
}

SHEET_CONF = "xlwings.conf"  # the name xlwings' VBA looks for
SHEET_TOOLS = "Công cụ"
SHEET_CITY = "Tổng hợp thành phố"

INTAKE_BUTTONS = (("CheckWorkbook", "Kiểm tra"), ("MakeReport", "Tạo báo cáo"),
                  ("CheckSetup", "Kiểm tra cài đặt"))
REMOTE_BUTTONS = (("CheckWorkbook", "Kiểm tra"), ("SubmitWorkbook", "Nộp"), ("MakeReport", "Tạo báo cáo"))
# xlwings' remote-interpreter client, from the installed package (what "xlwings quickstart --server" imports).
REMOTE_CLIENT = ("Remote.bas", "IWebAuthenticator.cls", "WebClient.cls", "WebRequest.cls", "WebResponse.cls",
                 "WebHelpers.bas")
# one a row beside the inputs: «Công văn đôn đốc» beside its «Hạn mới»
CITY_BUTTONS = (("ConsolidateFolder", "Tổng hợp"), ("CityReport", "Báo cáo tổng hợp"),
                ("CheckSetup", "Kiểm tra cài đặt"), ("CityDispatch", "Công văn đôn đốc"))
RESULT_COLUMNS = ("Mã lỗi", "Thông báo", "Mức độ", "Vị trí")  # the table the «Kiểm tra» button writes
RESULT_ROWS = 300  # rows below it formatted for the results (wrapped messages)

def macro_source(name: str) -> str:
    """A .bas file of the package, with the CRLF line ends the VBA editor uses."""
    text = (shipped("macros") / name).read_text(encoding="ascii")
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def xlwings_conf() -> list[tuple[str, str]]:
    """Rows of the xlwings.conf sheet, from macros/xlwings.conf ("KEY","VALUE" per line)."""
    text = (shipped("macros") / "xlwings.conf").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition(",")
            rows.append((key.strip().strip('"'), value.strip().strip('"')))
    return rows


def _xlwings_dir() -> Path:
    # Located without importing xlwings: only toolkit.excel.buttons imports it.
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise BaocaoError("chưa cài gói xlwings (pip install xlwings)")
    return Path(list(spec.submodule_search_locations)[0])


def xlwings_modules(remote: bool = False) -> list[tuple[str, str, bool]]:
    """xlwings' standalone VBA: (name, source, is_class) read from the installed package; with `remote`,
    also the client of xlwings' remote interpreter (RunServerPython)."""
    from pyopenvba import ExcelFile

    folder = _xlwings_dir()
    with ExcelFile(folder / "quickstart_standalone.xlsm") as book:
        dictionary = book.get_module("Dictionary")  # the Mac replacement for Scripting.Dictionary
    modules = [("xlwings", (folder / "xlwings.bas").read_text(encoding="ascii"), False),
               ("Dictionary", dictionary, True)]
    for name in REMOTE_CLIENT if remote else ():
        text = (folder / "addin" / name).read_text(encoding="ascii").replace("\r\n", "\n")
        # An exported class starts with a VERSION/BEGIN..END header that the VBA project does not store.
        text = text[text.index("Attribute VB_Name"):].replace("\n", "\r\n")
        modules.append((Path(name).stem, text, name.endswith(".cls")))
    return modules


def vba_project(sheet_count: int, bas_files: tuple[str, ...], remote: bool = False) -> bytes:
    """vbaProject.bin for a workbook of `sheet_count` sheets holding the given macro files."""
    from pyopenvba import ExcelFile, VBAModuleKind

    modules = [(Path(f).stem, macro_source(f), False) for f in bas_files] + xlwings_modules(remote)
    with tempfile.TemporaryDirectory() as tmp:
        # A bare workbook with as many sheets makes pyOpenVBA add the document modules
        # Sheet1..N that XlsxWriter's default code names refer to.
        bare, out = Path(tmp) / "bare.xlsm", Path(tmp) / "out.xlsm"
        wb = xlsxwriter.Workbook(str(bare))
        for _ in range(sheet_count):
            wb.add_worksheet()
        wb.close()
        with ExcelFile(bare) as book:
            project = book.add_vba_project()
            for name, source, is_class in modules:
                kind = VBAModuleKind.other if is_class else VBAModuleKind.standard
                project.add_module(name, source, kind=kind)
            book.save(out)
        with ExcelFile(out) as book:
            return book.vba_project_bytes()


def report_types() -> list[tuple[str, str]]:
    """(code, Vietnamese title) of the unit-level reports offered in the dropdown."""
    return [(t.code, t.title) for t in load_form().reports.values() if not t.city]


def _conf_sheet(wb: xlsxwriter.Workbook, rows: list[tuple[str, str]] | None = None) -> None:
    ws = wb.add_worksheet(SHEET_CONF)
    for r, (key, value) in enumerate(xlwings_conf() if rows is None else rows):
        ws.write_string(r, 0, key)
        if value:
            ws.write_string(r, 1, value)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 60)
    ws.hide()


def _tools_sheet(wb: xlsxwriter.Workbook, lists: dict[str, list[str]], texts: dict[str, str] | None = None) -> None:
    """Hidden sheet: the dropdown lists, the memory of coloured cells and the texts macros show (`texts`)."""
    ws = wb.add_worksheet(SHEET_TOOLS)
    ws.write_string(0, 0, "Ô đã tô màu ở lần kiểm tra trước")
    wb.define_name(NAME_MARKED, f"='{SHEET_TOOLS}'!$B$1")
    for r, (name, text) in enumerate((texts or {}).items(), start=2):
        ws.write_string(r, 0, name)
        ws.write_string(r, 1, text)
        wb.define_name(name, f"='{SHEET_TOOLS}'!$B${r + 1}")
    for c, (name, items) in enumerate(lists.items(), start=3):
        for r, item in enumerate(items):
            ws.write_string(r, c, item)
        col = xlsxwriter.utility.xl_col_to_name(c, True)
        wb.define_name(name, f"='{SHEET_TOOLS}'!{col}$1:{col}${len(items)}")
    ws.hide()


def _intake_panel(wb, form: Form, fmt, buttons: tuple[tuple[str, str], ...], receipt: bool = False) -> None:
    """Kiểm tra opens with the buttons in its frozen top rows, beside the report type and the status; the
    other sheets the officer works on get the «Kiểm tra» button and the status in their frozen rows.
    With `receipt`, the row under the status holds the receipt the city server writes after Nộp."""
    fp = _panel_formats(wb, {"font_name": "Times New Roman", "font_size": 12, "valign": "vcenter"})
    ws = wb.get_worksheet_by_name(L.SHEET_CHECK)
    report_row, status_row = PANEL_ROWS
    for r in range(1, status_row + 1):
        ws.set_row(r, 26)
    report = {"validate": "list", "source": "=" + NAME_REPORT_LIST, "error_type": "stop",
              "error_title": "Loại báo cáo", "error_message": "Chọn loại báo cáo trong danh sách."}
    ws.write_string(report_row, 0, "Loại báo cáo:", fp["label"])
    ws.write_blank(report_row, 1, None, fp["input"])
    ws.data_validation(report_row, 1, report_row, 1, report)
    wb.define_name(NAME_REPORT_TYPE, f"='{L.SHEET_CHECK}'!{_abs(report_row, 1)}")
    ws.write_string(status_row, 0, "Trạng thái:", fp["label"])
    ws.merge_range(status_row, 1, status_row, 6, "", fp["status"])
    wb.define_name(NAME_STATUS, f"='{L.SHEET_CHECK}'!{_abs(status_row, 1)}")
    if receipt:
        ws.set_row(status_row + 1, 26)
        ws.write_string(status_row + 1, 0, "Biên nhận:", fp["label"])
        ws.merge_range(status_row + 1, 1, status_row + 1, 6, "", fp["receipt"])  # locked: only Nộp writes it
        wb.define_name(NAME_RECEIPT, f"='{L.SHEET_CHECK}'!{_abs(status_row + 1, 1)}")
    # «Tạo báo cáo» beside its type
    rows = {"CheckWorkbook": 1, "CheckSetup": 2, "SubmitWorkbook": 2, "MakeReport": report_row}
    for macro, caption in buttons:
        ws.insert_button(rows[macro], 2, {"macro": macro, "caption": caption, "width": 150, "height": 32,
                                    "x_offset": 4, "y_offset": 1})
    head = results_row(form)
    ws.write_string(head - 1, 0, "Kết quả khi bấm nút «Kiểm tra» (gồm cả các kiểm tra không có công thức)",
                    fp["label"])
    for c, name in enumerate(RESULT_COLUMNS):
        ws.write_string(head, c, name, fp["head"])
    for r in range(head + 1, head + 1 + RESULT_ROWS):
        ws.write_blank(r, 1, None, fmt.text)
    wb.define_name(NAME_RESULTS, f"='{L.SHEET_CHECK}'!{_abs(head, 0)}")
    check_macro, check_caption = buttons[0]
    for sheet, row, col in _button_places(form):
        other = wb.get_worksheet_by_name(sheet)
        other.set_row(row, 26)
        other.insert_button(row, col, {"macro": check_macro, "caption": check_caption, "width": 120,
                                       "height": 32, "x_offset": 2, "y_offset": 1})
        other.write_formula(row, col + 2, f'={NAME_STATUS}&""', fp["status_mirror"], "")


def _button_places(form: Form) -> list[tuple[str, int, int]]:
    """(sheet, row, column) of the «Kiểm tra» button on each input sheet: in the frozen rows above the headers,
    left on Thông tin chung and Số liệu (an empty row), right of the short subtitle on the list sheets."""
    places = [(L.SHEET_META, L.HEADER_ROW - 1, 0), (L.SHEET_DATA, L.HEADER_ROW - 1, 0)]
    for lst in form.lists:
        places.append((lst.sheet, 1, min(3, len(lst.columns) - 2)))
    return places


def _abs(r: int, c: int) -> str:
    return xlsxwriter.utility.xl_rowcol_to_cell(r, c, True, True)


def _panel(wb, ws, sheet: str, top: int, col: int, fields: list[tuple[str, str, dict | None]],
           buttons: tuple[tuple[str, str], ...], fmt: dict) -> None:
    """Labelled input cells from row `top`, the status cell, the buttons to their right and the results header.

    `fields` are (defined name, label, data validation or None)."""
    def cell(r, c):
        return xlsxwriter.utility.xl_rowcol_to_cell(r, c, True, True)

    rows = fields + [(NAME_STATUS, "Trạng thái", None)]
    for i, (name, label, valid) in enumerate(rows):
        r = top + i
        ws.set_row(r, 30)
        ws.write_string(r, col, label, fmt["label"])
        kind = "status" if name == NAME_STATUS else "date_input" if (valid or {}).get("validate") == "date" else "input"
        ws.merge_range(r, col + 1, r, col + 2, "", fmt[kind])
        wb.define_name(name, f"='{sheet}'!{cell(r, col + 1)}")
        if valid:
            ws.data_validation(r, col + 1, r, col + 1, valid)
    for i, (macro, caption) in enumerate(buttons):
        ws.insert_button(top + i, col + 3, {"macro": macro, "caption": caption, "width": 150, "height": 34,
                                            "x_offset": 8, "y_offset": 3})
    head = top + max(len(rows), len(buttons)) + 1
    for c, name in enumerate(RESULT_COLUMNS):
        ws.write_string(head, col + c, name, fmt["head"])
    wb.define_name(NAME_RESULTS, f"='{sheet}'!{cell(head, col)}")


def _panel_formats(wb, base) -> dict:
    return {"label": wb.add_format({**base, "bold": True, "border": 1}),
            "input": wb.add_format({**base, "border": 1, "locked": False, "bg_color": "#E2EFDA"}),
            "status": wb.add_format({**base, "border": 1, "locked": False, "text_wrap": True,
                                     "bg_color": "#FFF2CC"}),
            "date_input": wb.add_format({**base, "border": 1, "locked": False, "bg_color": "#E2EFDA",
                                         "num_format": "dd/mm/yyyy", "align": "left"}),
            "receipt": wb.add_format({**base, "border": 1}),
            "text_input": wb.add_format({**base, "border": 1, "locked": False, "bg_color": "#E2EFDA",
                                         "text_wrap": True, "valign": "top"}),
            "head": wb.add_format({**base, "bold": True, "border": 1, "bg_color": "#D9E1F2"}),
            "status_mirror": wb.add_format({**base, "italic": True, "font_color": "#595959"}),
            "title": wb.add_format({**base, "bold": True, "font_size": 14})}


def _add_vba(wb, bas_files: tuple[str, ...], remote: bool = False) -> None:
    wb.add_vba_project(io.BytesIO(vba_project(len(wb.worksheets()), bas_files, remote)), is_stream=True)


def build_intake(form: Form, out: Path | str, data: dict | None = None, server: tuple[str, str] | None = None
                 ) -> Path:
    """The intake workbook of `form` (filled from `data` when given) with the Kiểm tra / Tạo báo cáo /
    Kiểm tra cài đặt buttons, run by Python on the PC.

    With `server` = (URL, unit key) the buttons are Kiểm tra / Nộp / Tạo báo cáo, run by the city's
    baocao server through xlwings' RunServerPython: the PC needs Excel only."""
    def extra(wb, fmt) -> None:
        lists = {NAME_REPORT_LIST: [label for _, label in report_types()]}
        if server is None:
            _intake_panel(wb, form, fmt, INTAKE_BUTTONS)
            _conf_sheet(wb)
            _tools_sheet(wb, lists)
            _add_vba(wb, ("IntakeButtons.bas",))
            return
        url, key = server
        _intake_panel(wb, form, fmt, REMOTE_BUTTONS, receipt=True)
        _conf_sheet(wb, [("BAOCAO_MAY_CHU", url), ("AUTH", key)])
        _tools_sheet(wb, lists, REMOTE_MESSAGES)
        _add_vba(wb, ("RemoteButtons.bas",), remote=True)

    return build(form, Path(out), data, extra=extra)


def build_city(form: Form, out: Path | str) -> Path:
    """The city workbook: folder, period, year and new-date cells, the Tổng hợp / Báo cáo tổng hợp / Công văn
    đôn đốc buttons."""
    out = Path(out)
    with atomic_path(out) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
        wb.set_properties({"title": "Tổng hợp báo cáo cải cách hành chính cấp xã", "author": "baocao",
                           "created": CREATED, "subject": f"{form.form_id} {form.version}"})
        fp = _panel_formats(wb, {"font_name": "Times New Roman", "font_size": 12, "valign": "vcenter"})
        ws = wb.add_worksheet(SHEET_CITY)
        for c, width in enumerate((24, 30, 40, 24)):
            ws.set_column(c, c, width)
        ws.write_string(0, 0, "TỔNG HỢP PHIẾU SỐ LIỆU CỦA CÁC XÃ, PHƯỜNG, ĐẶC KHU", fp["title"])
        ws.write_string(1, 0, "Nhập đường dẫn thư mục chứa các phiếu đã nhận, chọn kỳ và năm rồi bấm «Tổng hợp». "
                              "Công văn đôn đốc: nhập hạn mới (để trống: hôm nay + "
                              f"{form.deadline_days} ngày) rồi bấm «Công văn đôn đốc». "
                              "Kết quả được ghi vào thư mục chứa tệp này.")
        period = {"validate": "list", "source": "=" + NAME_PERIOD_LIST, "error_type": "stop",
                  "error_title": "Kỳ báo cáo", "error_message": "Chọn kỳ báo cáo trong danh sách."}
        year = {"validate": "integer", "criteria": "between", "minimum": 2025, "maximum": 2100,
                "error_type": "stop", "error_title": "Năm", "error_message": "Nhập năm từ 2025 đến 2100."}
        # Excel stops a date not after today as it is typed; the button checks it again (a date typed days ago)
        new_date = {"validate": "date", "criteria": ">", "value": "=TODAY()", "ignore_blank": True,
                    "error_type": "stop", "error_title": "Hạn mới",
                    "error_message": "Nhập một ngày sau hôm nay, dạng ngày/tháng/năm (ví dụ 20/12/2026).",
                    "input_title": "Hạn mới", "input_message": "Ngày công văn đôn đốc đề nghị các đơn vị hoàn "
                                                               f"thành; để trống: hôm nay + {form.deadline_days} ngày."}
        _panel(wb, ws, SHEET_CITY, 3, 0, [(NAME_FOLDER, "Thư mục chứa phiếu", None),
                                          (NAME_PERIOD, "Kỳ báo cáo", period), (NAME_YEAR, "Năm", year),
                                          (NAME_NEW_DEADLINE, "Hạn mới (công văn đôn đốc)", new_date)],
               CITY_BUTTONS, fp)
        content = [c["label"] for c in form.city_report.get("content", [])]
        _content_sheet(wb, fp, content)
        _accepted_sheet(wb, fp)
        _conf_sheet(wb)
        _tools_sheet(wb, {NAME_PERIOD_LIST: form.choice_labels("ky_bao_cao"), NAME_CONTENT_LIST: content})
        _add_vba(wb, ("CityButtons.bas",))
        wb.close()
    return out


def _content_sheet(wb, fp: dict, items: list[str]) -> None:
    """«Nội dung»: the city report's own paragraphs, one a row, each under a heading chosen from a list."""
    ws = _officer_sheet(wb, fp, SHEET_CONTENT, (36, 110), CONTENT_HEADS,
                        "NỘI DUNG BÁO CÁO TỔNG HỢP DO SỞ NỘI VỤ VIẾT",
                        "Mỗi dòng một đoạn văn: chọn mục ở cột A, viết đoạn văn ở cột B (Alt+Enter để xuống dòng "
                        "thành đoạn mới). Báo cáo chính thức cần có nội dung cho Đánh giá chung, Nhiệm vụ trọng tâm "
                        "kỳ tới và Kiến nghị, đề xuất; thiếu thì chỉ lập được bản dự thảo.")
    choose = {"validate": "list", "source": "=" + NAME_CONTENT_LIST, "error_type": "stop",
              "error_title": "Mục", "error_message": "Chọn mục trong danh sách."}
    ws.data_validation(4, 0, 3 + CONTENT_ROWS, 0, choose)
    for r in range(4, 4 + CONTENT_ROWS):
        ws.write_blank(r, 0, None, fp["input"])
        ws.write_blank(r, 1, None, fp["text_input"])


def _accepted_sheet(wb, fp: dict) -> None:
    """«Bất thường đã chấp nhận»: the anomalies the city officer has checked and accepts as true."""
    ws = _officer_sheet(wb, fp, SHEET_ACCEPTED, (12, 20, 16, 70, 24), ACCEPTED_HEADS,
                        "SỐ LIỆU BẤT THƯỜNG ĐÃ XÁC MINH, CHẤP NHẬN",
                        "Chép Mã ĐVHC, Mã chỉ tiêu và Giá trị từ sheet «Bất thường» của sổ tổng hợp khi đã xác minh "
                        "số liệu là đúng; lần tổng hợp sau số liệu đó được cộng. Đơn vị nộp lại giá trị khác thì "
                        "giá trị mới được kiểm tra lại.")
    for r in range(4, 4 + CONTENT_ROWS):
        for c in range(len(ACCEPTED_HEADS)):
            ws.write_blank(r, c, None, fp["text_input"] if c == 3 else fp["input"])


def _officer_sheet(wb, fp: dict, name: str, widths: tuple[int, ...], heads: tuple[str, ...], title: str, note: str):
    """A sheet of tong_hop.xlsm the city officer types into: title, note, header row 4, panes frozen below it
    (the city's readers find the header by its labels, content.from_grid)."""
    ws = wb.add_worksheet(name)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.write_string(0, 0, title, fp["title"])
    ws.write_string(1, 0, note)
    for c, head in enumerate(heads):
        ws.write_string(3, c, head, fp["head"])
    ws.freeze_panes(4, 0)
    return ws


def build_units(url: str, keys: list[tuple[str, str]], key_file: Path, folder: Path | str) -> list[Path]:
    """One workbook per (unit code, key) of the key file, its code and name filled in, its buttons on the city
    server."""
    if not url.startswith(("https://", "http://")):
        raise BaocaoError(f"địa chỉ máy chủ «{url}» phải bắt đầu bằng https:// (http:// chỉ để thử trên một máy)")
    form = load_form()
    out = []
    for code, key in keys:
        unit = form.unit_by_code(code)
        if unit is None:
            raise BaocaoError(f"mã đơn vị «{code}» không có trong danh sách", path=str(key_file))
        data = {"thong_tin": {"MA_DVHC": unit.code, "TEN_DON_VI": unit.name}}
        out.append(build_intake(form, Path(folder) / f"phieu_{unit.code}.xlsm", data, server=(url.rstrip("/"), key)))
    return out


def build_all(folder: Path | str) -> list[Path]:
    """Both macro-enabled workbooks into `folder` (workbooks/ in the repository)."""
    form = load_form()
    folder = Path(folder)
    return [build_intake(form, folder / INTAKE_NAME), build_city(form, folder / CITY_NAME)]
