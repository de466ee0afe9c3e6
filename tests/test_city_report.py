"""The city report is the city workbook in words: same consolidation, same units, same numbers, one period,
the outline of a unit CCHC report, and no sentence that contradicts its own numbers."""
import copy
import dataclasses
import re
import shutil
import subprocess

import openpyxl
import pytest
from conftest import run_cli, soffice_convert
from PIL import Image
from test_reports import document_text

from toolkit import synthetic as S
from toolkit.city.consolidation import COUNT_RULE, ST_ERRORS, ST_MISSING, city_totals, consolidate
from toolkit.city.report import NO_SIGNER_NOTE, chart_png, city_context, render_city_report
from toolkit.city.sentences import ranking
from toolkit.city.workbook import BASE_ROWS, SHEET_STATUS, table_sheets, write_city_workbook
from toolkit.reports.context import num
from toolkit.vnformat import fmt_number, fmt_percent, ratio_percent

YEAR = 2026
NUMBER = re.compile(r"(?<![\w/.,])\d{1,3}(?:\.\d{3})*(?:,\d+)?%?(?![\w/]|[.,]\d)")
FIGURE = r"\d{1,3}(?:\.\d{3})*(?:,\d+)?"
UNITS_AT_FULL = "đơn vị đạt 100%"  # "87/106 đơn vị đạt 100%": a count of units, not a rate of counts
# "X/Y …, đạt Z%" / "X/Y …, chiếm Z%" within one clause: the rate a sentence states for its own counts
COUNTED = r"(?: [a-zà-ỹđ ]+?)?"  # "1.319.915 tài khoản/2.393.798 người": a count may carry its own unit
RATIO = re.compile(rf"({FIGURE}){COUNTED}/({FIGURE})(?!\d)(?! {UNITS_AT_FULL})(?:[^.;%/]|\.\d)*?(?:đạt|chiếm) (?:tỷ lệ )?({FIGURE})%")
SECTIONS = ("1. Công tác chỉ đạo, điều hành", "2. Cải cách thể chế", "3. Cải cách thủ tục hành chính",
            "4. Cải cách tổ chức bộ máy", "5. Cải cách chế độ công vụ", "6. Cải cách tài chính công",
            "7. Xây dựng và phát triển chính quyền điện tử, chính quyền số")


@pytest.fixture(scope="module")
def city(tmp_path_factory, form, city_book):
    """111 units of 6 tháng: 3 missing, 2 with errors, 4 late; a stray Quý II file that must not be summed;
    one unit with no 6-month file whose Quý I and Quý II files are rolled up."""
    root = tmp_path_factory.mktemp("city_report")
    inbox = root / "phieu"
    codes = [u.code for u in form.units]
    S.generate(inbox, "6T", YEAR, missing=set(codes[:3]), broken=set(codes[3:5]), late=set(codes[5:9]), form=form)
    S.generate(inbox / "la", "Q2", YEAR, [form.units[10]], form=form)
    rolled = form.units[20]
    (inbox / S.file_name(rolled, "6T", YEAR)).unlink()
    for quarter in ("Q1", "Q2"):
        S.generate(inbox / "quy", quarter, YEAR, [rolled], form=form)
    res = consolidate(inbox, "6T", YEAR)
    book = write_city_workbook(res, root / "tong_hop.xlsx")
    doc = render_city_report(res, root / "bao_cao_tong_hop.docx", book=city_book["book"])[0]
    return {"res": res, "book": book, "doc": doc, "text": document_text(doc), "inbox": inbox, "root": root,
            "rolled": rolled, "city_book": city_book}


def _table_rate(v) -> str:
    return f"{v:.2f}".replace(".", ",")


def _workbook_numbers(book) -> set[str]:
    """Every number of every sheet, written the ways a report writes numbers."""
    out = set()
    for ws in openpyxl.load_workbook(book, read_only=True).worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out |= {fmt_number(v), num(v), fmt_percent(v, fixed=True), fmt_percent(v), _table_rate(v)}
    return out


def _body(text: str) -> str:
    return text.split("\n", 1)[1]  # the header line holds the date line's year only


