"""Layout read back from the PDF LibreOffice prints, page by page (pdftotext), not from the .docx.

- the signature block (Nơi nhận, TM./KT. lines, the signer's name) is whole on one page,
  also when the text before it ends anywhere on a page (filler paragraphs move it);
- the header never wraps the unit name or the place-and-date line;
- no title line holds a year alone;
- a table running onto another page starts that page with its header row, and no row breaks across a page.
Set BAOCAO_PNG_DIR to keep a 60 dpi image of the signature page of each report (a draft's appendix of
findings follows on pages of its own).
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import soffice

from toolkit.intake.reader import read_submission
from toolkit.intake.submission import Loc, Row, Value
from toolkit.reports.render import render_report, types_for

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="cần poppler-utils (pdftotext)")

ND = "nghi_duong_6t_2026"
FILLER = ("Đề nghị các sở, ngành tiếp tục quan tâm hướng dẫn, hỗ trợ xã trong quá trình triển khai thực hiện "
          "các nhiệm vụ được phân cấp, phân quyền, bảo đảm thống nhất, đồng bộ và hiệu quả.")


def _with_filler(sub, n: int):
    sub = copy.copy(sub)
    loc = Loc("Nội dung", "A1")
    extra = [Row(900 + i, loc, {"muc": Value("muc", "Kiến nghị, đề xuất", loc),
                                "noi_dung": Value("noi_dung", f"{FILLER} ({i + 1})", loc)}) for i in range(n)]
    sub.lists = {**sub.lists, "noi_dung": [*sub.lists["noi_dung"], *extra]}
    return sub


def _with_long_table(sub, n: int = 30):
    """Chính quyền thân thiện with `n` unmet sub-criteria: a table of two pages or more. Each row's criterion
    starts with «Mốc k» and its reason ends with «hết k», so a page holding one and not the other split the row."""
    sub = copy.copy(sub)
    loc = Loc("Chính quyền thân thiện", "A1")
    reason = "Chưa bố trí được kinh phí, nhân lực và trang thiết bị để triển khai đầy đủ nội dung của tiêu chí"
    rows = [Row(800 + k, loc, {c: Value(c, v, loc) for c, v in (
        ("tieu_chi", "Chính quyền xanh, văn minh, hiện đại"),
        ("tieu_chi_thanh_phan", f"Mốc {k}: ứng dụng công nghệ số trong hướng dẫn, tra cứu thủ tục hành chính"),
        ("diem_toi_da", 2), ("diem_tu_cham", 1), ("don_vi_chu_tri", "Trung tâm phục vụ hành chính công"),
        ("ly_do", f"{reason} hết {k}"))}) for k in range(1, n + 1)]
    sub.lists = {**sub.lists, "cqtt": rows}
    return sub


@pytest.fixture(scope="module")
def pages(built, tmp_path_factory):
    """{docx stem: [page text, …]} for every unit report of the samples and the sơ kết report with 0-11
    filler paragraphs (one of them ends its text near the foot of a page)."""
    out = tmp_path_factory.mktemp("layout")
    subs = {stem: read_submission(path) for stem, (path, _) in built.items()}
    docs = [render_report(sub, loai, out / f"{stem}_{loai}.docx", draft=True)[0]
            for stem, sub in subs.items() for loai in types_for(sub)]
    docs += [render_report(_with_filler(subs[ND], n), "so-ket-2-cap", out / f"filler_{n:02d}.docx", draft=True)[0]
             for n in range(12)]
    docs.append(render_report(_with_long_table(subs[ND]), "chinh-quyen-than-thien", out / "bang_dai.docx",
                              draft=True)[0])
    soffice(*docs, target="pdf", outdir=out)
    got = {}
    for doc in docs:
        pdf = out / f"{doc.stem}.pdf"
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True, timeout=60).stdout
        got[doc.stem] = [p for p in text.split("\f") if p.strip()]
    got["_pdf_dir"] = out
    return got


def _keep_png(pages, stem: str, page: int) -> None:
    keep = os.environ.get("BAOCAO_PNG_DIR")
    if keep and shutil.which("pdftoppm") and not stem.startswith("filler"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(page + 1), "-l", str(page + 1),
                        str(pages["_pdf_dir"] / f"{stem}.pdf"), str(Path(keep) / f"{stem}_trang_ky")],
                       check=True, timeout=60)


def _docs(pages):
    return [(k, v) for k, v in pages.items() if not k.startswith("_")]


def _signature_page(doc_pages: list[str], signer: str) -> int:
    hits = [i for i, p in enumerate(doc_pages) if signer in p]
    assert hits, signer
    return hits[-1]


SIGNERS = {"cchc-cds": "Lưu Thị Tươi", "so-ket-2-cap": "Nguyễn Thanh Ngọc", "chinh-quyen-than-thien": "Lưu Thị Tươi",
           "cchc-quy": "Đoàn Văn Cát"}


def test_signature_block_is_whole_on_one_page(pages):
    checked = 0
    for stem, doc_pages in _docs(pages):
        kind = (stem.split("_2026_")[-1] if "_2026_" in stem else "so-ket-2-cap" if stem.startswith("filler")
                else "chinh-quyen-than-thien" if stem == "bang_dai" else None)
        if kind not in SIGNERS:
            continue
        at = _signature_page(doc_pages, SIGNERS[kind])
        for line in ("Nơi nhận:", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "- Lưu: VT"):
            assert line in doc_pages[at], (stem, line)
        _keep_png(pages, stem, at)
        checked += 1
    assert checked >= 16


def test_fillers_really_move_the_block_across_a_page_foot(pages):
    """Guard of the test above: the filler variants put the signature on at least two different pages."""
    where = {len(pages[f"filler_{n:02d}"]) for n in range(12)}
    assert len(where) >= 2


def test_header_lines_never_wrap(pages):
    for stem, doc_pages in _docs(pages):
        first = doc_pages[0]
        assert re.search(r"(Nghi Dương|Nguyễn Lương Bằng), ngày\s+\S*\s*tháng\s+\S*\s*năm \d{4}", first), stem
        unit = "XÃ NGHI DƯƠNG" if ND in stem or stem.startswith(("filler", "bang_dai")) else "XÃ NGUYỄN LƯƠNG BẰNG"
        assert unit in first and "ỦY BAN NHÂN DÂN" in first, stem


def _title_lines(doc_pages: list[str]) -> list[str]:
    """The trích yếu lines under "BÁO CÁO" and every "PHẦN …" heading with the line after it."""
    lines = [ln.strip() for p in doc_pages for ln in p.splitlines() if ln.strip()]
    start = lines.index("BÁO CÁO")
    end = next(i for i in range(start + 1, len(lines)) if re.match(r"(I\.|PHẦN|Căn cứ|Thực hiện|Ủy ban|UBND)", lines[i]))
    heads = [ln for i, ln in enumerate(lines) for ln in lines[i:i + 2] if ln.startswith("PHẦN ")]
    return lines[start:end] + heads


def test_no_title_line_holds_a_year_alone(pages):
    for stem, doc_pages in _docs(pages):
        titles = _title_lines(doc_pages)
        assert len(titles) >= 2, stem
        for line in titles:
            assert not re.fullmatch(r"(năm\s+)?\d{4}[,;.]?", line, re.I), (stem, line)


def _headings(docx: Path) -> list[str]:
    """The headings of a rendered report: its body's paragraphs written all in bold."""
    from docx import Document

    return [p.text.strip() for p in Document(str(docx)).paragraphs
            if p.text.strip() and all(r.bold for r in p.runs if r.text.strip())]


