"""The workbook prints legibly: LibreOffice's PDF of the blank form and of both samples has no two text lines on
top of each other and no text below 9 pt (LibreOffice measures with Carlito, Calibri's metrics, as Excel does)."""
import re
import shutil
import subprocess
from xml.etree import ElementTree

import pytest
from conftest import soffice

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="cần poppler-utils (pdftotext)")

PT = 1.25  # height of a line's box in pdftotext per point of font size (Liberation Serif, measured)


def lines(pdf):
    """(page, box, text) of every text line of the PDF."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    root = ElementTree.fromstring(re.sub(r'\sxmlns="[^"]+"', "", xml, count=1))
    for n, page in enumerate(root.iter("page"), 1):
        for line in page.iter("line"):
            box = tuple(float(line.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))
            yield n, box, " ".join(w.text or "" for w in line.iter("word"))


def overlapping(found):
    """Pairs of lines of one page whose boxes share more than a third of the lower one's height."""
    pairs = []
    for i, (page, a, ta) in enumerate(found):
        for page_b, b, tb in found[i + 1:]:
            if page_b != page:
                break
            wide = min(a[2], b[2]) - max(a[0], b[0])
            tall = min(a[3], b[3]) - max(a[1], b[1])
            if wide > 1 and tall > min(a[3] - a[1], b[3] - b[1]) / 3:
                pairs.append((page, ta[:50], tb[:50]))
    return pairs


@pytest.fixture(scope="module")
def pdfs(built, blank, tmp_path_factory):
    if "Carlito" not in subprocess.run(["fc-list"], capture_output=True, text=True).stdout:
        pytest.skip("cần phông Carlito (apt-get install fonts-crosextra-carlito) để đo như Excel")
    out = tmp_path_factory.mktemp("print")
    sources = [blank] + [path for path, _ in built.values()]
    soffice(*sources, target="pdf", outdir=out)
    return {p.stem: sorted(lines(out / f"{p.stem}.pdf"), key=lambda x: (x[0], x[1][1])) for p in sources}


def test_no_text_line_prints_over_another(pdfs):
    for name, found in pdfs.items():
        assert found and overlapping(found) == [], name


def test_no_text_prints_below_9_points(pdfs):
    for name, found in pdfs.items():
        small = [(page, round((box[3] - box[1]) / PT, 1), text[:40]) for page, box, text in found
                 if box[3] - box[1] < 9 * PT]
        assert small == [], name


def test_the_overlap_check_sees_lines_on_top_of_each_other():
    found = [(1, (10, 100, 300, 115), "một dòng"), (1, (50, 106, 280, 121), "dòng in đè"),
             (1, (10, 130, 300, 145), "dòng sau")]
    assert overlapping(found) == [(1, "một dòng", "dòng in đè")]
