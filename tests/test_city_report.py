"""The city report is the city workbook in words: same consolidation, same units, same numbers, one period."""
import dataclasses
import re
import shutil

import openpyxl
import pytest
from conftest import run_cli
from PIL import Image
from test_reports import document_text

from toolkit import synthetic as S
from toolkit.city.consolidation import consolidate
from toolkit.city.report import NO_SIGNER, chart_png, city_context, render_city_report
from toolkit.city.workbook import write_city_workbook
from toolkit.reports.context import num
from toolkit.vnformat import fmt_number, fmt_percent

YEAR = 2026
NUMBER = re.compile(r"(?<![\w/])\d{1,3}(?:\.\d{3})*(?:,\d+)?%?(?![\w/])")


@pytest.fixture(scope="module")
def city(tmp_path_factory, form):
    """111 units of 6 tháng, 3 missing, 2 with errors, and a stray Quý II file that must not be summed."""
    root = tmp_path_factory.mktemp("city_report")
    inbox = root / "phieu"
    codes = [u.code for u in form.units]
    S.generate(inbox, "6T", YEAR, missing=set(codes[:3]), broken=set(codes[3:5]), form=form)
    S.generate(inbox / "la", "Q2", YEAR, [form.units[10]], form=form)
    res = consolidate(inbox, "6T", YEAR)
    book = write_city_workbook(res, root / "tong_hop.xlsx")
    doc = render_city_report(res, root / "bao_cao_tong_hop.docx")[0]
    return {"res": res, "book": book, "doc": doc, "text": document_text(doc), "inbox": inbox, "root": root}


def _workbook_numbers(book) -> set[str]:
    """Every number of every sheet, written the ways a report writes numbers."""
    out = set()
    for ws in openpyxl.load_workbook(book, read_only=True).worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out |= {fmt_number(v), num(v), fmt_percent(v, fixed=True), fmt_percent(v)}
    return out


def test_every_number_printed_is_in_the_city_workbook(city):
    body = city["text"].split("\n", 1)[1]  # the header line holds the date line's year only
    printed = set(NUMBER.findall(body))
    allowed = _workbook_numbers(city["book"]) | {str(YEAR)}  # and the year of the period
    assert len(printed) > 300 and not {n for n in printed if n not in allowed}


def test_each_unit_line_equals_its_workbook_row(city):
    wb = openpyxl.load_workbook(city["book"], read_only=True)
    status = {r[1]: r for r in wb["Tình hình nộp"].iter_rows(values_only=True) if r[1] and str(r[1]).isdigit()}
    table = {}
    for name in (n for n in wb.sheetnames if n.startswith("Tổng hợp")):
        rows = list(wb[name].iter_rows(values_only=True))
        codes = rows[4]
        for r in rows[5:5 + 114]:
            table.setdefault(r[1], {}).update({c: v for c, v in zip(codes, r) if c})
    lines = [ln.split(" | ") for ln in city["text"].splitlines() if re.match(r"^\d+ \| ", ln)]
    assert len(lines) == city["res"].received == 111
    names = {r.unit.name: r.unit.code for r in city["res"].rows}
    for stt, name, tiep_nhan, da_gq, dung_han, truc_tuyen, loi, hang in lines:
        row = table[names[name]]
        assert tiep_nhan == num(row["HS_TIEP_NHAN"]) and da_gq == num(row["HS_DA_GQ"]), name
        assert dung_han == fmt_percent(row["TL_HS_DUNG_HAN"], fixed=True), name
        assert truc_tuyen == fmt_percent(row["TL_HS_TRUC_TUYEN"], fixed=True), name
        assert hang == num(row["HANG_TL_HS_DUNG_HAN"]) and loi == num(status[names[name]][8]), name


def test_totals_and_counts_equal_the_workbook(city):
    t, text = city["res"].totals, city["text"]
    assert "Có 111/114 đơn vị gửi phiếu số liệu (đạt 97,37%); 03 đơn vị chưa gửi." in text
    assert f"Tổng số hồ sơ tiếp nhận của các đơn vị là {num(t['HS_TIEP_NHAN'])} hồ sơ." in text
    assert (f"trong đó {num(t['HS_TRUOC_DUNG_HAN'])} hồ sơ giải quyết trước hạn và đúng hạn, đạt tỷ lệ "
            f"{fmt_percent(t['TL_HS_DUNG_HAN'], fixed=True)}.") in text


