"""Build the Word report templates in templates/ with python-docx (a maintainer's tool, not shipped).

The committed .docx files are what the package reads (templates/README.md lists every
variable). This script writes the unit report templates, and tests/test_templates.py
proves the committed files equal its output part by part: change their layout here, run
`python tests/template_build.py` and commit both. It writes the city report
template (bao_cao_tong_hop.docx) and the reminder dispatch (cong_van_don_doc.docx) too.

Layout follows NĐ 30/2020/NĐ-CP Phụ lục I (Mẫu 1.4, báo cáo): A4, margins 20/20/30/15 mm,
Times New Roman, two-column borderless header, rules drawn as paragraph borders.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

FONT = "Times New Roman"
BODY_PT = 14
TEXT_WIDTH_CM = 21.0 - 3.0 - 1.5
# The header spans the text width, within the margins, its cells padded 0,1 cm: the longest unit name,
# "PHƯỜNG NGUYỄN ĐẠI NĂNG" (13 pt bold, 6,6 cm as LibreOffice sets it), fits the left column on one line, and
# "Xã Nguyễn Lương Bằng, ngày 05 tháng 01 năm 2026" (13 pt italic, 9,4 cm) the right one.
HEADER_LEFT_CM, HEADER_WIDTH_CM, HEADER_PAD_CM = 6.8, TEXT_WIDTH_CM, 0.1
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from toolkit.reports.emptiness import EMPTY  # noqa: E402  (the text a final report may not carry)
ROOT = Path(__file__).resolve().parents[1] / "templates"


# ---------------------------------------------------------------- low-level formatting


def _fonts(rpr_owner) -> None:
    """Times New Roman for every script slot, or Word falls back for Vietnamese letters."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)


def _border_bottom(paragraph, size: int = 6) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)


def _no_borders(table) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr.append(borders)


def _cell_padding(table, cm: float) -> None:
    """Left and right padding of every cell of the table."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(cm * 567)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.append(margins)


def _widths(table, widths_cm: list[float]) -> None:
    """Fixed column widths, written to the grid too: LibreOffice reads the grid, Word the cells."""
    table.autofit = False
    tblpr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm):
        col.set(qn("w:w"), str(int(w * 567)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm):
            cell.width = Cm(w)


def _para(container, text: str = "", *, size: float = BODY_PT, bold=False, italic=False,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True, before: float = 0, after: float = 6,
          left_cm: float = 0, right_cm: float = 0):
    p = container.add_paragraph()
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.first_line_indent = Cm(1.27) if indent else Cm(0)
    fmt.left_indent, fmt.right_indent = Cm(left_cm), Cm(right_cm)
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.line_spacing_rule = WD_LINE_SPACING.MULTIPLE
    fmt.line_spacing = 1.15 if indent else 1.0
    if text:
        run = p.add_run(text)
        run.font.size, run.font.bold, run.font.italic = Pt(size), bold, italic
        run.font.name = FONT
        _fonts(run._r)
    return p


def _cell_para(cell, text, **kw):
    """Paragraph in a table cell: centred, no indent, tight spacing unless told."""
    kw.setdefault("align", WD_ALIGN_PARAGRAPH.CENTER)
    kw.setdefault("indent", False)
    kw.setdefault("after", 0)
    return _para(cell, text, **kw)


def _rule(container, left_cm: float, right_cm: float, after: float = 0):
    """A short horizontal line: a 2 pt empty paragraph with a bottom border between indents."""
    p = _para(container, "", indent=False, after=after, left_cm=left_cm, right_cm=right_cm,
              align=WD_ALIGN_PARAGRAPH.CENTER)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    p.paragraph_format.line_spacing = Pt(2)
    _border_bottom(p)
    return p


def _drop_first_empty(cell) -> None:
    first = cell.paragraphs[0]
    if not first.text and len(cell.paragraphs) > 1:
        first._p.getparent().remove(first._p)


def _page_number_header(section) -> None:
    """Centred page number in the top margin from page 2 on (the first page has its own, empty header)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    run.font.size = Pt(13)
    _fonts(run._r)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text.strip() == "PAGE":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


# ---------------------------------------------------------------- document parts


def new_document() -> Document:
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(2.0), Cm(2.0)
    sec.left_margin, sec.right_margin = Cm(3.0), Cm(1.5)
    sec.header_distance = Cm(1.0)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    _fonts(normal.element)
    _page_number_header(sec)
    # python-docx's default document opens with no paragraph; nothing to remove.
    return doc


def _keep_with_next(paragraph) -> None:
    paragraph.paragraph_format.keep_with_next = True
    paragraph.paragraph_format.keep_together = True


