"""Word reports: golden text per report type, page setup read back, autoescape, missing variables, PDF/PNG.

Golden files in tests/expected/ hold the normalised document text (paragraphs and table
cells in document order, whitespace collapsed, NFC). Rewrite them after a deliberate
change with BAOCAO_UPDATE_GOLDEN=1 and read the diff before committing.
"""
from __future__ import annotations

import copy
import difflib
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from docx import Document
from docx.shared import Cm, Pt

from toolkit.city.consolidation import consolidate
from toolkit.city.report import render_city_report
from toolkit.errors import BaocaoError
from toolkit.intake.reader import read_submission
from toolkit.intake.submission import Loc, Row, Value
from toolkit.reports.context import unit_context
from toolkit.reports.render import CompiledTemplate, make_env, render_batch, render_report, to_pdf
from toolkit.vnformat import CITY_TZ

EXPECTED = Path(__file__).parent / "expected"
NLB, ND = "nguyen_luong_bang_q1_2026", "nghi_duong_6t_2026"
# The city report's day and the time its workbooks came in, fixed: days late and overdue are counted from them.
TODAY, RECEIVED = date(2026, 7, 1), datetime(2026, 6, 22, 9, 0, tzinfo=CITY_TZ).timestamp()
CASES = [(NLB, "cchc-quy"), (ND, "cchc-6-thang-nam"), (ND, "cchc-cds"), (ND, "so-ket-2-cap"),
         (ND, "chinh-quyen-than-thien"), ("ca_hai", "tong-hop")]


@pytest.fixture(scope="session")
def subs(built):
    return {stem: read_submission(path) for stem, (path, _) in built.items()}


@pytest.fixture(scope="session")
def rendered(subs, built, tmp_path_factory, city_book):
    out = tmp_path_factory.mktemp("reports")
    docs = {}
    for stem, loai in CASES:
        if loai == "tong-hop":  # both samples in one folder: the 6-month one is counted, the quarter is not
            folder = out / "ca_hai"
            folder.mkdir()
            for path, _ in built.values():
                shutil.copy2(path, folder / path.name)
                os.utime(folder / path.name, (RECEIVED, RECEIVED))  # the golden text's days late do not age
            docs[(stem, loai)] = render_city_report(consolidate(folder, "6T", 2026, today=TODAY),
                                                    out / f"{stem}_{loai}.docx", book=city_book["book"])[0]
            continue
        # both samples keep the seeds' own mistakes for the checker, so their reports are drafts
        docs[(stem, loai)] = render_report(subs[stem], loai, out / f"{stem}_{loai}.docx", draft=True)[0]
    return docs


def document_text(path: Path) -> str:
    """Paragraphs and table cells in document order, one line each, whitespace collapsed, NFC."""
    doc = Document(path)
    lines = []
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in block.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            for row in block.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row:
                        if cell.tag.endswith("}tc"):
                            paras = [("".join(t.text or "" for t in p.iter() if t.tag.endswith("}t")))
                                     for p in cell if p.tag.endswith("}p")]
                            cells.append(" / ".join(x for x in paras if x.strip()))
                    lines.append(" | ".join(cells))
    norm = [re.sub(r"\s+", " ", unicodedata.normalize("NFC", ln)).strip() for ln in lines]
    return "\n".join(ln for ln in norm if ln.strip(" |")) + "\n"


@pytest.mark.parametrize("stem,loai", CASES)
def test_golden_text(rendered, stem, loai):
    text = document_text(rendered[(stem, loai)])
    golden = EXPECTED / f"{stem}_{loai}.txt"
    if os.environ.get("BAOCAO_UPDATE_GOLDEN") == "1" or not golden.exists():
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        if os.environ.get("BAOCAO_UPDATE_GOLDEN") != "1":
            pytest.fail(f"đã tạo tệp mẫu {golden.name}; hãy đọc lại rồi chạy lại kiểm thử")
    want = golden.read_text(encoding="utf-8")
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                            f"expected/{golden.name}", "rendered"))
        pytest.fail("văn bản báo cáo khác tệp mẫu:\n" + diff)