def test_one_period_and_the_stray_quarter_is_not_summed(city, form):
    title = next(ln for ln in city["text"].splitlines() if ln.startswith("Tổng hợp kết quả cải cách hành chính"))
    assert title == "Tổng hợp kết quả cải cách hành chính 6 tháng đầu năm 2026"
    assert "quý" not in city["text"].lower().split("i. tình hình gửi báo cáo")[0]
    assert "01 tệp thuộc kỳ khác không được cộng vào số liệu 6 tháng đầu năm 2026" in city["text"]
    q2 = S.unit_values(form, form.units[10].code, "Q2", YEAR)["HS_TIEP_NHAN"]
    six = S.unit_values(form, form.units[10].code, "6T", YEAR)["HS_TIEP_NHAN"]
    row = next(r for r in city["res"].rows if r.unit.code == form.units[10].code)
    assert row.value("HS_TIEP_NHAN") == six != q2


def test_cli_infers_the_period_and_says_so(city, tmp_path, form):
    out = tmp_path / "bc.docx"
    done = run_cli("bao-cao", str(city["inbox"]), "--loai", "tong-hop", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Kỳ báo cáo lấy theo các phiếu: 6 tháng đầu năm 2026 (111 phiếu)" in done.stdout
    assert document_text(out) == city["text"]
    quarter = run_cli("bao-cao", str(city["inbox"]), "--loai", "tong-hop", "--ky", "Q2", "--nam", "2026",
                      "--out", str(tmp_path / "q2.docx"))
    assert quarter.returncode == 0 and "Kỳ báo cáo lấy" not in quarter.stdout
    assert "Có 01/114 đơn vị" in document_text(tmp_path / "q2.docx")
    wrong = run_cli("bao-cao", str(city["inbox"] / "la" / S.file_name(form.units[10], "Q2", YEAR)),
                    "--loai", "cchc-quy", "--ky", "Q2")
    assert wrong.returncode == 2 and "chỉ dùng với --loai tong-hop" in wrong.stderr


def test_signer_name_comes_from_the_definition(city, form):
    assert city_context(city["res"])["nguoi_ky"] == NO_SIGNER  # the bundled definition leaves it to the city
    named = dataclasses.replace(form, city_report={**form.city_report, "signer": "Trần Thị B"})
    res = dataclasses.replace(city["res"], form=named)
    assert city_context(res)["nguoi_ky"] == "Trần Thị B"
    assert city_context(res)["co_quan_chu_quan"] == "UBND THÀNH PHỐ HẢI PHÒNG"


def test_chart_is_twenty_units_half_a_page_on_an_axis_that_shows_differences(city, tmp_path):
    png = tmp_path / "chart.png"
    png.write_bytes(chart_png(city["res"]))
    img = Image.open(png)
    assert 0.5 <= img.height / img.width <= 0.75  # 16 cm wide: 8 to 12 cm high, under half an A4 page
    top, bottom = city["res"].extremes("TL_HS_DUNG_HAN", 10)
    assert len(top) == len(bottom) == 10 and top[0].value("TL_HS_DUNG_HAN") >= bottom[0].value("TL_HS_DUNG_HAN")


def test_demo_city_report_covers_the_city_workbook_units(tmp_path):
    from toolkit.demo import run_demo

    assert run_demo(tmp_path / "demo") == 0
    text = document_text(tmp_path / "demo" / "bao_cao" / "tong_hop_6_thang_2026.docx")
    ws = openpyxl.load_workbook(tmp_path / "demo" / "tong_hop_6_thang_2026.xlsx", read_only=True)["Tình hình nộp"]
    summary = {r[1]: r[3] for r in ws.iter_rows(min_row=2, max_row=7, values_only=True)}
    assert f"Có {num(summary['Đã nộp'])}/{num(summary['Số đơn vị phải nộp'])} đơn vị gửi" in text
    assert summary["Đã nộp"] == 111
    shutil.rmtree(tmp_path / "demo")


def test_header_lines_never_wrap_in_the_printed_report(city, tmp_path):
    """Read back from LibreOffice's PDF: the parent body, the issuer and the date line each keep one line."""
    import subprocess

    from conftest import soffice_convert
    pdf = soffice_convert(city["doc"], "pdf", tmp_path)
    first = subprocess.run(["pdftotext", "-layout", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert any("UBND THÀNH PHỐ HẢI PHÒNG" in line and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line for line in first)
    assert any(re.search(r"Hải Phòng, ngày .* năm 2026", line) for line in first)
