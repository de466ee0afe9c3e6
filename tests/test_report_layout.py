"""Layout read back from the PDF LibreOffice prints, page by page (pdftotext), not from the .docx.

- the signature block (Nơi nhận, TM./KT. lines, the signer's name) is whole on one page,
  also when the text before it ends anywhere on a page (filler paragraphs move it);
- the header never wraps the unit name or the place-and-date line;
- no title line holds a year alone.
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
        kind = stem.split("_2026_")[-1] if "_2026_" in stem else "so-ket-2-cap" if stem.startswith("filler") else None
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
        unit = "XÃ NGHI DƯƠNG" if ND in stem or stem.startswith("filler") else "XÃ NGUYỄN LƯƠNG BẰNG"
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
