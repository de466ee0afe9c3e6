"""The city workbook prints legibly: a consolidation of 114 demo units through LibreOffice to PDF has no text
below 8 pt on any sheet, no two lines on top of each other, each Tổng hợp sheet one page wide on a few pages; the
indicator codes stay in the file for programs but never print; no number format leaves a trailing separator."""
import re
import shutil
import zipfile

import openpyxl
import pytest
from conftest import soffice
from test_print import PT, lines, overlapping

from toolkit import synthetic as S
from toolkit.city.consolidation import consolidate
from toolkit.city.workbook import TABLE_HEAD, table_sheets, write_city_workbook

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="cần poppler-utils (pdftotext)")


@pytest.fixture(scope="module")
def printed(tmp_path_factory, form):
    root = tmp_path_factory.mktemp("cityprint")
    codes = [u.code for u in form.units]
    S.generate(root / "phieu", "6T", 2026, missing=set(codes[:2]), late=set(codes[2:4]), form=form)
    res = consolidate(root / "phieu", "6 tháng đầu năm", 2026)
    out = write_city_workbook(res, root / "tong_hop.xlsx")
    soffice(out, target="pdf", outdir=root)
    found = sorted(lines(root / "tong_hop.pdf"), key=lambda x: (x[0], x[1][1]))
    return {"res": res, "out": out, "lines": found}


def _footers(found, names):
    """Sheet name of each page, from its footer (the name, bottom left)."""
    bottom = {}
    for page, box, _ in found:
        bottom[page] = max(bottom.get(page, 0), box[3])
    return {page: text for page, box, text in found if text in names and box[3] > bottom[page] - 2}


def test_no_text_prints_below_8_points(printed):
    small = [(page, round((box[3] - box[1]) / PT, 1), text[:40]) for page, box, text in printed["lines"]
             if box[3] - box[1] < 8 * PT]
    assert small == []


def test_no_text_line_prints_over_another(printed):
    assert printed["lines"] and overlapping(printed["lines"]) == []


def test_every_table_sheet_prints_on_a_few_pages(printed):
    pages = {}
    names = table_sheets(printed["res"])
    for page, sheet in _footers(printed["lines"], names).items():
        pages.setdefault(sheet, []).append(page)
    assert set(names) <= set(pages)
    assert all(len(pages[n]) <= 4 for n in names), {n: len(pages[n]) for n in names}


def test_codes_are_in_the_file_but_never_print(printed):
    wb = openpyxl.load_workbook(printed["out"])
    text = " ".join(t for _, _, t in printed["lines"])
    for name in table_sheets(printed["res"]):
        ws = wb[name]
        assert ws.row_dimensions[TABLE_HEAD + 2].hidden  # openpyxl counts rows from 1
        codes = [c.value for c in ws[TABLE_HEAD + 2] if c.value]
        assert codes and all(code not in text for code in codes if "_" in code)
        assert ws.print_title_rows == f"${TABLE_HEAD}:${TABLE_HEAD + 1}"  # group and label rows, not codes


def test_notes_wrap_inside_the_table(printed):
    ws = openpyxl.load_workbook(printed["out"])[table_sheets(printed["res"])[0]]
    assert any(str(r).startswith("A2:") for r in ws.merged_cells.ranges)
    assert ws["A2"].alignment.wrap_text


def test_no_number_format_leaves_a_trailing_separator(printed):
    with zipfile.ZipFile(printed["out"]) as z:
        styles = z.read("xl/styles.xml").decode()
    formats = set(re.findall(r'formatCode="([^"]+)"', styles))
    assert formats and not any("#." in f.replace("#,##", "") or f.endswith("#") and "." in f for f in formats)
    assert {"#,##0.00", "#,##0.0"} <= formats