def test_seed_sentences(rendered):
    nd = document_text(rendered[(ND, "cchc-cds")])
    assert "Tổng số hồ sơ tiếp nhận là 5.892 hồ sơ, trong đó: 5.805 hồ sơ trong kỳ; 87 hồ sơ từ kỳ trước." in nd
    assert ("Tổng số hồ sơ đã giải quyết là 5.839 hồ sơ, trong đó: 5.792 hồ sơ "
            "được giải quyết trước hạn và "
            "đúng hạn, đạt tỷ lệ 99,2%; 05 hồ sơ quá hạn (gồm: 02 hồ sơ lĩnh vực đất đai; 01 hồ sơ lĩnh vực bảo "
            "trợ xã hội; 02 hồ sơ lĩnh vực hộ tịch); 13 hồ sơ từ chối, không giải quyết (có lý do); 29 hồ sơ rút.") in nd
    assert "Số lượng hồ sơ đang giải quyết là 53 hồ sơ (trong hạn)." in nd
    assert "Quyết định số 12/QĐ-UBND ngày 09/01/2026" in nd
    assert "None" not in nd
    nlb = document_text(rendered[(NLB, "cchc-quy")])
    # 99.385 / 270.819 = 36,698%: the report prints the officer's typed 36,69 (the checker flags the rounding)
    assert "99.385 triệu đồng, bằng 36,69% kế hoạch (270.819 triệu đồng)" in nlb
    assert "10.529 triệu đồng, bằng 10,3% kế hoạch (102.490 triệu đồng)" in nlb
    assert "Tổng số hồ sơ của dịch vụ công trực tuyến toàn trình là 337 hồ sơ, trong đó 324 hồ sơ nộp trực tuyến, " \
           "đạt tỷ lệ 96,14%." in nlb
    assert "None" not in nlb
    cq = document_text(rendered[(ND, "chinh-quyen-than-thien")])
    assert "1 | Vận hành App trên thiết bị thông minh" in cq
    assert "| 05 | Các cơ quan, đơn vị |" in cq
    city = document_text(rendered[("ca_hai", "tong-hop")])
    # only the 6-month workbook is of the period; it keeps the seed's mistakes, so it is named and not summed,
    # and its own row still shows its figures, unranked
    assert "Có 01 đơn vị gửi phiếu còn lỗi, số liệu không được tổng hợp: Xã Nghi Dương (03 lỗi)." in city
    assert "Xã Nghi Dương | 5.892 | 5.839 | 99,20 | 100,00 | 3 | -" in city
    assert "Có 01/114 đơn vị gửi phiếu số liệu" in city and "01 tệp thuộc kỳ khác không được cộng" in city


@pytest.mark.parametrize("stem,loai", CASES)
def test_page_setup_and_fonts(rendered, stem, loai):
    doc = Document(rendered[(stem, loai)])
    sec = doc.sections[0]
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)
    cm = {k: round(getattr(sec, f"{k}_margin").cm, 2) for k in ("top", "bottom", "left", "right")}
    assert 2.0 <= cm["top"] <= 2.5 and 2.0 <= cm["bottom"] <= 2.5, cm
    assert 3.0 <= cm["left"] <= 3.5 and 1.5 <= cm["right"] <= 2.0, cm
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert doc.styles["Normal"].font.size == Pt(14)
    header = doc.tables[0]
    # NĐ 30/2020 Phụ lục I lets the chủ quản line abbreviate Ủy ban nhân dân (the city's would wrap otherwise)
    assert re.search("ỦY BAN NHÂN DÂN|UBND", header.cell(0, 0).text)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header.cell(0, 1).text
    assert "Độc lập - Tự do - Hạnh phúc" in header.cell(0, 1).text
    fonts = {r.font.name for p in doc.paragraphs for r in p.runs if r.text.strip()}
    assert fonts <= {"Times New Roman"}, fonts
    body = [p for p in doc.paragraphs if len(p.text) > 200]
    assert body and all(p.paragraph_format.first_line_indent == Cm(1.27) for p in body)
    assert sec.different_first_page_header_footer
    assert "PAGE" in sec.header._element.xml and "PAGE" not in sec.first_page_header._element.xml
    title = next(p for p in doc.paragraphs if p.text == "BÁO CÁO")
    assert title.runs[0].bold and title.alignment == 1


def _with_text(sub, block_label: str, text: str):
    sub = copy.copy(sub)
    sub.lists = dict(sub.lists)
    loc = Loc("Nội dung", "A1")
    sub.lists["noi_dung"] = [*sub.lists["noi_dung"],
                             Row(999, loc, {"muc": Value("muc", block_label, loc),
                                            "noi_dung": Value("noi_dung", text, loc)})]
    return sub


def test_autoescape_keeps_user_text_literal(subs, tmp_path):
    sub = _with_text(subs[NLB], "Kết quả cải cách thể chế", "A & B <c> \"d\"")
    out = render_report(sub, "cchc-quy", tmp_path / "esc.docx", draft=True)[0]
    assert "A & B <c> \"d\"" in document_text(out)


def _template_with(tmp_path: Path, text: str) -> Path:
    doc = Document()
    doc.add_paragraph(text)
    path = tmp_path / "mau.docx"
    doc.save(path)
    return path


def test_unknown_variable_is_named(subs, tmp_path):
    ctx = unit_context(subs[ND])
    with pytest.raises(BaocaoError, match="«bien_la»"):
        CompiledTemplate(_template_with(tmp_path, "{{ bien_la }}"), make_env()).render(ctx, tmp_path / "a.docx")
    with pytest.raises(BaocaoError, match="«khong_co»"):
        CompiledTemplate(_template_with(tmp_path, "{{ don_vi.khong_co }}"), make_env()).render(ctx, tmp_path / "b.docx")
    assert not (tmp_path / "a.docx").exists()


