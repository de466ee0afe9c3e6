"""Issue 20 on the unit's file side: far cells, linear scans, control characters, shadow sheets, "0.500"."""
import io
import unicodedata
import zipfile

import openpyxl
import pytest
from bad_inputs import _far_cell, _long_comment, _rows, _set_values, _shadow_sheet
from conftest import run_cli
from lxml import etree

from toolkit.definition import layout as L
from toolkit.errors import BaocaoError
from toolkit.intake.reader import read_submission
from toolkit.intake.vnnum import parse_number
from toolkit.intake.xlsx_scan import MAX_TOKEN, Scanner, TruncatedXml, UnsafeXml, _fast_scan, scan_sheet

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet(body: str) -> io.BytesIO:
    return io.BytesIO(f'<?xml version="1.0"?><worksheet {NS}><sheetData>{body}</sheetData></worksheet>'.encode())


def test_positions_follow_calamine_rules_without_r():
    # rows and cells without "r" take the next row / column; <c/> is never a cell to calamine
    scan = scan_sheet(_sheet('<row r="5"><c r="B5"><v>1</v></c><c><v>2</v></c><c r="Z5"/></row>'
                             '<row><c><v>3</v></c><c><f>A1+1</f><v>4</v></c></row>'))
    assert (scan.rows, scan.columns) == (6, 3)
    assert scan.formulas == {"B6": ("=A1+1", None)}


def test_a_far_cell_hidden_from_simple_patterns_is_still_found():
    # prefixes, a ">" inside an attribute, "r" after other attributes: the fast path hands over, the scan finds it
    body = ('<x:row r="1"><x:c s="1" t="n" r="XFD1048576" note="a>b"><x:v>1</x:v></x:c></x:row>'
            .replace("<x:", "<").replace("</x:", "</"))
    assert _fast_scan(_sheet(body)) is None
    scan = scan_sheet(_sheet(body))
    assert (scan.rows, scan.columns, scan.far_cell) == (1048576, 16384, "XFD1048576")
    prefixed = f'<?xml version="1.0"?><x:worksheet xmlns:x="{NS[7:-1]}"><x:sheetData><x:row r="2">' \
               '<x:c r="CV1048576"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    assert scan_sheet(io.BytesIO(prefixed.encode())).far_cell == "CV1048576"
    assert _fast_scan(io.BytesIO(prefixed.encode())) is None  # a prefixed sheet goes the careful way


def test_a_second_r_and_a_prefixed_sheet_data_are_read_as_calamine_reads_them():
    # calamine places a cell by its last "r", and reads a sheetData of any prefix before the plain one
    second = _sheet('<row r="1"><c r="A1"><v>1</v></c><c r="B1" s="1" r="CV1048576"><v>2</v></c></row>')
    prefixed = io.BytesIO(f'<?xml version="1.0"?><worksheet {NS}><x:sheetData xmlns:x="urn:x"><x:row r="1">'
                          '<x:c r="A1"><x:v>1</x:v></x:c><x:c r="CV1048576"><x:v>1</x:v></x:c></x:row></x:sheetData>'
                          '<sheetData></sheetData></worksheet>'.encode())
    for data in (second, prefixed):
        assert _fast_scan(io.BytesIO(data.getvalue())) is None
        assert scan_sheet(data).far_cell == "CV1048576"


def test_only_the_cells_holding_a_formula_or_an_error_are_read_for_them():
    body = ('<row r="1"><c r="A1" s="2"><v>1</v></c><c r="B1" t="e"><v>#REF!</v></c><c r="C1"><f>A1&amp;"x"</f>'
            '<v>1x</v></c><c r="D1" t="s"><v>0</v></c><f>9</f><c r="E1" t="e"/></row>')
    assert _fast_scan(_sheet(body), formulas=True).formulas == {"B1": ("", "#REF!"), "C1": ('=A1&"x"', None)}
    assert _fast_scan(_sheet(body), formulas=True).formulas == scan_sheet(_sheet(body)).formulas