def test_every_number_printed_is_in_the_city_workbook(city):
    body = _body(city["text"])
    printed = set(NUMBER.findall(body)) | {n for pair in re.findall(rf"({FIGURE})/({FIGURE})", body) for n in pair}
    allowed = _workbook_numbers(city["book"]) | {str(YEAR)}  # and the year of the period
    assert len(printed) > 300 and not {n for n in printed if n not in allowed}


def ratio_contradictions(text: str) -> tuple[int, list[str]]:
    """(how many "X/Y … đạt Z%" the text states, those whose Z is not X/Y rounded half-up to Z's decimals)."""
    def value(s: str) -> float:
        return float(s.replace(".", "").replace(",", "."))

    seen, wrong = 0, []
    for m in RATIO.finditer(text):
        seen += 1
        x, y, z = (value(g) for g in m.groups())
        decimals = len(m.group(3).split(",")[1]) if "," in m.group(3) else 0
        if ratio_percent(x, y, 2) is None or round(ratio_percent(x, y, 2), decimals) != z and \
                ratio_percent(x, y, decimals) != z:
            wrong.append(m.group(0))
    return seen, wrong


def test_every_ratio_sentence_agrees_with_its_own_counts(city):
    body = _body(city["text"])
    seen, wrong = ratio_contradictions(body)
    # every "X/Y" of the report is followed by its rate in the same clause: none escapes the check
    fractions = re.findall(rf"(?<![\d/]){FIGURE}{COUNTED}/{FIGURE}(?![\d/])(?! {UNITS_AT_FULL})", body)  # no date
    assert seen == len(fractions) >= 10
    assert wrong == []


def test_the_ratio_check_catches_a_planted_wrong_rate(city):
    body = _body(city["text"])
    m = next(RATIO.finditer(body))
    rate = m.group(3)
    planted = body[:m.start(3)] + ("1" + rate if not rate.startswith("1") else "2" + rate[1:]) + body[m.end(3):]
    assert ratio_contradictions(planted)[1] == [RATIO.search(planted, m.start()).group(0)]
    # the bug of the issue: a total of all units beside the rate of the units reporting both counts
    assert ratio_contradictions("là 80.016 hồ sơ, trong đó 66.721/80.016 hồ sơ, đạt tỷ lệ 90,92%.")[1]


def _base_rows(book, res) -> dict[str, dict[str, float]]:
    """Under the total row of the Tổng hợp sheets: label -> {ratio code: value}."""
    wb = openpyxl.load_workbook(book, read_only=True)
    out: dict[str, dict[str, float]] = {}
    for name in table_sheets(res):
        rows = list(wb[name].iter_rows(values_only=True))
        codes = rows[4]
        for r in rows:
            if r[0] in BASE_ROWS:
                out.setdefault(r[0], {}).update({c: v for c, v in zip(codes, r) if c and v is not None})
    return out


def test_rates_state_their_base_as_the_workbook_does(city):
    base, text = _base_rows(city["book"], city["res"]), city["text"]
    num_, den = base["Tử số của tỷ lệ"]["TL_HS_DUNG_HAN"], base["Mẫu số của tỷ lệ"]["TL_HS_DUNG_HAN"]
    assert (f"Hồ sơ giải quyết trước hạn và đúng hạn trên tổng hồ sơ đã giải quyết là {num(num_)}/{num(den)} hồ sơ, "
            f"đạt {fmt_percent(ratio_percent(num_, den), fixed=True)}") in text
    assert ratio_percent(num_, den) == city["res"].totals["TL_HS_DUNG_HAN"]
    met = base["Số đơn vị đạt mục tiêu"]["TL_HS_TRUC_TUYEN"]
    target = base["Mục tiêu của thành phố (%)"]["TL_HS_TRUC_TUYEN"]
    assert (f"có tỷ lệ hồ sơ tiếp nhận trực tuyến từ {fmt_percent(target)} trở lên" in text
            and (f"Có {num(met)} đơn vị" in text if met else "Chưa có đơn vị nào" in text))