def test_no_page_ends_with_a_heading(pages):
    """Every report type and every filler variant: a heading stands on the page of the text it heads."""
    checked = 0
    for stem, doc_pages in _docs(pages):
        headings = _headings(pages["_pdf_dir"] / f"{stem}.docx")
        assert headings, stem
        for n, page in enumerate(doc_pages[:-1], 1):
            last = [ln.strip() for ln in page.splitlines() if ln.strip()][-1]
            assert not any(h.startswith(last) or h.endswith(last) for h in headings), (stem, n, last)
            checked += 1
    assert checked > 40


def test_nothing_runs_past_a_margin(pages):
    """Every line of every report page lies between the 3 cm left and 1,5 cm right margins (NĐ 30/2020)."""
    import xml.etree.ElementTree as ElementTree

    cm = 72 / 2.54
    for stem, _ in _docs(pages):
        xml = subprocess.run(["pdftotext", "-bbox-layout", str(pages["_pdf_dir"] / f"{stem}.pdf"), "-"],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        root = ElementTree.fromstring(re.sub(r'\sxmlns="[^"]+"', "", xml, count=1))
        for n, page in enumerate(root.iter("page"), 1):
            width = float(page.get("width"))
            for line in page.iter("line"):
                x0, x1 = float(line.get("xMin")), float(line.get("xMax"))
                text = " ".join(w.text or "" for w in line.iter("word"))
                assert 3 * cm - 1 <= x0 and x1 <= width - 1.5 * cm + 1, (stem, n, round(x0), round(x1), text)


TABLE_HEADER = re.compile(r"^\s*Stt\s+Tiêu chí thành phần\s+Điểm\s+Đơn vị chủ trì\s+Lý do chưa thực hiện")


def test_a_table_continues_under_its_header_and_keeps_its_rows_whole(pages):
    """The 30-row table of unmet sub-criteria runs over pages: each page it continues on opens with the header row
    (w:tblHeader), and every row's first and last words are on one page (w:cantSplit)."""
    doc = pages["bang_dai"]
    where = {}
    for n, page in enumerate(doc):
        for k in map(int, re.findall(r"Mốc (\d+):", page)):
            where.setdefault(k, []).append(n)
        for k in map(int, re.findall(r"hết (\d+)", page)):
            where.setdefault(k, []).append(n)
    assert sorted(where) == list(range(1, 31))
    assert all(len(set(at)) == 1 for at in where.values()), {k: at for k, at in where.items() if len(set(at)) > 1}
    spans = sorted({at[0] for at in where.values()})
    assert len(spans) >= 2, "the table should run onto a second page"
    for n in spans:
        lines = [ln for ln in doc[n].splitlines() if ln.strip()]
        head = next(i for i, ln in enumerate(lines) if TABLE_HEADER.match(ln))
        first_row = next(i for i, ln in enumerate(lines) if re.search(r"Mốc \d+:", ln))
        assert head < first_row, (n, lines[:first_row + 1])
        if n != spans[0]:  # a continuation page: the header is its first line (after the page number)
            assert head <= 1, (n, lines[:3])


def test_every_table_row_of_a_unit_report_is_kept_whole(built, tmp_path):
    """In the .docx of every unit report type, each bordered table repeats its first row and never splits a row."""
    from docx import Document

    sub = _with_long_table(read_submission(built[ND][0]), 3)
    checked = 0
    for loai in ("cchc-cds", "cchc-6-thang-nam", "so-ket-2-cap", "chinh-quyen-than-thien"):
        body = Document(str(render_report(sub, loai, tmp_path / f"{loai}.docx", draft=True)[0])).element.body
        for table in body.iter("{*}tbl"):
            if table.xpath("./w:tblPr/w:tblBorders/w:top[@w:val='nil']"):
                continue  # the borderless header and signature blocks are layout, not tables of data
            rows = table.findall("{*}tr")
            assert rows[0].find("{*}trPr/{*}tblHeader") is not None, loai
            assert all(r.find("{*}trPr/{*}cantSplit") is not None for r in rows), loai
            checked += 1
    assert checked >= 1