@pytest.mark.parametrize("seed", range(3))
def test_the_fast_path_never_measures_less_than_the_tokenizer(seed):
    # random sheets of plain cells mixed with what the fast path must hand over: when it answers, its grid holds
    # every cell the tokenizer (calamine's rules) places
    import random

    rng = random.Random(seed)

    def ref() -> str:
        return f"{rng.choice(['A', 'E', 'CV', 'XFD'])}{rng.choice([1, 3, 50, 1048576])}"
    pieces = [lambda: f'<c r="{ref()}"><v>1</v></c>', lambda: f'<c r="{ref()}" s="1"/>',
              lambda: f'<c r="A1" r="{ref()}"><v>1</v></c>', lambda: f'<c s="1" r="{ref()}"><v>1</v></c>',
              lambda: "<c><v>2</v></c>", lambda: f'<x:c r="{ref()}"><x:v>1</x:v></x:c>',
              lambda: f'<!-- <c r="{ref()}"> -->', lambda: f'<c r="{ref()}" a="x>y"><v>1</v></c>',
              lambda: f'<c r="{ref()}"\nr="A1"><v>1</v></c>', lambda: f"<c r='{ref()}'><v>1</v></c>",
              lambda: f'<c r="{ref()}" t="inlineStr"><is><r><rPr><color rgb="1"/></rPr><t>a</t></r></is></c>',
              lambda: f'</row><row r="{rng.choice([2, 1048576])}">', lambda: "</row><row>", lambda: "<?pi x?>",
              lambda: '<![CDATA[<c r="XFD9">]]>', lambda: "</sheetData><sheetData>"]
    heads = ["", '<x:sheetData xmlns:x="urn:x"><x:row><x:c r="Q9"><x:v>1</x:v></x:c></x:row></x:sheetData>']
    answered = 0
    for _ in range(1500):
        body = "".join(rng.choice(pieces[:2] * 6 + pieces)() for _ in range(rng.randint(0, 8)))
        data = f'<worksheet {NS}>{rng.choice(heads)}<sheetData><row r="1">{body}</row></sheetData></worksheet>'.encode()
        fast = _fast_scan(io.BytesIO(data))
        try:
            full = scan_sheet(io.BytesIO(data))
        except UnsafeXml:
            continue
        if fast is not None:
            answered += 1
            assert fast.rows >= full.rows and fast.columns >= full.columns, data
    assert answered > 100


def test_a_cell_inside_a_comment_is_no_cell():
    scan = scan_sheet(_sheet('<row r="1"><c r="A1"><v>1</v></c></row><!-- <row r="9"><c r="XFD9"><f>1</f>'
                             '</c></row> -->'))
    assert (scan.rows, scan.columns, scan.formulas) == (1, 1, {})