def test_a_unit_missing_a_count_is_left_out_of_that_rate_and_the_sentence_says_so(city, tmp_path):
    """The issue's bug: a total of every unit printed beside a rate that leaves one unit out."""
    res = copy.deepcopy(city["res"])
    gap = next(r for r in res.rows if r.counted)
    del gap.values["HS_TRUOC_DUNG_HAN"]
    res.totals = city_totals(res.form, res.rows)
    book = write_city_workbook(res, tmp_path / "tong_hop.xlsx")
    text = document_text(render_city_report(res, tmp_path / "bc.docx", draft=True)[0])
    base = _base_rows(book, res)
    units, den = base["Số đơn vị được tính"]["TL_HS_DUNG_HAN"], base["Mẫu số của tỷ lệ"]["TL_HS_DUNG_HAN"]
    assert units == res.counted - 1 and den == res.totals["HS_DA_GQ"] - gap.value("HS_DA_GQ")
    assert (f"{num(base['Tử số của tỷ lệ']['TL_HS_DUNG_HAN'])}/{num(den)} hồ sơ, đạt "
            f"{fmt_percent(res.totals['TL_HS_DUNG_HAN'], fixed=True)} (tính trên {num(units)} đơn vị có đủ hai số "
            "liệu)") in text
    assert ratio_contradictions(_body(text))[1] == []
    printed = {n for pair in re.findall(rf"({FIGURE})/({FIGURE})", text) for n in pair}
    assert printed <= _workbook_numbers(book)


def test_each_unit_line_equals_its_workbook_row(city):
    wb = openpyxl.load_workbook(city["book"], read_only=True)
    status = {r[1]: r for r in wb[SHEET_STATUS].iter_rows(values_only=True) if r[1] and str(r[1]).isdigit()}
    table = {}
    for name in table_sheets(city["res"]):
        rows = list(wb[name].iter_rows(values_only=True))
        codes = rows[4]
        for r in rows[5:5 + 114]:
            table.setdefault(r[1], {}).update({c: v for c, v in zip(codes, r) if c})
    lines = [ln.split(" | ") for ln in city["text"].splitlines() if re.match(r"^\d+ \| ", ln)]
    assert len(lines) == city["res"].received == 111
    names = {r.unit.name: r.unit.code for r in city["res"].rows}
    for stt, name, tiep_nhan, da_gq, dung_han, truc_tuyen, loi, hang in lines:
        row = table[names[name]]
        assert tiep_nhan == fmt_number(row["HS_TIEP_NHAN"]) and da_gq == fmt_number(row["HS_DA_GQ"]), name
        assert dung_han == _table_rate(row["TL_HS_DUNG_HAN"]), name
        assert truc_tuyen == _table_rate(row["TL_HS_TRUC_TUYEN"]), name
        rank = row["HANG_TL_HS_DUNG_HAN"]
        assert hang == (fmt_number(rank) if rank is not None else "-") and loi == fmt_number(status[names[name]][8])
        assert (rank is None) == (status[names[name]][4] == ST_ERRORS), name  # errors: not ranked, nothing else


def test_one_number_format_per_column(city):
    rows = city_context(city["res"])["don_vi_bang"]
    formats = {"stt": r"\d+", "tiep_nhan": FIGURE, "da_giai_quyet": FIGURE, "dung_han": r"\d{1,3},\d\d",
               "truc_tuyen": r"\d{1,3},\d\d", "loi": r"\d+", "hang": r"\d+|-"}
    for key, pattern in formats.items():
        bad = [r[key] for r in rows if not re.fullmatch(pattern, str(r[key]))]
        assert not bad, (key, bad[:3])


def test_the_outline_of_a_unit_cchc_report(city):
    lines = city["text"].split("IV. ĐÁNH GIÁ CHUNG")[0].splitlines()  # then the officer's own sections
    heads = [ln for ln in lines if re.match(r"^(I|II|III)\. |^\d\. ", ln)]
    assert heads == ["I. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ", "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH",
                     *SECTIONS, "III. KẾT QUẢ CỦA TỪNG ĐƠN VỊ"]
    for a, b in zip(SECTIONS, SECTIONS[1:]):  # each section states at least one figure of the units
        part = city["text"].split(a, 1)[1].split(b, 1)[0]
        assert re.search(r"^- .*\d", part, re.M), a