def _row_cannot_split(table) -> None:
    """A table row Word and LibreOffice never break across pages."""
    for row in table.rows:
        trpr = row._tr.get_or_add_trPr()
        el = OxmlElement("w:cantSplit")
        trpr.append(el)


def draft_mark(doc) -> None:
    """"DỰ THẢO" above the header of a draft (a report from a workbook that still has errors)."""
    tag(doc, "if du_thao")
    _para(doc, "DỰ THẢO", size=13, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, after=0)
    tag(doc, "endif")


def header_block(doc) -> None:
    """The two-column borderless header of Mẫu 1.4 with the agency, số, national name, motto and date.

    The right column is wide enough for "Nghi Dương, ngày    tháng    năm 2026" on one line."""
    draft_mark(doc)
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _widths(table, [HEADER_LEFT_CM, HEADER_WIDTH_CM - HEADER_LEFT_CM])
    _cell_padding(table, HEADER_PAD_CM)
    left, right = table.rows[0].cells
    _cell_para(left, "{{ co_quan_chu_quan }}", size=12)
    _cell_para(left, "{{ co_quan }}", size=13, bold=True)
    _rule(left, 2.2, 2.2, after=6)
    _cell_para(left, "{{ so_ky_hieu }}", size=13, before=6)
    _drop_first_empty(left)
    _cell_para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
    _cell_para(right, "Độc lập - Tự do - Hạnh phúc", size=13.5, bold=True)
    _rule(right, 1.75, 1.75, after=6)
    _cell_para(right, "{{ dia_danh_ngay }}", size=13, italic=True, before=6)
    _drop_first_empty(right)


def title_block(doc, *summary_lines: str) -> None:
    """"BÁO CÁO", the trích yếu and the report's own subtitle lines (dong_phu: "Phục vụ Kỳ họp thứ 3 …")."""
    _para(doc, "BÁO CÁO", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=18, after=0)
    for line in summary_lines:
        _para(doc, _unbroken_year(line), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, after=0)
    tag(doc, "for x in dong_phu")
    _para(doc, "{{ x }}", italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, after=0)
    tag(doc, "endfor")
    _rule(doc, TEXT_WIDTH_CM / 2 - 1.75, TEXT_WIDTH_CM / 2 - 1.75, after=18)


def _unbroken_year(line: str) -> str:
    """Period names in a title pass through the `lien` filter, so "năm 2026" never ends a line alone."""
    return re.sub(r"\{\{ (ky\.\w+) \}\}", r"{{ \1 | lien }}", line)


def part(doc, text: str) -> None:
    """"PHẦN I: …": upper, bold, centred; like every heading, on the page of the text it heads."""
    _keep_with_next(_para(doc, _unbroken_year(text), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
                          before=6))


def h1(doc, text: str) -> None:
    """"I. …": upper case, bold."""
    _keep_with_next(_para(doc, text, bold=True))


def h2(doc, text: str, italic: bool = False) -> None:
    """"1. …": bold."""
    _keep_with_next(_para(doc, text, bold=True, italic=italic))


def body(doc, text: str, **kw):
    return _para(doc, text, **kw)


def tag(doc, statement: str) -> None:
    """A paragraph that holds only a docxtpl paragraph tag ({%p … %}); docxtpl removes it when rendering."""
    _para(doc, "{%p " + statement + " %}", indent=False, after=0)


def each(doc, items: str, line: str = "{{ x }}", var: str = "x") -> None:
    """One body paragraph per item of `items` (a list in the context)."""
    tag(doc, f"for {var} in {items}")
    body(doc, line)
    tag(doc, "endfor")


def numbered(doc, items: str) -> None:
    """"1. …", "2. …": for tasks, difficulties and proposals, as the seeds number them."""
    each(doc, items, "{{ loop.index }}. {{ x }}")


def unless(doc, anything: str) -> None:
    """The placeholder under a heading when nothing of `anything` is there: a draft shows where the text is to
    come; a final report that would print it is refused (toolkit.reports.emptiness)."""
    tag(doc, f"if not ({anything})")
    body(doc, EMPTY, italic=True)
    tag(doc, "endif")


def bullet(sentences: str) -> str:
    """A generated line in the bullet style of the officer's paragraphs it follows (context `gach`)."""
    return "{{ gach." + sentences.removeprefix("cau.") + " }}{{ x }}"


