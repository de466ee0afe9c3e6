"""Build the folder of broken inputs the checker must survive.

`python tests/bad_inputs.py OUT_DIR` writes them for a person to try by hand;
the tests build them in a temporary folder. Each case maps a file name to what
must happen: ("refuse", text of the Vietnamese refusal) or ("finding", code).
"""
from __future__ import annotations

import re
import sys
import unicodedata
import zipfile
from datetime import date, time, timedelta
from pathlib import Path

import openpyxl

from toolkit.definition import layout as L

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _openpyxl(src: Path, out: Path, edit) -> Path:
    wb = openpyxl.load_workbook(src)
    edit(wb)
    wb.save(out)
    return out


def _rows(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}


def _set_values(values: dict):
    def edit(wb):
        ws = wb[L.SHEET_DATA]
        rows = _rows(ws)
        for code, v in values.items():
            ws.cell(rows[code], 5).value = v
    return edit


def _rezip(src: Path, out: Path, change) -> Path:
    """Copy the zip, passing each member's bytes through `change(name, data)`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, change(item.filename, zin.read(item.filename)))
    return out


def _sheet_part(src: Path, sheet: str) -> str:
    from toolkit.intake.xlsx_scan import sheet_paths
    with zipfile.ZipFile(src) as zf:
        return sheet_paths(zf)[sheet]


def _value_loc(src: Path, code: str):
    from toolkit.intake.reader import read_submission
    return read_submission(src).loc(code)


def _raw_cell(src: Path, out: Path, code: str, attrs: str, inner: str) -> Path:
    """Copy `src` with the value cell of `code` written as raw XML: <c r=.. {attrs}>{inner}</c>."""
    loc = _value_loc(src, code)
    part = _sheet_part(src, loc.sheet)

    def change(name, data):
        if name != part:
            return data
        text = data.decode("utf-8")
        def replace(m):
            style = re.search(r' s="\d+"', m.group(1))
            return f'<c r="{loc.cell}"{style.group(0) if style else ""} {attrs}>{inner}</c>'
        return re.sub(rf'<c r="{loc.cell}"([^>]*?)(/>|>.*?</c>)', replace, text, count=1).encode("utf-8")
    return _rezip(src, out, change)


def _error_cell(src: Path, out: Path, code: str, error: str) -> Path:
    return _raw_cell(src, out, code, 't="e"', f"<f>{error}+1</f><v>{error}</v>")


def _change_part(src: Path, out: Path, part_of, edit) -> Path:
    """Copy `src` passing one part (found by `part_of(src)`) through `edit(bytes)`; None drops the part."""
    part = part_of(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                data = edit(data)
                if data is None:
                    continue
            zout.writestr(item.filename, data)
    return out


def _million_rows(src: Path, out: Path) -> Path:
    part = _sheet_part(src, "Nội dung")
    filler = "".join(f'<row r="{r}"><c r="C{r}"><v>1</v></c></row>' for r in range(5000, 1_005_000))

    def change(name, data):
        if name != part:
            return data
        text = data.decode("utf-8")
        text = re.sub(r"<dimension ref=\"[^\"]*\"/>", '<dimension ref="A1:C1004999"/>', text)
        return text.replace("</sheetData>", filler + "</sheetData>").encode("utf-8")
    return _rezip(src, out, change)


def _zip_bomb(out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(400):  # 400 MB of zeros, about 400 KB packed
                fh.write(chunk)
    return out


def _xxe(src: Path, out: Path) -> Path:
    def change(name, data):
        if name == "xl/workbook.xml":
            text = data.decode("utf-8")
            doctype = ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
                       '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
            return text.replace("?>", "?>" + doctype, 1).encode("utf-8")
        return data
    return _rezip(src, out, change)


def _far_cell(src: Path, out: Path, sheet: str, ref: str) -> Path:
    """A cell holding 1 at `ref` (e.g. XFD1048576, the last cell of a sheet) added to `sheet`."""
    part = _sheet_part(src, sheet)
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    def change(name, data):
        if name != part:
            return data
        return data.replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}"><v>1</v></c></row></sheetData>'.encode(), 1)
    return _rezip(src, out, change)


def _noise_block(size: int, ratio: int, seed: int) -> bytes:
    """`size` bytes of XML-comment-safe text that deflate packs about `ratio` times: mostly a repeated
    formula, with random hex words often enough that the file stays under the zip-bomb ratio."""
    import random

    rng = random.Random(seed)
    unit, out = b"<f>SUM(A1:A9)</f>", bytearray()
    while len(out) < size:
        out += unit * rng.randint(ratio // 4, ratio // 2) + rng.randbytes(4).hex().encode()
    return bytes(out[:size])


def _stream_part(src: Path, out: Path, part: str, before: bytes, pieces) -> Path:
    """Copy `src`, writing `pieces` (an iterable of bytes) into `part` just before `before`, streamed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename != part:
                zout.writestr(item.filename, data)
                continue
            at = data.index(before)
            with zout.open(item.filename, "w", force_zip64=True) as fh:
                fh.write(data[:at])
                for piece in pieces:
                    fh.write(piece)
                fh.write(data[at:])
    return out