def test_submission_names_the_late_the_missing_and_the_erroneous(city):
    res, text = city["res"], city["text"]
    ws = openpyxl.load_workbook(city["book"], read_only=True)[SHEET_STATUS]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "STT")
    days = rows[head].index("Số ngày quá hạn")
    units = [r for r in rows[head + 1:head + 115]]
    late = {r[2]: r[days] for r in units if r[days] and r[4] != ST_MISSING}
    assert len(late) == 4 and all(f"{name} ({num(d)} ngày)" in text for name, d in late.items())
    assert f"Có {num(len(units) - 3 - len(late))} đơn vị gửi đúng hạn; {num(len(late))} đơn vị gửi muộn" in text
    missing = [r for r in units if r[4] == ST_MISSING]
    assert [r[4] for r in units[:3]] == [ST_MISSING] * 3  # those who owe the report first
    assert ", ".join(f"{r[2]} (quá hạn {num(r[days])} ngày)" for r in missing) in text
    wrong = [r for r in units if r[4] == ST_ERRORS]
    assert len(wrong) == 2 and all(f"{r[2]} ({num(r[8])} lỗi)" in text for r in wrong)
    # one rule for the figures of units with errors, stated alike in the report and the workbook
    assert COUNT_RULE in text and any(COUNT_RULE in str(c) for r in rows[:head] for c in r if c)
    counted = [r for r in res.rows if r.counted]
    assert res.totals["HS_TIEP_NHAN"] == sum(r.value("HS_TIEP_NHAN") for r in counted)
    assert f"Số liệu chung tại mục II được tổng hợp từ phiếu của {num(len(counted))} đơn vị không có lỗi." in text


def test_one_period_and_period_files_described_as_used(city, form):
    text, res, rolled = city["text"], city["res"], city["rolled"]
    title = next(ln for ln in text.splitlines() if ln.startswith("Tổng hợp kết quả cải cách hành chính"))
    assert title == "Tổng hợp kết quả cải cách hành chính 6 tháng đầu năm 2026"
    assert "01 tệp thuộc kỳ khác không được cộng vào số liệu 6 tháng đầu năm 2026" in text
    assert (f"Số liệu 6 tháng đầu năm 2026 của {rolled.name} được cộng dồn từ các phiếu quý I, quý II của đơn vị"
            in text)
    row = next(r for r in res.rows if r.unit.code == rolled.code)
    quarters = [S.unit_values(form, rolled.code, q, YEAR)["HS_TRONG_KY"] for q in ("Q1", "Q2")]
    assert row.value("HS_TRONG_KY") == sum(quarters)
    stray = next(r for r in res.rows if r.unit.code == form.units[10].code)
    assert stray.value("HS_TIEP_NHAN") == S.unit_values(form, stray.unit.code, "6T", YEAR)["HS_TIEP_NHAN"]
    reasons = {f.rsplit("/", 2)[-2] + "/" + f.rsplit("/", 1)[-1]: why for f, why in res.excluded}
    assert all(why.startswith("Cộng dồn vào số liệu 6 tháng đầu năm 2026") for f, why in reasons.items()
               if f.startswith("quy/")) and sum(f.startswith("quy/") for f in reasons) == 2
    assert [why for f, why in reasons.items() if f.startswith("la/")] == ["Khác kỳ: Quý II năm 2026"]


def test_rankings_say_tie_and_leave_out_what_cannot_be_ranked(city):
    res = copy.deepcopy(city["res"])
    code = "TL_HS_DUNG_HAN"
    counted = sorted((r for r in res.rows if r.counted), key=lambda r: r.unit.code)
    for r in counted:
        r.values[code] = (99.2, "")
    assert ranking(res, code).startswith("các đơn vị đều đạt 99,20%")  # never "cao nhất … thấp nhất" alike
    counted[0].values[code] = counted[1].values[code] = (100.0, "")
    counted[2].values[code] = (95.5, "")
    del counted[3].values[code]
    text = ranking(res, code)
    assert text.startswith(f"cao nhất là {counted[0].unit.name}, {counted[1].unit.name} (đồng hạng, 100%); "
                           f"thấp nhất là {counted[2].unit.name} (95,50%)")
    assert f"không xếp hạng {counted[3].unit.name} (chưa có số liệu)" in text
    assert "các đơn vị có lỗi nêu tại mục I không xếp hạng" in text
    assert "đồng hạng" in city["text"] or "đều đạt" in city["text"]