def area(doc, texts: str, sentences: tuple[str, ...] = (), docs: str | None = None,
         listed: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> None:
    """One area of the outline: the unit's paragraphs, generated figure sentences as "- " lines, and, only when
    the unit wrote no text for the area, the sentences citing the area's documents and the indicator-by-indicator
    lines of `listed` ("- Tuyển dụng: 20 người."), which bolted onto a paragraph would restate or outrun it."""
    tag(doc, f"if not {texts}")
    if docs:
        each(doc, docs)
    for s in listed:
        each(doc, s, "- {{ x }}")
    tag(doc, "endif")
    each(doc, texts)
    for s in sentences:
        each(doc, s, bullet(s))
    # `after`: what the template prints under the area next (the sơ kết's own TTHC figures)
    unless(doc, " or ".join((texts, *sentences, *listed, *((docs,) if docs else ()), *after)))


def closing(doc, text: str) -> None:
    _keep_with_next(body(doc, text))


def signature_block(doc, findings: bool = True) -> None:
    """Nơi nhận (left, 12/11 pt) beside the signature (right: TM./KT./chức vụ, name), borderless."""
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, [8.0, TEXT_WIDTH_CM - 8.0])
    left, right = table.rows[0].cells
    _cell_para(left, "Nơi nhận:", size=12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell_para(left, "{%p for x in noi_nhan %}", align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell_para(left, "{{ x }}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _cell_para(left, "{%p endfor %}", align=WD_ALIGN_PARAGRAPH.LEFT)
    _drop_first_empty(left)
    _cell_para(right, "{%p for x in ky_ky %}")
    _cell_para(right, "{{ x }}", bold=True)
    _cell_para(right, "{%p endfor %}")
    for _ in range(4):
        _cell_para(right, "")
    _cell_para(right, "{{ nguoi_ky }}", bold=True)
    _drop_first_empty(right)
    # one row that never breaks: Nơi nhận, the title lines and the name stay on one page
    _row_cannot_split(table)
    # a blank line above the block, as in the seeds, kept with it
    spacer = _para(doc, "", indent=False)
    _keep_with_next(spacer)
    table._tbl.addprevious(spacer._p)
    if findings:  # a unit report's draft lists its workbook's findings; the city's are in its own section I
        appendix(doc)


def appendix(doc) -> None:
    """A draft's findings, after the signature: what the officer must fix before the report is signed."""
    # a unit's, only when it has something to list: a page saying there is nothing is a page to throw away
    tag(doc, "if du_thao and phu_luc")
    head = _para(doc, "PHỤ LỤC: LỖI, CẢNH BÁO CỦA PHIẾU SỐ LIỆU (BẢN DỰ THẢO)", bold=True,
                 align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    head.paragraph_format.page_break_before = True  # the report itself ends with its signature page
    each(doc, "phu_luc", "- {{ x }}")
    tag(doc, "endif")


def _repeat_header(table) -> None:
    """The first row repeats at the top of every page the table runs onto."""
    el = OxmlElement("w:tblHeader")
    table.rows[0]._tr.get_or_add_trPr().append(el)


def grid_table(doc, headers: list[str], cells: list[str], widths: list[float], loop: str):
    """A bordered table: header row, one template row repeated by {%tr for %}. Its header row repeats on every
    page the table runs onto and no row breaks across a page, in every report (a reader of page 2 of a long
    table still sees what its columns are, and a row's reason is never cut from its criterion)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, widths)
    for cell, text in zip(table.rows[0].cells, headers):
        _cell_para((cell), text, size=12, bold=True)
    _cell_para((table.rows[1].cells[0]), "{%tr for r in " + loop + " %}", size=12)
    for cell, text in zip(table.rows[2].cells, cells):
        left = text.endswith("!")
        _cell_para((cell), text.rstrip("!"), size=12,
                   align=WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER)
    _cell_para((table.rows[3].cells[0]), "{%tr endfor %}", size=12)
    _drop_empty_cells(table)
    _repeat_header(table)
    _row_cannot_split(table)
    _para(doc, "", indent=False, after=0)
    return table


def _drop_empty_cells(table) -> None:
    for row in table.rows:
        for cell in row.cells:
            _drop_first_empty(cell)


# ---------------------------------------------------------------- the five templates


def _intro(doc, *summary: str) -> None:
    header_block(doc)
    title_block(doc, *summary)


def _evaluation(doc, tich_cuc: str = "1. Ưu điểm") -> None:
    h2(doc, tich_cuc)
    each(doc, "nd.UU_DIEM", "- {{ x }}")
    unless(doc, "nd.UU_DIEM")
    h2(doc, "2. Tồn tại, hạn chế")
    each(doc, "nd.TON_TAI", "- {{ x }}")
    unless(doc, "nd.TON_TAI")
    tag(doc, "if nd.NGUYEN_NHAN")
    h2(doc, "3. Nguyên nhân")
    each(doc, "nd.NGUYEN_NHAN", "- {{ x }}")
    tag(doc, "endif")


def _cchc_areas(doc, chinh_quyen_so: bool = True) -> None:
    h2(doc, "1. Cải cách thể chế")
    area(doc, "nd.KQ_THE_CHE", (), "vb.TC", listed=("cau.the_che",))
    h2(doc, "2. Cải cách thủ tục hành chính")
    area(doc, "nd.KQ_TTHC", (), "vb.TTHC")
    tag(doc, "if cau.tthc")
    body(doc, "{{ tthc_thoi_gian }}")
    each(doc, "cau.tthc", "- {{ x }}")
    tag(doc, "endif")
    each(doc, "nd.KQ_TTHC_PAKN")
    h2(doc, "3. Cải cách tổ chức bộ máy")
    area(doc, "nd.KQ_BO_MAY", (), "vb.BM", listed=("cau.bo_may",))
    h2(doc, "4. Cải cách chế độ công vụ")
    area(doc, "nd.KQ_CONG_VU", ("cau.bien_che",), "vb.CV", listed=("cau.cong_vu",))
    h2(doc, "5. Cải cách tài chính công")
    area(doc, "nd.KQ_TAI_CHINH", ("cau.tai_chinh",), "vb.TCC")
    if chinh_quyen_so:
        h2(doc, "6. Xây dựng chính quyền điện tử, chính quyền số")
        area(doc, "nd.KQ_CHINH_QUYEN_SO", ("cau.chinh_quyen_so",), "vb.CDS")
        for code, sentences, title in (("KQ_HA_TANG_SO", "cau.ha_tang_so", "Phát triển hạ tầng số"),
                                       ("KQ_KINH_TE_SO", "cau.kinh_te_so", "Phát triển kinh tế số"),
                                       ("KQ_XA_HOI_SO", "cau.xa_hoi_so", "Phát triển xã hội số"),
                                       ("KQ_ATTT", "cau.attt", "Bảo đảm an toàn, an ninh thông tin mạng")):
            tag(doc, f"if nd.{code} or {sentences}")
            body(doc, title, italic=True)
            each(doc, f"nd.{code}")
            each(doc, sentences, bullet(sentences))
            tag(doc, "endif")


def _opening(doc, default: str) -> None:
    tag(doc, "if nd.CAN_CU")
    each(doc, "nd.CAN_CU")
    tag(doc, "else")
    body(doc, default)
    tag(doc, "endif")


def build_cchc(doc) -> None:
    """Seed 001 (quý) and its 6-month/yearly variant (theo_phan: PHẦN I / PHẦN II)."""
    _intro(doc, "Kết quả thực hiện công tác cải cách hành chính {{ ky.ten }},",
           "nhiệm vụ trọng tâm {{ ky.ky_toi }}")
    _opening(doc, "{{ don_vi.ubnd_day_du }} báo cáo kết quả thực hiện công tác cải cách hành chính {{ ky.ten }} "
                  "như sau:")
    tag(doc, "if theo_phan")
    part(doc, "PHẦN I: KẾT QUẢ THỰC HIỆN {{ ky.ten_hoa }}")
    tag(doc, "endif")
    h1(doc, "I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CẢI CÁCH HÀNH CHÍNH")
    h2(doc, "1. Về công tác chỉ đạo, điều hành")
    area(doc, "nd.KQ_CHI_DAO", ("cau.chi_dao",), "vb.CD")
    tag(doc, "if nd.KQ_TRIEN_KHAI_KH")
    h2(doc, "2. Về triển khai kế hoạch cải cách hành chính")
    each(doc, "nd.KQ_TRIEN_KHAI_KH")
    tag(doc, "endif")
    h2(doc, "{{ 3 if nd.KQ_TRIEN_KHAI_KH else 2 }}. Về công tác thông tin, tuyên truyền cải cách hành chính")
    area(doc, "nd.KQ_TUYEN_TRUYEN", ("cau.tuyen_truyen",), "vb.TT")
    h2(doc, "{{ 4 if nd.KQ_TRIEN_KHAI_KH else 3 }}. Về công tác kiểm tra cải cách hành chính")
    area(doc, "nd.KQ_KIEM_TRA", ("cau.kiem_tra",), "vb.KT")
    h1(doc, "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH")
    _cchc_areas(doc)
    h1(doc, "III. ĐÁNH GIÁ CHUNG")
    _evaluation(doc)
    tag(doc, "if theo_phan")
    part(doc, "PHẦN II: PHƯƠNG HƯỚNG, NHIỆM VỤ TRỌNG TÂM {{ ky.ky_toi_hoa }}")
    tag(doc, "else")
    h1(doc, "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ TRỌNG TÂM {{ ky.ky_toi_hoa }}")
    tag(doc, "endif")
    each(doc, "nd.PHUONG_HUONG")
    numbered(doc, "nd.NHIEM_VU")
    unless(doc, "nd.PHUONG_HUONG or nd.NHIEM_VU")
    tag(doc, "if nd.KIEN_NGHI")
    h1(doc, "{{ 'III' if theo_phan else 'V' }}. KIẾN NGHỊ, ĐỀ XUẤT")
    numbered(doc, "nd.KIEN_NGHI")
    tag(doc, "endif")
    closing(doc, "Trên đây là Báo cáo kết quả thực hiện công tác cải cách hành chính {{ ky.ten }}, nhiệm vụ "
                 "trọng tâm {{ ky.ky_toi }} của {{ don_vi.ubnd_day_du }}./.")
    signature_block(doc)


def build_cchc_cds(doc) -> None:
    """Seed 000: CCHC and chuyển đổi số, for the mid-year HĐND session."""
    _intro(doc, "Kết quả thực hiện công tác cải cách hành chính, chuyển đổi số {{ ky.ten }};",
           "nhiệm vụ, giải pháp {{ ky.ky_toi }}")
    tag(doc, "if nd.CAN_CU")
    each(doc, "nd.CAN_CU")
    tag(doc, "endif")
    part(doc, "PHẦN I: KẾT QUẢ THỰC HIỆN {{ ky.ten_hoa }}")
    h1(doc, "I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH")
    h2(doc, "1. Các hoạt động chỉ đạo, điều hành")
    area(doc, "nd.KQ_CHI_DAO", ("cau.chi_dao",), "vb.CD")
    each(doc, "nd.KQ_TRIEN_KHAI_KH")
    h2(doc, "2. Công tác thông tin, tuyên truyền")
    area(doc, "nd.KQ_TUYEN_TRUYEN", ("cau.tuyen_truyen",), "vb.TT")
    tag(doc, "if nd.KQ_KIEM_TRA or cau.kiem_tra or vb.KT")
    h2(doc, "3. Công tác kiểm tra cải cách hành chính")
    area(doc, "nd.KQ_KIEM_TRA", ("cau.kiem_tra",), "vb.KT")
    tag(doc, "endif")
    h1(doc, "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH, CHUYỂN ĐỔI SỐ")
    _keep_with_next(body(doc, "Về cải cách hành chính", bold=True, italic=True))
    _cchc_areas(doc, chinh_quyen_so=False)
    _keep_with_next(body(doc, "Về chuyển đổi số", bold=True, italic=True))
    h2(doc, "1. Phát triển hạ tầng số")
    area(doc, "nd.KQ_HA_TANG_SO", ("cau.ha_tang_so",))
    h2(doc, "2. Phát triển chính quyền số")
    area(doc, "nd.KQ_CHINH_QUYEN_SO", ("cau.chinh_quyen_so",), "vb.CDS")
    h2(doc, "3. Phát triển kinh tế số")
    area(doc, "nd.KQ_KINH_TE_SO", ("cau.kinh_te_so",))
    h2(doc, "4. Phát triển xã hội số")
    area(doc, "nd.KQ_XA_HOI_SO", ("cau.xa_hoi_so",))
    h2(doc, "5. Công tác bảo đảm an toàn, an ninh thông tin mạng")
    area(doc, "nd.KQ_ATTT", ("cau.attt",))
    h1(doc, "III. ĐÁNH GIÁ CHUNG")
    _evaluation(doc, "1. Mặt tích cực")
    part(doc, "PHẦN II: NHIỆM VỤ, GIẢI PHÁP {{ ky.ky_toi_hoa }}")
    each(doc, "nd.PHUONG_HUONG")
    numbered(doc, "nd.NHIEM_VU")
    unless(doc, "nd.PHUONG_HUONG or nd.NHIEM_VU")
    tag(doc, "if nd.KIEN_NGHI")
    part(doc, "PHẦN III: KIẾN NGHỊ, ĐỀ XUẤT")
    numbered(doc, "nd.KIEN_NGHI")
    tag(doc, "endif")
    closing(doc, "Trên đây là Báo cáo kết quả thực hiện cải cách hành chính, chuyển đổi số {{ ky.ten }}; nhiệm "
                 "vụ, giải pháp {{ ky.ky_toi }} của {{ don_vi.ubnd_day_du }}./.")
    signature_block(doc)


def build_so_ket(doc) -> None:
    """Seed 002: progress for the one-year review of the two-tier local government."""
    _intro(doc, "Về tiến độ triển khai các nhiệm vụ phục vụ sơ kết 01 năm vận hành",
           "của hệ thống chính trị và chính quyền địa phương 02 cấp")
    tag(doc, "if nd.CAN_CU")
    each(doc, "nd.CAN_CU")
    tag(doc, "elif vb.CQ2C")
    body(doc, "{{ vb.CQ2C[0][:-1] }}; "
              "{{ don_vi.ubnd_day_du }} báo cáo một số nội dung như sau:")
    tag(doc, "else")
    body(doc, "{{ don_vi.ubnd_day_du }} báo cáo tiến độ triển khai các nhiệm vụ phục vụ sơ kết 01 năm vận hành "
              "chính quyền địa phương 02 cấp như sau:")
    tag(doc, "endif")
    h1(doc, "I. TÌNH HÌNH TRIỂN KHAI THỰC HIỆN")
    h2(doc, "1. Về bố trí nguồn lực, thực hiện nhiệm vụ được phân cấp, phân quyền")
    area(doc, "nd.CQ2C_TINH_HINH", ("cau.hai_cap",))
    h2(doc, "2. Về sắp xếp tổ chức bộ máy")
    area(doc, "nd.CQ2C_BO_MAY")
    h2(doc, "3. Về phát triển khoa học công nghệ, đổi mới sáng tạo, chuyển đổi số")
    area(doc, "nd.CQ2C_KHCN_CDS")
    h2(doc, "4. Về cải cách thủ tục hành chính")
    area(doc, "nd.CQ2C_TTHC", after=("rieng.TTHC",))
    tag(doc, "if rieng.TTHC")
    body(doc, "Tình hình giải quyết hồ sơ thủ tục hành chính ({{ rieng_thoi_gian or ky.ten }}): "
              "{{ rieng.TTHC | join('; ') }}.")
    tag(doc, "endif")
    h1(doc, "II. KHÓ KHĂN, VƯỚNG MẮC")
    numbered(doc, "nd.KHO_KHAN")
    unless(doc, "nd.KHO_KHAN")
    h1(doc, "III. KIẾN NGHỊ, ĐỀ XUẤT")
    numbered(doc, "nd.KIEN_NGHI")
    unless(doc, "nd.KIEN_NGHI")
    closing(doc, "Trên đây là Báo cáo của {{ don_vi.ubnd_day_du }} về tiến độ triển khai các nhiệm vụ phục vụ "
                 "sơ kết 01 năm vận hành của hệ thống chính trị và chính quyền địa phương 02 cấp./.")
    signature_block(doc)


def _criteria(doc) -> None:
    each(doc, "cqtt.tieu_chi", "+ {{ t.ten }}: {{ t.diem_toi_da }} điểm{{ '.' if loop.last else ';' }}", "t")


def build_cqtt(doc) -> None:
    """Seed 004: the "Chính quyền thân thiện" model, with the table of unmet sub-criteria."""
    _intro(doc, "Kết quả thực hiện mô hình “Chính quyền thân thiện” {{ ky.ten }},",
           "phương hướng, nhiệm vụ {{ ky.ky_toi }}")
    tag(doc, "if nd.CAN_CU")
    each(doc, "nd.CAN_CU")
    tag(doc, "endif")
    part(doc, "PHẦN I: KẾT QUẢ THỰC HIỆN {{ ky.ten_hoa }}")
    h1(doc, "I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH")
    # numbered only when "2. Việc triển khai thực hiện" follows: no lone "1."
    h2(doc, "{{ '1. ' if nd.KQ_CQTT_TRIEN_KHAI else '' }}Việc ban hành Kế hoạch và đăng ký đơn vị đạt chuẩn "
            "“Chính quyền thân thiện” năm {{ ky.nam }}")
    tag(doc, "if not nd.KQ_CQTT_CHI_DAO")
    each(doc, "vb.CQTT")
    tag(doc, "endif")
    # the criteria follow the officer's paragraph that introduces them (seed 004), else a line of their own
    tag(doc, "for x in nd.KQ_CQTT_CHI_DAO")
    body(doc, "{{ x }}")
    tag(doc, "if loop.index0 == cqtt.sau_doan")
    _criteria(doc)
    tag(doc, "endif")
    tag(doc, "endfor")
    tag(doc, "if cqtt.sau_doan is none")
    body(doc, "{{ cqtt.gioi_thieu }}")
    _criteria(doc)
    tag(doc, "endif")
    tag(doc, "if cqtt.muc_dang_ky and not nd.KQ_CQTT_CHI_DAO")
    body(doc, "{{ don_vi.ubnd }} đăng ký đơn vị đạt chuẩn “Chính quyền thân thiện” năm {{ ky.nam }}: "
              "{{ cqtt.muc_dang_ky }}.")
    tag(doc, "endif")
    tag(doc, "if nd.KQ_CQTT_TRIEN_KHAI")
    h2(doc, "2. Việc triển khai thực hiện")
    each(doc, "nd.KQ_CQTT_TRIEN_KHAI")
    tag(doc, "endif")
    h1(doc, "II. KẾT QUẢ THỰC HIỆN CÁC TIÊU CHÍ")
    for i in range(4):
        h2(doc, f"{i + 1}. {{{{ cqtt.tieu_chi[{i}].ten }}}}")
        area(doc, f"nd.KQ_CQTT_TC{i + 1}")
        tag(doc, f"if cqtt.tieu_chi[{i}].diem_tu_cham")
        body(doc, f"Điểm tự chấm: {{{{ cqtt.tieu_chi[{i}].diem_tu_cham }}}}/{{{{ cqtt.tieu_chi[{i}].diem_toi_da }}}} "
                  "điểm.", italic=True)
        tag(doc, "endif")
    tag(doc, "if cqtt.tong_diem_tu_cham")
    body(doc, "Tổng điểm tự chấm: {{ cqtt.tong_diem_tu_cham }}/{{ cqtt.tong_diem_toi_da }} điểm"
              "{{ ', ' + cqtt.muc_dat if cqtt.muc_dat else '' }}.", bold=True)
    tag(doc, "endif")
    h1(doc, "III. ĐÁNH GIÁ CHUNG")
    h2(doc, "1. Mặt tích cực")
    each(doc, "nd.UU_DIEM")
    unless(doc, "nd.UU_DIEM")
    h2(doc, "2. Tồn tại, hạn chế")
    each(doc, "nd.TON_TAI", "- {{ x }}")
    tag(doc, "if cqtt.chua_dat")
    # the line that introduces the table stays on the page of its first rows
    _keep_with_next(body(doc, "Bên cạnh những kết quả đã đạt được, việc triển khai thực hiện mô hình “Chính quyền "
                              "thân thiện” còn một số tồn tại, hạn chế dẫn đến một số Tiêu chí thành phần chưa đảm "
                              "bảo điểm số theo quy định, cụ thể:"))
    tag(doc, "endif")
    # the table only with rows: a header over nothing is no table
    tag(doc, "if cqtt.chua_dat")
    grid_table(doc, ["Stt", "Tiêu chí thành phần", "Điểm tối đa", "Đơn vị chủ trì", "Lý do chưa thực hiện"],
               ["{{ r.stt }}", "{{ r.tieu_chi_thanh_phan }}!", "{{ r.diem_toi_da }}", "{{ r.don_vi_chu_tri }}!",
                "{{ r.ly_do }}!"], [1.2, 5.6, 1.8, 3.2, 4.7], "cqtt.chua_dat")
    tag(doc, "elif cqtt.da_cham")
    body(doc, "Các tiêu chí thành phần đều đạt điểm tối đa.", italic=True)
    tag(doc, "endif")
    unless(doc, "nd.TON_TAI or cqtt.chua_dat or cqtt.da_cham")
    part(doc, "PHẦN II: PHƯƠNG HƯỚNG, NHIỆM VỤ {{ ky.ky_toi_hoa }}")
    h1(doc, "I. PHƯƠNG HƯỚNG")
    area(doc, "nd.PHUONG_HUONG")
    h1(doc, "II. NHIỆM VỤ")
    numbered(doc, "nd.NHIEM_VU")
    unless(doc, "nd.NHIEM_VU")
    closing(doc, "Trên đây là Báo cáo kết quả thực hiện mô hình “Chính quyền thân thiện” {{ ky.ten }}, phương "
                 "hướng, nhiệm vụ {{ ky.ky_toi }} của {{ don_vi.ubnd_day_du }}./.")
    signature_block(doc)


# The city's table of units: each column as wide as its widest value at 12 pt ("100" in STT, "12.345"
# hồ sơ, "100,00"), the unit name taking the rest of the 16,5 cm text width.
CITY_TABLE = (("STT", "{{ r.stt }}", 1.3), ("Đơn vị", "{{ r.ten }}!", 4.5),
              ("Hồ sơ tiếp nhận", "{{ r.tiep_nhan }}", 1.9), ("Đã giải quyết", "{{ r.da_giai_quyet }}", 1.9),
              ("Trước hạn, đúng hạn (%)", "{{ r.dung_han }}", 2.0), ("Trực tuyến (%)", "{{ r.truc_tuyen }}", 1.9),
              ("Số lỗi", "{{ r.loi }}", 1.3), ("Xếp hạng", "{{ r.hang }}", 1.6))
CITY_EMPTY = "(Chưa có nội dung cho mục này.)"  # a draft only: a final city report without it is refused


def build_city(doc) -> None:
    """The city's CCHC report: the unit CCHC outline written from the units' figures, then the table."""
    _intro(doc, "Tổng hợp kết quả cải cách hành chính {{ ky.ten }}",
           "của các xã, phường, đặc khu trên địa bàn thành phố")
    body(doc, "{{ co_quan_ten }} báo cáo tổng hợp kết quả cải cách hành chính {{ ky.ten }} của các xã, phường, "
              "đặc khu trên địa bàn thành phố, từ phiếu số liệu các đơn vị gửi, như sau:")
    h1(doc, "I. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ")
    each(doc, "nop")
    h1(doc, "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH")
    tag(doc, "for m in muc")
    h2(doc, "{{ m.ten }}")
    each(doc, "m.cau", "- {{ x }}")
    tag(doc, "endfor")
    h1(doc, "III. KẾT QUẢ CỦA TỪNG ĐƠN VỊ")
    body(doc, "Xếp hạng theo tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn; đơn vị bằng tỷ lệ thì đồng hạng (cùng "
              "thứ hạng); đơn vị có lỗi, có số liệu bất thường chưa được xác minh hoặc chưa có tỷ lệ không xếp hạng "
              "(ghi “-”).")
    grid_table(doc, [h for h, _, _ in CITY_TABLE], [c for _, c, _ in CITY_TABLE], [w for _, _, w in CITY_TABLE],
               "don_vi_bang")
    tag(doc, "if bieu_do_anh")
    _para(doc, "{{ bieu_do_anh }}", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "Biểu đồ: tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn, các đơn vị cao nhất và thấp nhất", size=13,
          italic=True, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    tag(doc, "endif")
    h1(doc, "IV. ĐÁNH GIÁ CHUNG")
    for i, (code, heading) in enumerate((("KET_QUA_NOI_BAT", "Kết quả nổi bật"), ("TON_TAI", "Tồn tại, hạn chế"),
                                         ("NGUYEN_NHAN", "Nguyên nhân")), start=1):
        h2(doc, f"{i}. {heading}")
        _city_text(doc, f"noi_dung.{code}")
    h1(doc, "V. NHIỆM VỤ TRỌNG TÂM {{ ky.ky_toi_hoa }}")
    _city_text(doc, "noi_dung.NHIEM_VU", numbered_items=True)
    h1(doc, "VI. KIẾN NGHỊ, ĐỀ XUẤT")
    _city_text(doc, "noi_dung.KIEN_NGHI", numbered_items=True)
    closing(doc, "Trên đây là Báo cáo tổng hợp kết quả cải cách hành chính {{ ky.ten }} của các xã, phường, đặc "
                 "khu trên địa bàn thành phố./.")
    signature_block(doc, findings=False)


def _city_text(doc, items: str, numbered_items: bool = False) -> None:
    """The city officer's paragraphs of one heading (sheet «Nội dung» of tong_hop.xlsm), or a draft's blank note."""
    tag(doc, f"if {items}")
    # numbered as the seeds number tasks and proposals, a lone one not ("1." alone is no list)
    each(doc, items, "{{ (loop.index ~ '. ') if loop.length > 1 else '' }}{{ x }}" if numbered_items else "{{ x }}")
    tag(doc, "else")
    body(doc, CITY_EMPTY, italic=True)
    tag(doc, "endif")


def build_dispatch(doc) -> None:
    """The city's công văn đôn đốc (NĐ 30/2020 Phụ lục I, Mẫu 1.5): the trích yếu «V/v …» under the số in the
    left column, «Kính gửi:», the body, Nơi nhận (the units chased) beside the signature."""
    header_block(doc)
    left = doc.tables[-1].rows[0].cells[0]
    _cell_para(left, "{{ trich_yeu }}", size=12, before=3)
    tag(doc, "if kinh_gui | length == 1")
    _para(doc, "Kính gửi: {{ kinh_gui[0] }}.", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=18, after=12)
    tag(doc, "else")
    _para(doc, "Kính gửi:", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=18, after=0)
    tag(doc, "for x in kinh_gui")
    _para(doc, "- {{ x }}{{ '.' if loop.last else ';' }}", indent=False, left_cm=4.0, after=0)
    tag(doc, "endfor")
    _para(doc, "", indent=False, after=6)
    tag(doc, "endif")
    each(doc, "noi_dung")
    signature_block(doc, findings=False)


BUILDERS = {
    "bao_cao_tong_hop.docx": build_city,
    "cong_van_don_doc.docx": build_dispatch,
    "bao_cao_cchc.docx": build_cchc,
    "bao_cao_cchc_cds.docx": build_cchc_cds,
    "so_ket_2_cap.docx": build_so_ket,
    "chinh_quyen_than_thien.docx": build_cqtt,
}


def build_all(folder: Path = ROOT) -> list[Path]:
    out = []
    for name, builder in BUILDERS.items():
        doc = new_document()
        builder(doc)
        path = folder / name
        doc.save(path)
        out.append(path)
    return out


if __name__ == "__main__":
    for p in build_all(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT):
        print(f"Đã tạo mẫu: {p}")