def test_wrong_period_names_the_right_type(subs, tmp_path):
    with pytest.raises(BaocaoError, match="cchc-6-thang-nam"):
        render_report(subs[ND], "cchc-quy", tmp_path / "x.docx", draft=True)
    with pytest.raises(BaocaoError, match="không có"):
        render_report(subs[ND], "khong-ton-tai", tmp_path / "x.docx")


def test_batch_renders_each_unit(subs, tmp_path):
    many = []
    for i in range(3):
        s = copy.copy(subs[ND])
        s.path = Path(f"don_vi_{i}.xlsx")
        many.append(s)
    out = render_batch([], "chinh-quyen-than-thien", tmp_path, subs=many, draft=True)
    assert [p.name for p in out] == [f"don_vi_{i}_chinh-quyen-than-thien.docx" for i in range(3)]
    assert document_text(out[0]) == document_text(out[2])


def test_report_types_are_seven_over_six_templates(form):
    """Five unit report types over four templates (quarterly and 6-month share one), the city's synthesis and
    its reminder dispatch: a new type is an entry in form.yaml, a new template only where the layout differs."""
    assert len(form.reports) == 7
    assert len({t.template for t in form.reports.values()}) == 6
    assert sorted(c for c, t in form.reports.items() if t.city) == ["don-doc", "tong-hop"]


def test_pdf_and_page_one_png(rendered, tmp_path):
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        pytest.skip("LibreOffice chưa được cài")
    pdfs = to_pdf(list(rendered.values()), tmp_path)
    keep = Path(os.environ.get("BAOCAO_PNG_DIR", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    for pdf in pdfs:
        assert pdf.stat().st_size > 5000
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(keep / pdf.stem)],
                           check=True, timeout=60)
            assert list(keep.glob(f"{pdf.stem}*.png"))


def test_a_report_is_refused_only_for_errors_in_what_it_prints(tmp_path):
    """The Nghi Dương workbook's three errors are register rows of groups the sơ kết and Chính quyền thân thiện
    reports never cite: both are written, and the command names the errors as not blocking them; the CCHC report,
    which cites those documents, is refused."""
    wb = ROOT / "workbooks" / f"{ND}.xlsx"
    rows = ("Văn bản!C15", "Văn bản!C27", "Văn bản!D31")
    for loai in ("so-ket-2-cap", "chinh-quyen-than-thien"):
        done = run_cli("bao-cao", str(wb), "--loai", loai, "--out", str(tmp_path / f"{loai}.docx"))
        assert done.returncode == 0 and (tmp_path / f"{loai}.docx").exists(), done.stderr
        assert "3 lỗi nằm ngoài những gì báo cáo này in ra nên không chặn báo cáo" in done.stdout
        assert all(f"- {r}: " in done.stdout for r in rows)
    refused = run_cli("bao-cao", str(wb), "--loai", "cchc-cds", "--out", str(tmp_path / "cds.docx"))
    assert refused.returncode == 1 and not (tmp_path / "cds.docx").exists()
    assert all(f"- {r}: " in refused.stderr for r in rows)


def test_a_figure_error_refuses_the_reports_that_state_the_figure(subs, tmp_path):
    """One more file received than the parts add up to: the reports whose sentences state the procedures
    figures are refused for it, the Chính quyền thân thiện report (which states none) is not, and its draft
    lists none of it."""
    from toolkit.reports.render import ReportRefused

    sub = copy.copy(subs[ND])
    sub.values = dict(sub.values)
    v = sub.values["HS_TIEP_NHAN"]
    sub.values["HS_TIEP_NHAN"] = Value(v.code, v.value + 1, v.loc)
    for loai in ("cchc-cds", "so-ket-2-cap"):
        with pytest.raises(ReportRefused) as refused:
            render_report(sub, loai, tmp_path / f"{loai}.docx")
        assert {f.where for f in refused.value.findings} >= {v.loc.sheet + "!" + v.loc.cell}
    aside = []
    render_report(sub, "chinh-quyen-than-thien", tmp_path / "cqtt.docx", aside=lambda s, e: aside.extend(e))
    assert {f.where for f in aside} >= {f"{v.loc.sheet}!{v.loc.cell}", "Văn bản!C15"}
    draft = render_report(sub, "chinh-quyen-than-thien", tmp_path / "cqtt_du_thao.docx", draft=True)[0]
    # none of those errors concerns it: its draft has no appendix at all (an appendix only lists something)
    text = document_text(draft)
    assert "PHỤ LỤC" not in text and "Số liệu!" not in text and "Văn bản!" not in text