def test_cli_infers_the_period_says_the_signer_is_missing_once(city, tmp_path, form):
    out = tmp_path / "bc.docx"
    done = run_cli("bao-cao", str(city["inbox"]), "--loai", "tong-hop", "--out", str(out), "--tep-tong-hop",
                   str(city["city_book"]["path"]))
    assert done.returncode == 0, done.stderr
    files = city["res"].periods()[("6 tháng đầu năm", YEAR)]  # the rolled-up unit sent no 6-month file
    assert f"Kỳ báo cáo lấy theo các phiếu: 6 tháng đầu năm 2026 ({files} phiếu)" in done.stdout
    assert done.stdout.count(NO_SIGNER_NOTE) == 1 and "signer" not in document_text(out)
    assert document_text(out) == city["text"]
    quarter = run_cli("bao-cao", str(city["inbox"]), "--loai", "tong-hop", "--ky", "Q2", "--nam", "2026",
                      "--out", str(tmp_path / "q2.docx"), "--du-thao")
    assert quarter.returncode == 0 and "Kỳ báo cáo lấy" not in quarter.stdout
    assert "Có 02/114 đơn vị" in document_text(tmp_path / "q2.docx")
    wrong = run_cli("bao-cao", str(city["inbox"] / "la" / S.file_name(form.units[10], "Q2", YEAR)),
                    "--loai", "cchc-quy", "--ky", "Q2")
    assert wrong.returncode == 2 and "chỉ dùng với --loai tong-hop" in wrong.stderr


def test_signer_line_blank_or_the_configured_name(city, form, tmp_path):
    assert city_context(city["res"])["nguoi_ky"] == ""  # the bundled definition leaves it to the city
    signature = city["text"].splitlines()[-1]
    assert signature.endswith("KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC")
    assert "form.yaml" not in city["text"] and "signer" not in city["text"]
    named = dataclasses.replace(form, city_report={**form.city_report, "signer": "Trần Thị B"})
    res = dataclasses.replace(city["res"], form=named)
    assert city_context(res)["co_quan_chu_quan"] == "UBND THÀNH PHỐ HẢI PHÒNG"
    doc = render_city_report(res, tmp_path / "ky.docx", book=city["city_book"]["book"])[0]
    assert document_text(doc).splitlines()[-1].endswith("KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC / Trần Thị B")


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


@pytest.fixture(scope="module")
def printed(city, tmp_path_factory):
    """The report through LibreOffice's PDF: one text per page (pdftotext -layout)."""
    pdf = soffice_convert(city["doc"], "pdf", tmp_path_factory.mktemp("pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def test_header_lines_never_wrap_in_the_printed_report(printed):
    """The parent body, the issuer and the date line each keep one line."""
    first = printed[0].splitlines()
    assert any("UBND THÀNH PHỐ HẢI PHÒNG" in line and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line for line in first)
    assert any(re.search(r"Hải Phòng, ngày .* năm 2026", line) for line in first)


def test_printed_table_repeats_its_header_and_never_splits_a_row(city, printed):
    rows = city_context(city["res"])["don_vi_bang"]
    row_line = {r["stt"]: re.compile(rf"^\s*{r['stt']}\s+{re.escape(r['ten'].split()[0])}.*\s{re.escape(r['dung_han'])}"
                                     rf"\s+{re.escape(r['truc_tuyen'])}\s+{r['loi']}\s+{re.escape(r['hang'])}\s*$")
                for r in rows}
    pages = {}  # stt -> pages where its whole row (every value on one line) is printed
    table_pages = []
    for k, page in enumerate(printed):
        found = [stt for stt, pat in row_line.items() if any(pat.match(ln) for ln in page.splitlines())]
        if found:
            table_pages.append(k)
            assert re.search(r"^\s*STT\s+Đơn vị\s+Hồ sơ", page, re.M), f"page {k + 1} has no table header"
        for stt in found:
            pages.setdefault(stt, []).append(k)
    assert len(table_pages) >= 3 and sorted(pages) == [r["stt"] for r in rows]  # "100" never broken
    assert all(len(p) == 1 for p in pages.values())