def test_the_scan_stops_at_the_end_of_sheet_data_and_refuses_a_giant_comment_inside():
    tail = b"<!-- " + b"<f>1</f>" * (MAX_TOKEN // 4) + b" -->"
    data = _sheet('<row r="1"><c r="A1"><v>1</v></c></row>').getvalue().replace(b"</worksheet>", tail + b"</worksheet>")
    stream = io.BytesIO(data)
    assert scan_sheet(stream).rows == 1
    assert stream.tell() < len(data)  # the comment after </sheetData> is never read
    inside = data.replace(b"</sheetData>", b"").replace(b"</worksheet>", b"</sheetData></worksheet>")
    with pytest.raises(UnsafeXml, match="dài bất thường"):
        scan_sheet(io.BytesIO(inside))
    with pytest.raises(TruncatedXml, match="cắt cụt"):
        scan_sheet(io.BytesIO(data[:data.index(b"<!--") - 20]))


def test_fast_and_full_scans_agree_on_every_sheet_of_a_real_workbook(built):
    path = built["nghi_duong_6t_2026"][0]
    with zipfile.ZipFile(path) as zf:
        for sheet, part in Scanner(zf).parts.items():
            fast, full = _fast_scan(zf.open(part), formulas=True), scan_sheet(zf.open(part))
            assert fast is not None, sheet  # what the toolkit writes takes the fast path
            assert (fast.rows, fast.columns, fast.formulas) == (full.rows, full.columns, full.formulas), sheet


@pytest.mark.parametrize("sheet, ref", [(L.SHEET_DATA, "XFD1048576"), (L.SHEET_LISTS, "CV1048576"),
                                        ("Nội dung", "AD1048576")])
def test_a_far_cell_is_refused_before_any_grid_is_allocated(built, tmp_path, sheet, ref):
    path = _far_cell(built["nghi_duong_6t_2026"][0], tmp_path / "xa.xlsx", sheet, ref)
    with pytest.raises(BaocaoError) as exc:
        read_submission(path)
    assert f"sheet «{sheet}» có ô {ref} nằm quá xa vùng phiếu" in str(exc.value) and exc.value.exit_code == 2


def test_a_cell_beside_the_form_is_read_with_the_form(built, tmp_path):
    sub = read_submission(_far_cell(built["nghi_duong_6t_2026"][0], tmp_path / "gan.xlsx", L.SHEET_DATA, "AD2000"))
    assert sub.get("HS_TIEP_NHAN") == 5892


def test_a_comment_after_sheet_data_is_read_through(built, tmp_path):
    sub = read_submission(_long_comment(built["nghi_duong_6t_2026"][0], tmp_path / "cm.xlsx", 12))
    assert sub.get("HS_TIEP_NHAN") == 5892 and not [p for p in sub.problems if "cong-thuc" in p.code]


@pytest.mark.parametrize("title", [L.SHEET_DATA + " ", " " + L.SHEET_DATA, unicodedata.normalize("NFD", L.SHEET_DATA)])
def test_a_hidden_shadow_sheet_is_refused_naming_both(built, tmp_path, title):
    wb = openpyxl.load_workbook(built["nghi_duong_6t_2026"][0])
    _shadow_sheet(title, "HS_TIEP_NHAN", 9999)(wb)
    wb.save(tmp_path / "bong.xlsx")
    with pytest.raises(BaocaoError) as exc:
        read_submission(tmp_path / "bong.xlsx")
    assert f"«{L.SHEET_DATA}» và «{title}» (đang ẩn)" in str(exc.value)


def test_a_renamed_sheet_alone_is_still_found(built, tmp_path):
    wb = openpyxl.load_workbook(built["nghi_duong_6t_2026"][0])
    wb[L.SHEET_DATA].title = L.SHEET_DATA + " "
    wb.save(tmp_path / "doi_ten.xlsx")
    assert read_submission(tmp_path / "doi_ten.xlsx").get("HS_TIEP_NHAN") == 5892


@pytest.mark.parametrize("text, value", [("0.500", 0.5), ("-0.500", -0.5), ("0,500", 0.5), ("1.234", 1234),
                                         ("12.345,5", 12345.5), ("0.840", 0.84)])
def test_a_leading_zero_is_never_a_thousands_group(text, value):
    assert parse_number(text) == value


def test_zero_point_five_hundred_is_half_in_money_and_no_count(built, tmp_path):
    wb = openpyxl.load_workbook(built["nghi_duong_6t_2026"][0])
    _set_values({"NS_THU_TH": "0.500", "HS_RUT": "0.840"})(wb)
    wb.save(tmp_path / "so.xlsx")
    sub = read_submission(tmp_path / "so.xlsx")
    assert sub.get("NS_THU_TH") == 0.5 and sub.values["NS_THU_TH"].raw == "0.500"
    assert sub.get("HS_RUT") is None
    assert any(p.code == "gia-tri-khong-doc-duoc" and p.loc == sub.values["HS_RUT"].loc for p in sub.problems)


def _control(src, out):
    wb = openpyxl.load_workbook(src)
    ws = wb[L.SHEET_META]
    ws.cell(_rows(ws)["NGUOI_KY"], 3).value = "Nguyễn Văn_x0001_ An"
    nd = wb["Nội dung"]
    row = next(r for r in range(1, nd.max_row + 1) if isinstance(nd.cell(r, 2).value, str)
               and len(nd.cell(r, 2).value) > 40)
    nd.cell(row, 2).value = nd.cell(row, 2).value + "_x000B_ xong_x001F_ nhé"
    wb.save(out)
    return out, f"B{row}"


def test_a_control_character_is_a_finding_at_its_cell_and_never_reaches_the_value(built, tmp_path):
    path, cell = _control(built["nghi_duong_6t_2026"][0], tmp_path / "dk.xlsx")
    sub = read_submission(path)
    found = {str(p.loc): p.message for p in sub.problems if p.code == "ky-tu-dieu-khien"}
    signer = sub.meta["NGUOI_KY"]
    assert set(found) == {str(signer.loc), f"Nội dung!{cell}"}
    assert "U+0001" in found[str(signer.loc)] and "U+000B, U+001F" in found[f"Nội dung!{cell}"]
    assert signer.value == "Nguyễn Văn An"


@pytest.mark.parametrize("pdf", [False, True])
def test_a_report_from_a_file_with_control_characters_opens(built, tmp_path, pdf):
    path, _ = _control(built["nghi_duong_6t_2026"][0], tmp_path / "dk.xlsx")
    out = tmp_path / "bao_cao.docx"
    result = run_cli("bao-cao", str(path), "--loai", "cchc-6-thang-nam", "--out", str(out), "--du-thao",
                     *(["--pdf"] if pdf else []))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        xml = zf.read("word/document.xml")
    etree.fromstring(xml)  # well-formed: Word opens it
    assert b"Nguy\xe1\xbb\x85n V\xc4\x83n An" in xml
    if pdf:
        assert out.with_suffix(".pdf").stat().st_size > 1000


def test_the_tokenizer_reads_a_bounded_number_of_tags_and_stops_at_a_refused_grid():
    odd = "<row><c><v>1</v></c><!-- x --></row>" * 200
    with pytest.raises(UnsafeXml, match="thẻ XML"):
        scan_sheet(_sheet(odd), budget=500)
    assert scan_sheet(_sheet(odd), budget=2000).rows == 200
    far = scan_sheet(_sheet('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>' + odd))
    assert far.far_cell == "XFD1048576" and far.tags < 10  # the rows after it are not read