def _long_comment(src: Path, out: Path, megabytes: int, inside: bool = False) -> Path:
    """A comment of `megabytes` full of <f> in «Số liệu», after </sheetData> (or inside it)."""
    block = _noise_block(1 << 20, 90, megabytes)
    pieces = [b"<!-- ", *([block] * megabytes), b" -->"]
    return _stream_part(src, out, _sheet_part(src, L.SHEET_DATA), b"</sheetData>" if inside else b"</worksheet>",
                        pieces)


def _many_shared_strings(src: Path, out: Path, count: int) -> Path:
    """`count` one-letter strings added to the shared strings (each its own allocation in a reader)."""
    import random

    rng = random.Random(count)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    per_block = 50_000
    block = "".join(f"<si><t>{rng.choice(letters)}</t></si>" for _ in range(per_block)).encode()
    pieces = [block] * (count // per_block)
    return _stream_part(src, out, "xl/sharedStrings.xml", b"</sst>", pieces)


def _control_text(sheet: str, column: int, row_of, text: str):
    """Set one text cell; `text` holds Excel's escapes (_x000B_), which openpyxl writes as they are."""
    def edit(wb):
        ws = wb[sheet]
        ws.cell(row_of(ws), column).value = text
    return edit


def _shadow_sheet(title: str, code: str, value):
    """A hidden copy of «Số liệu» under `title` whose figure for `code` differs."""
    def edit(wb):
        copy = wb.copy_worksheet(wb[L.SHEET_DATA])
        copy.title = title
        copy.cell(_rows(copy)[code], 5).value = value
        copy.sheet_state = "hidden"
    return edit


def _nfd(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    c.value = unicodedata.normalize("NFD", c.value)


def build_cases(filled: Path, folder: Path) -> dict[str, tuple[Path, str, str]]:
    """name -> (path, "refuse" | "finding" | "ok", expected text or finding code)."""
    folder.mkdir(parents=True, exist_ok=True)
    f = folder
    cases: dict[str, tuple[Path, str, str]] = {}

    def add(name, path, kind, expected):
        cases[name] = (path, kind, expected)

    (f / "khong_phai_zip.xlsx").write_text("đây không phải sổ tính", encoding="utf-8")
    add("not-a-zip", f / "khong_phai_zip.xlsx", "refuse", "không phải tệp Excel")
    (f / "cat_ngang.xlsx").write_bytes(filled.read_bytes()[:4000])
    add("truncated-zip", f / "cat_ngang.xlsx", "refuse", "tệp hỏng")
    (f / "excel_cu.xls").write_bytes(OLE + b"\0" * 4096)
    add("xls", f / "excel_cu.xls", "refuse", "Excel 97-2003")
    with zipfile.ZipFile(f / "calc.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    add("ods", f / "calc.ods", "refuse", "OpenDocument")
    (f / "so_lieu.csv.xlsx").write_text("MA_DVHC,HS_TIEP_NHAN\n11713,5892\n", encoding="utf-8")
    add("csv-renamed", f / "so_lieu.csv.xlsx", "refuse", "CSV")
    from msoffcrypto.format.ooxml import OOXMLFile  # ships with oletools (test extra)

    with filled.open("rb") as src, (f / "mat_khau.xlsx").open("wb") as out:
        OOXMLFile(src).encrypt("matkhau", out)  # a real password-protected workbook, as Excel writes it
    add("password", f / "mat_khau.xlsx", "refuse", "đặt mật khẩu")
    (f / "rong.xlsx").write_bytes(b"")
    add("empty", f / "rong.xlsx", "refuse", "tệp rỗng")
    (f / "~$phieu.xlsx").write_bytes(b"\x0bNguoi dung" + b"\0" * 150)
    add("lock-file", f / "~$phieu.xlsx", "refuse", "không phải tệp Excel")
    with zipfile.ZipFile(f / "van_ban.docx.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    add("docx-renamed", f / "van_ban.docx.xlsx", "refuse", "không phải sổ tính Excel")
    add("other-form", _openpyxl(filled, f / "mau_khac.xlsx",
                                lambda wb: wb[L.SHEET_LISTS].cell(1, 2, "MAU-KHAC")), "refuse", "MAU-KHAC")
    add("other-version", _openpyxl(filled, f / "phien_ban_cu.xlsx",
                                   lambda wb: wb[L.SHEET_LISTS].cell(2, 2, "0.9")), "refuse", "phiên bản 0.9")
    add("missing-sheet", _openpyxl(filled, f / "thieu_sheet.xlsx", lambda wb: wb.remove(wb[L.SHEET_DATA])),
        "refuse", "thiếu sheet «Số liệu»")
    add("renamed-sheet", _openpyxl(filled, f / "doi_ten_sheet.xlsx",
                                   lambda wb: setattr(wb[L.SHEET_META], "title", "TT chung")),
        "refuse", "thiếu sheet «Thông tin chung»")
    add("missing-list-sheet", _openpyxl(filled, f / "thieu_bang.xlsx", lambda wb: wb.remove(wb["Văn bản"])),
        "finding", "thieu-sheet")
    add("rows-inserted", _openpyxl(filled, f / "chen_dong.xlsx",
                                   lambda wb: wb[L.SHEET_DATA].insert_rows(10, 5)), "ok", "")

    def merge(wb):
        ws = wb[L.SHEET_DATA]
        r = _rows(ws)["HS_TRONG_KY"]
        ws.merge_cells(start_row=r, start_column=5, end_row=r + 1, end_column=5)
    add("merged-inputs", _openpyxl(filled, f / "gop_o.xlsx", merge), "finding", "o-bi-gop")
    add("text-in-number", _openpyxl(filled, f / "chu_trong_o_so.xlsx", _set_values({"HS_RUT": "hai chín"})),
        "finding", "gia-tri-khong-doc-duoc")
    add("vn-numbers-ambiguous", _openpyxl(filled, f / "so_kieu_viet.xlsx",
                                          _set_values({"HS_TIEP_NHAN": "5.892", "HS_DA_GQ": "5,839"})),
        "finding", "gia-tri-khong-doc-duoc")
    add("negative-count", _openpyxl(filled, f / "so_am.xlsx", _set_values({"HS_RUT": -29})),
        "finding", "ngoai-gioi-han")
    add("formula-in-input", _openpyxl(filled, f / "cong_thuc.xlsx", _set_values({"HS_TU_CHOI": "=10+3"})),
        "finding", "cong-thuc-trong-o-nhap")
    add("ref-error", _error_cell(filled, f / "loi_ref.xlsx", "HS_TU_CHOI", "#REF!"), "finding", "loi-cong-thuc")
    add("div0-error", _error_cell(filled, f / "loi_div0.xlsx", "HS_RUT", "#DIV/0!"), "finding", "loi-cong-thuc")

    def dates_as_text(wb):
        ws = wb[L.SHEET_META]
        rows = _rows(ws)
        ws.cell(rows["TU_NGAY"], 3).value = "15/12/2025"
        ws.cell(rows["DEN_NGAY"], 3).value = "31/02/2026"
    add("dates-as-text", _openpyxl(filled, f / "ngay_dang_chu.xlsx", dates_as_text), "finding",
        "gia-tri-khong-doc-duoc")
    add("zip-bomb", _zip_bomb(f / "bom_nen.xlsx"), "refuse", "zip bomb")
    add("xml-external-entity", _xxe(filled, f / "xxe.xlsx"), "ok-or-refuse", "")
    add("million-rows", _million_rows(filled, f / "trieu_dong.xlsx"), "ok", "")
    name = f / "Phiếu số liệu Xã Nghi Dương (bản cuối).xlsx"
    name.write_bytes(filled.read_bytes())
    add("vietnamese-file-name", name, "ok", "")
    add("nfd-text", _openpyxl(filled, f / "nfd.xlsx", _nfd), "ok", "")
    add("unknown-code", _openpyxl(filled, f / "ma_la.xlsx",
                                  lambda wb: wb[L.SHEET_DATA].cell(_rows(wb[L.SHEET_DATA])["HS_RUT"], 1, "HS_RUT_X")),
        "finding", "ma-khong-xac-dinh")

    def bad_choice(wb):
        ws = wb[L.SHEET_META]
        ws.cell(_rows(ws)["KY_BAO_CAO"], 3).value = "Quý V"
    add("choice-not-in-list", _openpyxl(filled, f / "ky_la.xlsx", bad_choice), "finding", "gia-tri-khong-doc-duoc")
    add("window-outside-period", _openpyxl(filled, f / "ngoai_ky.xlsx", lambda wb: wb[L.SHEET_META].cell(
        _rows(wb[L.SHEET_META])["DEN_NGAY"], 3, date(2026, 9, 30))), "finding", "ky-ngoai-thoi-gian")

    # Round 2: numbers beyond reason, every cell type calamine returns, library failures told in Vietnamese.
    add("count-2-pow-63", _openpyxl(filled, f / "so_2_mu_63.xlsx", _set_values({"HS_RUT": str(2**63)})),
        "finding", "so-qua-lon")
    add("number-1e27", _openpyxl(filled, f / "so_1e27.xlsx", _set_values({"HS_TIEP_NHAN": 1e27})),
        "finding", "so-qua-lon")
    add("number-1e300-in-percent", _raw_cell(filled, f / "ty_le_1e300.xlsx", "TL_HS_DUNG_HAN", "", "<v>1e300</v>"),
        "finding", "so-qua-lon")
    add("infinity", _raw_cell(filled, f / "vo_cuc.xlsx", "HS_TU_CHOI", "", "<v>INF</v>"),
        "finding", "gia-tri-khong-doc-duoc")
    add("nan", _raw_cell(filled, f / "nan.xlsx", "HS_TU_CHOI", "", "<v>NaN</v>"), "finding",
        "gia-tri-khong-doc-duoc")
    add("time-in-number", _openpyxl(filled, f / "gio_trong_o_so.xlsx", _set_values({"HS_RUT": time(12, 30)})),
        "finding", "gia-tri-khong-doc-duoc")
    add("duration-in-number", _openpyxl(filled, f / "khoang_gio.xlsx",
                                        _set_values({"HS_RUT": timedelta(hours=30)})),
        "finding", "gia-tri-khong-doc-duoc")
    add("bool-in-number", _openpyxl(filled, f / "dung_sai.xlsx", _set_values({"HS_RUT": True})),
        "finding", "gia-tri-khong-doc-duoc")
    add("date-in-number", _openpyxl(filled, f / "ngay_trong_o_so.xlsx",
                                    _set_values({"HS_RUT": date(2026, 1, 29)})), "finding", "gia-tri-khong-doc-duoc")
    add("iso-date-cell-in-number", _raw_cell(filled, f / "o_kieu_d.xlsx", "HS_RUT", 't="d"',
                                             "<v>2026-01-05T12:30:00</v>"), "finding", "gia-tri-khong-doc-duoc")
    add("time-in-date", _raw_cell(filled, f / "gio_trong_o_ngay.xlsx", "TU_NGAY", "", "<v>0.5208333</v>"),
        "finding", "gia-tri-khong-doc-duoc")
    add("year-9999", _openpyxl(filled, f / "nam_9999.xlsx", lambda wb: wb[L.SHEET_META].cell(
        _rows(wb[L.SHEET_META])["DEN_NGAY"], 3, date(9999, 12, 31))), "finding", "gia-tri-khong-doc-duoc")
    add("error-in-date", _error_cell(filled, f / "loi_na_ngay.xlsx", "TU_NGAY", "#N/A"), "finding", "loi-cong-thuc")
    add("control-characters", _openpyxl(filled, f / "ky_tu_dieu_khien.xlsx", lambda wb: wb[L.SHEET_META].cell(
        _rows(wb[L.SHEET_META])["TEN_DON_VI"], 3, "Xã Nghi\u200b Dương\u202e")), "finding",
        "gia-tri-khong-doc-duoc")
    add("deleted-indicator-row", _openpyxl(filled, f / "xoa_dong_chi_tieu.xlsx", lambda wb: wb[
        L.SHEET_DATA].delete_rows(_rows(wb[L.SHEET_DATA])["HS_RUT"])), "finding", "thieu-chi-tieu")
    add("bad-boolean-cell", _raw_cell(filled, f / "o_bool_hong.xlsx", "HS_RUT", 't="b"', "<v>2</v>"),
        "refuse", "tệp hỏng")
    add("bad-shared-string", _raw_cell(filled, f / "chuoi_hong.xlsx", "HS_RUT", 't="s"', "<v>99999</v>"),
        "refuse", "tệp hỏng")
    data_part = lambda src: _sheet_part(src, L.SHEET_DATA)  # noqa: E731
    add("dtd-in-sheet", _change_part(filled, f / "dtd_trong_sheet.xlsx", data_part, lambda d: d.replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>', 1).replace(b"</sheetData>", b"</sheetData>"
                                                                           b"<!-- <f>1</f> -->", 1)),
        "ok-or-refuse", "không an toàn")
    add("broken-sheet-xml", _change_part(filled, f / "xml_hong.xlsx", data_part,
                                         lambda d: d[:d.index(b"</sheetData>") // 2]), "ok-or-refuse", "tệp hỏng")
    add("missing-sheet-part", _change_part(filled, f / "mat_phan_sheet.xlsx", data_part, lambda d: None),
        "refuse", "tệp hỏng")
    add("missing-workbook-rels", _change_part(filled, f / "mat_rels.xlsx", lambda src: "xl/_rels/workbook.xml.rels",
                                              lambda d: None), "refuse", "tệp hỏng")
    # Round 3 (issue 20): cells far outside the form, parses that must stay linear, control characters,
    # shadow sheets, decimals with a leading zero.
    add("far-cell-xfd-so-lieu", _far_cell(filled, f / "o_xa_xfd.xlsx", L.SHEET_DATA, "XFD1048576"), "refuse",
        "quá xa vùng phiếu")
    add("far-cell-cv-danh-muc", _far_cell(filled, f / "o_xa_cv.xlsx", L.SHEET_LISTS, "CV1048576"), "refuse",
        "quá xa vùng phiếu")
    add("far-cell-ad-noi-dung", _far_cell(filled, f / "o_xa_ad.xlsx", "Nội dung", "AD1048576"), "refuse",
        "quá xa vùng phiếu")
    add("cell-beside-the-form", _far_cell(filled, f / "o_ngoai_bang.xlsx", L.SHEET_DATA, "AD2000"), "ok", "")
    # calamine places a cell by its last "r" and reads a prefixed sheetData before a plain one
    add("far-cell-second-r", _change_part(filled, f / "o_xa_r_thu_hai.xlsx", data_part, lambda d: d.replace(
        b"</sheetData>", b'<row r="300"><c r="A300" r="CV1048576"><v>1</v></c></row></sheetData>', 1)), "refuse",
        "quá xa vùng phiếu")
    add("far-cell-prefixed-sheetdata", _change_part(filled, f / "o_xa_tien_to.xlsx", data_part, lambda d: d.replace(
        b"<sheetData>", b'<x:sheetData xmlns:x="urn:x"><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c>'
                        b'<x:c r="CV1048576"><x:v>1</x:v></x:c></x:row></x:sheetData><sheetData>', 1)), "refuse",
        "quá xa vùng phiếu")
    whole_sheet = lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d)  # noqa: E731
    add("dimension-claims-whole-sheet", _change_part(filled, f / "kich_thuoc_gia.xlsx", data_part, whole_sheet), "ok",
        "")
    add("comment-40mb-after-sheetdata", _long_comment(filled, f / "chu_thich_40mb.xlsx", 40), "ok", "")
    add("comment-40mb-in-sheetdata", _long_comment(filled, f / "chu_thich_trong_bang.xlsx", 40, inside=True),
        "refuse", "dài bất thường")
    add("sheet-200mb-unpacked", _long_comment(filled, f / "sheet_200mb.xlsx", 200), "ok", "")
    add("shared-strings-16-9m", _many_shared_strings(filled, f / "chuoi_16_trieu.xlsx", 16_900_000), "refuse",
        "hàng triệu chuỗi")
    nd_row = lambda ws: next(r for r in range(1, ws.max_row + 1)  # noqa: E731
                             if isinstance(ws.cell(r, 2).value, str) and len(ws.cell(r, 2).value) > 40)
    add("control-char-in-noi-dung", _openpyxl(filled, f / "ky_tu_x000b.xlsx", lambda wb: _control_text(
        "Nội dung", 2, nd_row, wb["Nội dung"].cell(nd_row(wb["Nội dung"]), 2).value + " _x000B_ và_x0008_")(wb)),
        "finding", "ky-tu-dieu-khien")
    add("control-char-in-signer", _openpyxl(filled, f / "ky_tu_nguoi_ky.xlsx", _control_text(
        L.SHEET_META, 3, lambda ws: _rows(ws)["NGUOI_KY"], "Nguyễn Văn_x0001_ An_x001F_")), "finding",
        "ky-tu-dieu-khien")
    add("shadow-sheet-trailing-space", _openpyxl(filled, f / "sheet_an_dau_cach.xlsx",
                                                 _shadow_sheet(L.SHEET_DATA + " ", "HS_TIEP_NHAN", 9999)),
        "refuse", "cùng tên")
    add("shadow-sheet-nfd", _openpyxl(filled, f / "sheet_an_nfd.xlsx", _shadow_sheet(
        unicodedata.normalize("NFD", L.SHEET_DATA), "HS_TIEP_NHAN", 9999)), "refuse", "cùng tên")
    add("zero-point-in-money", _openpyxl(filled, f / "tien_0_500.xlsx", _set_values({"NS_THU_TH": "0.500"})),
        "ok", "")
    add("zero-point-in-count", _openpyxl(filled, f / "dem_0_840.xlsx", _set_values({"HS_RUT": "0.840"})),
        "finding", "gia-tri-khong-doc-duoc")
    return cases


def build_folder_cases(filled: Path, folder: Path) -> dict[str, tuple[list[str], int, str]]:
    """Folders `baocao tong-hop` must tell the truth about: name -> (arguments, exit code, text in the output)."""
    import shutil

    from toolkit.definition.form import load_form
    from toolkit.synthetic import generate

    form = load_form()
    units = [u for u in form.units if u.code != "11713"][:3]
    cases: dict[str, tuple[list[str], int, str]] = {}

    def make(name: str) -> Path:
        sub = folder / name
        sub.mkdir(parents=True, exist_ok=True)
        return sub

    def args(sub: Path, *extra: str) -> list[str]:
        return ["tong-hop", str(sub), "--out", str(sub / "tong_hop.xlsx"), *extra]

    cases["empty-folder"] = (args(make("rong"), "--ky", "6T", "--nam", "2026"), 2, "không có tệp .xlsx/.xlsm nào")
    generate(make("ky_khac"), "6T", 2026, units, form=form)
    cases["wrong-period-hint"] = (args(folder / "ky_khac", "--ky", "Q3", "--nam", "2026"), 2,
                                  "có thể cần --ky 6T --nam 2026")
    sub = make("ma_la")
    generate(sub, "6T", 2026, units, form=form)
    _openpyxl(filled, sub / "ma_99999.xlsx", lambda wb: wb[L.SHEET_META].cell(
        _rows(wb[L.SHEET_META])["MA_DVHC"], 3, "99999"))
    cases["unknown-unit-code"] = (args(sub, "--ky", "6T", "--nam", "2026"), 1, "«99999»")
    sub = make("lan_ky")
    generate(sub, "6T", 2026, units[:2], form=form)
    generate(sub, "Q3", 2026, units[2:], form=form)
    cases["other-period-left-out"] = (args(sub, "--ky", "6T", "--nam", "2026"), 1, "Khác kỳ")
    generate(make("tu_doan_ky"), "6T", 2026, units, form=form)
    cases["period-inferred"] = (args(folder / "tu_doan_ky"), 0, "Kỳ báo cáo lấy theo các phiếu: 6 tháng đầu năm 2026")
    sub = make("con_tep_tam")
    generate(sub, "6T", 2026, units, form=form)
    shutil.copy(filled, sub / ".~tong_hop.999999999.x1y2.xlsx")  # left by a killed run (no such process)
    cases["killed-run-leftover"] = (args(sub, "--ky", "6T", "--nam", "2026"), 0, "3/")
    sub = make("so_qua_lon_kho")
    generate(sub, "6T", 2026, units, form=form)
    _openpyxl(filled, sub / "so_2_mu_63.xlsx", _set_values({"HS_RUT": str(2**63)}))
    cases["store-huge-number"] = (args(sub, "--ky", "6T", "--nam", "2026", "--kho", str(sub / "kho.sqlite")), 1,
                                  "thêm 4 bản nộp mới")
    sub = make("o_xa")
    generate(sub, "6T", 2026, units, form=form)
    _far_cell(filled, sub / "o_xa_xfd.xlsx", L.SHEET_DATA, "XFD1048576")  # once aborted the whole run
    cases["far-cell-left-out"] = (args(sub, "--ky", "6T", "--nam", "2026"), 1, "3/114 đơn vị đã nộp, 3 hợp lệ")
    return cases


# Runs `baocao ARGV` and prints its exit code and peak memory last. Linux keeps a process's peak memory across
# exec, so a child forked from this (large) process would report ours: this small launcher forks it instead.
_LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", *sys.argv[1:]], stderr=subprocess.STDOUT)
_, status, usage = os.wait4(proc.pid, 0)
print(f"\\n{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_measured(argv: list[str]) -> tuple[int, str, float, float]:
    """`baocao ARGV` in a fresh process: exit code, first line it printed, seconds, peak memory in MB."""
    import subprocess
    import time

    start = time.perf_counter()
    output = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], capture_output=True).stdout
    seconds = time.perf_counter() - start
    *lines, last = output.decode("utf-8", "replace").rstrip("\n").splitlines()
    code, peak_kb = map(int, last.split())
    first = next((line for line in lines if line.strip()), "")
    return code, first, seconds, peak_kb / 1024


if __name__ == "__main__":
    # `python tests/bad_inputs.py OUT_DIR`: build the corpus and print, for every case, what `baocao kiem-tra`
    # (or `baocao tong-hop` for a folder) answers: the table of the closing note of issue 11.
    from toolkit.definition.form import load_form
    from toolkit.demo import sample_files
    from toolkit.excel.workbook import build
    from toolkit.intake.datafile import load_data

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs")
    form = load_form()
    sample = next(p for p in sample_files() if p.stem.startswith("nghi_duong"))
    filled = build(form, out / "_goc.xlsx", load_data(sample, form))
    runs = [(case, ["kiem-tra", str(path)]) for case, (path, _, _) in build_cases(filled, out).items()]
    runs += [(case, argv) for case, (argv, _, _) in build_folder_cases(filled, out / "thu_muc").items()]
    print("| # | case | exit | first line of the message | s | peak MB |\n|---|---|---|---|---|---|")
    for i, (case, argv) in enumerate(runs, start=1):
        code, first, seconds, peak = run_measured(argv)
        first = first.replace(str(out) + "/", "").replace("|", "\\|")
        print(f"| {i} | {case} | {code} | {first[:110]} | {seconds:.2f} | {peak:.0f} |")
