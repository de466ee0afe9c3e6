"""The city signs only numbers that mean something (issue 25): every total and sentence of the city workbook and
report follows how indicators.yaml says the indicator adds up across units; a figure flagged «bất thường» moves
nothing until the city officer accepts it; one deadline for every unit, submitted or not; one clock (UTC stored,
the city's time shown, late days on the city's calendar, also on a server running in UTC); the city report reads
as the city's CCHC report with the officer's own paragraphs."""
import os
import re
import shutil
import statistics
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from conftest import city_book_file, run_cli
from test_reports import document_text

from toolkit import synthetic as S
from toolkit.city.backend import MIGRATIONS, UtcTimes
from toolkit.city.consolidation import ST_LATE, ST_MISSING, consolidate, period_deadline
from toolkit.city.content import read_city_book
from toolkit.city.report import render_city_report
from toolkit.city.workbook import BASE_ROWS, SHEET_ANOMALIES, SHEET_STATUS, table_sheets, write_city_workbook
from toolkit.cli import HAN_HELP
from toolkit.definition.form import load_form_from
from toolkit.errors import BaocaoError
from toolkit.reports.context import num
from toolkit.vnformat import fmt_date, fmt_number, fmt_percent, ratio_percent

YEAR = 2026
TODAY = date(2026, 7, 1)
FIGURE = r"\d{1,3}(?:\.\d{3})*(?:,\d+)?"
OVER_UNITS = ("mean", "median")


@pytest.fixture(scope="module")
def city(tmp_path_factory, form, city_book):
    """114 units of 6 tháng as the demo makes them: 3 missing, 4 late, 3 with errors, the three planted
    anomalies (posts cut, budget 8 times its plan, every hồ sơ figure typed with one 0 too many)."""
    root = tmp_path_factory.mktemp("city_figures")
    codes = [u.code for u in form.units]
    planted = dict(zip(codes[40:43], S.ANOMALIES))
    S.generate(root / "phieu", "6T", YEAR, missing=set(codes[10:13]), late=set(codes[20:24]),
               broken=set(codes[30:33]), anomalies=planted, form=form)
    res = consolidate(root / "phieu", "6T", YEAR, today=TODAY)
    book = write_city_workbook(res, root / "tong_hop.xlsx")
    doc = render_city_report(res, root / "bao_cao.docx", book=city_book["book"])[0]
    return {"res": res, "book": book, "doc": doc, "text": document_text(doc), "root": root,
            "planted": {kind: code for code, kind in planted.items()}}


def _sheet_columns(book: Path, res) -> dict[str, list]:
    """code -> [(unit code, value, struck out)] of every unit row, plus "total" and each base row by label."""
    wb = openpyxl.load_workbook(book)
    out: dict[str, dict] = {}
    for name in table_sheets(res):
        ws = wb[name]
        codes = {c: ws.cell(5, c).value for c in range(4, ws.max_column + 1)}
        rows = {ws.cell(r, 1).value: r for r in range(6, ws.max_row + 1)}
        total = next(r for r in range(6, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("TỔNG CỘNG"))
        for c, code in codes.items():
            cells = [(ws.cell(r, 2).value, ws.cell(r, c).value, bool(ws.cell(r, c).font.strike))
                     for r in range(6, total)]
            base = {ws.cell(r, 1).value: ws.cell(r, c).value for r in range(total + 1, total + 1 + len(BASE_ROWS))}
            out[code] = {"cells": cells, "total": ws.cell(total, c).value, **base}
        assert rows
    return out


def test_every_total_of_the_workbook_follows_how_the_indicator_adds_up(city, form):
    res = city["res"]
    counted = {r.unit.code for r in res.rows if r.counted}
    columns = _sheet_columns(city["book"], res)
    kinds = {"sum": 0, "ratio": 0, "mean": 0}
    for ind in (i for i in form.indicators if i.numeric):
        col = columns[ind.code]
        used = [v for unit, v, struck in col["cells"] if unit in counted and not struck and isinstance(v, (int, float))]
        if ind.units == "sum":
            assert col["total"] == pytest.approx(sum(used)) if used else col["total"] is None, ind.code
        elif ind.units == "ratio":
            top, bottom = (columns[c] for c in ind.ratio)
            pairs = [(a[1], b[1]) for a, b in zip(top["cells"], bottom["cells"]) if a[0] in counted
                     and not a[2] and not b[2] and isinstance(a[1], (int, float)) and isinstance(b[1], (int, float))]
            num_, den = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
            assert (col["Tử số của tỷ lệ"], col["Mẫu số của tỷ lệ"]) == (pytest.approx(num_), pytest.approx(den))
            assert col["total"] == pytest.approx(ratio_percent(num_, den)), ind.code
        else:  # never a city total: said over units
            assert col["total"] is None, f"{ind.code} ({ind.units}) has a city total"
            if ind.units in OVER_UNITS and used:
                assert col[BASE_ROWS[3]] == pytest.approx(statistics.fmean(used)), ind.code
                assert col["Số đơn vị được tính"] == len(used)
        kinds[ind.units if ind.units in kinds else "mean"] += 1
    assert all(kinds.values())  # the walk met every kind


def test_every_sentence_of_the_report_follows_how_the_indicator_adds_up(city, form):
    res, text = city["res"], city["text"]
    counted = [r for r in res.rows if r.counted]
    for ind in (i for i in form.indicators if i.units in OVER_UNITS):
        summed = sum(v for r in counted if isinstance(v := r.value(ind.code), (int, float)))
        for shown in {fmt_number(summed), num(summed)} - {"0"}:
            assert not re.search(rf"(?<![\d.,]){re.escape(shown)}(?![\d,]|\.\d)", text), \
                f"the sum of {ind.code} over units ({shown}) is printed as if it meant something"
    said = [s for s in text.splitlines() if "thủ tục hành chính thuộc thẩm quyền" in s]
    got = res.over_units("TL_DVC_PHAT_SINH")
    assert said and all("bình quân các đơn vị đạt " + fmt_percent(got.value, fixed=True) in s for s in said)
    for top, bottom, after in re.findall(rf"(?<![\d/])({FIGURE})/({FIGURE})(?![\d/])(.{{0,12}})", text):
        assert re.match(r" [a-zà-ỹđ]", after), f"{top}/{bottom} has no unit: {after!r}"
    assert "tài khoản/" in text and " người, đạt " in text  # two units: each count with its own


def test_a_flagged_figure_is_not_summed_ranked_drawn_or_praised(city, form):
    res, text = city["res"], city["text"]
    budget, files, posts = (res.rows[[r.unit.code for r in res.rows].index(city["planted"][k])]
                            for k in ("thu-ngan-sach", "ho-so-gap-10", "tinh-gian"))
    for row, code in ((budget, "NS_THU_TH"), (files, "HS_TIEP_NHAN"), (posts, "CV_TINH_GIAN")):
        assert code in row.held and row.counted
        assert res.totals[code] == sum(r.value(code) for r in res.rows if r.counted and code not in r.held)
    assert budget not in res.meeting("TL_THU_NS") and budget.unit.code not in res.ranks("TL_GIAI_NGAN")
    assert files.unit.code not in res.ranks("TL_HS_DUNG_HAN")
    assert files not in sum(res.extremes("TL_HS_DUNG_HAN", 10), [])  # not drawn
    # a unit whose figures are in question is held up as an example by none, whatever the figure compared
    assert posts.unit.code not in res.ranks("TL_HS_DUNG_HAN") and posts not in sum(res.extremes("TL_HS_DUNG_HAN"), [])
    assert res.totals["HS_TIEP_NHAN"] == sum(r.value("HS_TIEP_NHAN") for r in res.rows if r.counted and r is not files)
    assert f"({budget.unit.name})" not in text and "Chưa có đơn vị nào đạt và vượt kế hoạch thu ngân sách" in text
    paragraph = next(s for s in text.splitlines() if "số liệu bất thường của" in s)
    assert all(r.unit.name in paragraph for r in (budget, files, posts)) and "không được cộng" in paragraph
    assert re.search(rf"không xếp hạng [^;(]*{files.unit.name}[^;(]* \(số liệu bất thường chưa được xử lý", text)
    wb = openpyxl.load_workbook(city["book"])
    heads = [c.value for c in wb[SHEET_ANOMALIES][3]]
    unit, code, handled = (heads.index(h) for h in ("Mã ĐVHC", "Mã chỉ tiêu", "Xử lý"))
    state = {(r[unit], r[code]): r[handled] for r in wb[SHEET_ANOMALIES].iter_rows(min_row=4, values_only=True)
             if r[unit]}
    assert state[(budget.unit.code, "NS_THU_TH")].startswith("Chưa xử lý")


def test_an_accepted_anomaly_counts_again_and_the_report_says_who_accepted_it(city, form, tmp_path):
    res = city["res"]
    budget = next(r for r in res.rows if r.unit.code == city["planted"]["thu-ngan-sach"])
    value = budget.value("NS_THU_TH")
    book = city_book_file(tmp_path, accepted=[(budget.unit.code, "NS_THU_TH", value, "đơn vị xác nhận khoản thu "
                                                                                    "đấu giá quyền sử dụng đất")])
    out = tmp_path / "bc.docx"
    done = run_cli("bao-cao", str(city["root"] / "phieu"), "--loai", "tong-hop", "--ky", "6T", "--nam", "2026",
                   "--out", str(out), "--tep-tong-hop", str(book))
    assert done.returncode == 0, done.stderr
    text = document_text(out)
    assert f"Có 01 đơn vị đạt và vượt kế hoạch thu ngân sách năm ({budget.unit.name})" in text
    assert f"{budget.unit.name} – thu ngân sách nhà nước thực hiện (Sở Nội vụ chấp nhận: đơn vị xác nhận" in text
    again = read_city_book(book, form)
    changed = [a for a in again.accepted if a.value != value]
    assert not changed and again.accepted[0].covers(next(a for a in res.anomalies if a.unit == budget.unit.code))


def test_one_deadline_for_every_unit_and_those_not_in_first(city, form):
    res = city["res"]
    due = period_deadline(form, "6 tháng đầu năm", YEAR)
    assert due == date(YEAR, 6, form.closing_day) + timedelta(days=form.deadline_days) == res.deadline
    missing = [r for r in res.rows if r.status == ST_MISSING]
    assert len(missing) == 3 and all(r.deadline == due and r.days_late == (TODAY - due).days for r in missing)
    ws = openpyxl.load_workbook(city["book"])[SHEET_STATUS]
    head = next(r for r in range(1, 30) if ws.cell(r, 1).value == "STT")
    first = [(ws.cell(r, 3).value, ws.cell(r, 5).value, ws.cell(r, 12).value) for r in range(head + 1, head + 8)]
    assert [s for _, s, _ in first[:3]] == [ST_MISSING] * 3 and [d for *_, d in first[:3]] == [(TODAY - due).days] * 3
    assert [s for _, s, _ in first[3:7]] == [ST_LATE] * 4
    text = city["text"]
    assert f"Hạn gửi phiếu là ngày {fmt_date(due)}." in text
    assert f"{missing[0].unit.name} (quá hạn {num((TODAY - due).days)} ngày)" in text
    example = period_deadline(form, "6T", 2026)
    assert f"ngày {form.closing_day} tháng cuối kỳ + {form.deadline_days} ngày" in HAN_HELP
    assert f"6 tháng đầu năm 2026 hạn {example:%d/%m/%Y}" in HAN_HELP
    shown = run_cli("server", "chay", "--help").stdout
    assert f"hạn {example:%d/%m/%Y}" in " ".join(shown.split())


def test_late_counted_on_the_city_calendar_under_a_utc_clock(form, tmp_path):
    """A file received at 23:30 UTC on the deadline is 06:30 the next day in Hải Phòng: one day late."""
    unit = form.units[0]
    due = period_deadline(form, "6T", YEAR)
    path = S.generate(tmp_path / "phieu", "6T", YEAR, [unit], form=form)[0]
    at = datetime.combine(due, datetime.min.time(), timezone.utc).replace(hour=23, minute=30).timestamp()
    os.utime(path, (at, at))
    done = run_cli("tong-hop", str(tmp_path / "phieu"), "--ky", "6T", "--nam", "2026", "--out",
                   str(tmp_path / "th.xlsx"), env={**os.environ, "TZ": "UTC"})
    assert done.returncode in (0, 1), done.stderr
    ws = openpyxl.load_workbook(tmp_path / "th.xlsx")[SHEET_STATUS]
    row = next(r for r in ws.iter_rows(values_only=True) if r[1] == unit.code)
    assert row[4] == ST_LATE and row[11] == 1
    assert row[6] == datetime.combine(due + timedelta(days=1), datetime.min.time()).replace(hour=6, minute=30)


def test_a_final_city_report_needs_the_officers_paragraphs(city, tmp_path):
    blank = city_book_file(tmp_path, paragraphs=())
    args = ("bao-cao", str(city["root"] / "phieu"), "--loai", "tong-hop", "--ky", "6T", "--nam", "2026")
    refused = run_cli(*args, "--out", str(tmp_path / "a.docx"), "--tep-tong-hop", str(blank))
    assert refused.returncode == 2 and not (tmp_path / "a.docx").exists()
    assert "«Đánh giá chung», «Nhiệm vụ trọng tâm kỳ tới», «Kiến nghị, đề xuất»" in refused.stderr
    assert "Traceback" not in refused.stderr
    draft = run_cli(*args, "--out", str(tmp_path / "b.docx"), "--du-thao")
    assert draft.returncode == 0 and "DỰ THẢO" in document_text(tmp_path / "b.docx")


def test_the_city_report_reads_as_the_citys_cchc_report(city):
    text = city["text"]
    heads = [line for line in text.splitlines() if re.match(r"^[IVX]+\. ", line)]
    assert heads == ["I. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ", "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH",
                     "III. KẾT QUẢ CỦA TỪNG ĐƠN VỊ", "IV. ĐÁNH GIÁ CHUNG",
                     "V. NHIỆM VỤ TRỌNG TÂM 6 THÁNG CUỐI NĂM 2026", "VI. KIẾN NGHỊ, ĐỀ XUẤT"]
    assert "1. Đôn đốc các đơn vị giải quyết dứt điểm hồ sơ quá hạn." in text
    assert "“Chính quyền thân thiện”" in text
    for word in ("«", "»", " ô ", "sheet", "Số ô"):
        assert word not in text, word
    res = city["res"]
    wrong = [r for r in res.rows if r.status != ST_MISSING and not r.counted]
    prose = text.split("III. KẾT QUẢ CỦA TỪNG ĐƠN VỊ")[0]  # the table after it has a line for every unit that sent
    for r in wrong:  # excluded for errors: said so, and nothing more
        assert prose.count(r.unit.name) == 1 and f"{r.unit.name} ({num(r.errors)} lỗi)" in prose


def test_the_loader_refuses_a_stock_or_a_rate_without_how_it_adds_up(form, tmp_path):
    folder = tmp_path / "dinh_nghia"
    shutil.copytree(Path(form.source), folder)
    yaml_path = folder / "indicators.yaml"
    original = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(original.replace("unit: thủ tục, units: mean, periods: latest, typical: [300, 420]}",
                                          "unit: thủ tục, periods: latest, typical: [300, 420]}", 1), encoding="utf-8")
    with pytest.raises(BaocaoError, match="TTHC_TONG: chỉ tiêu tồn cuối kỳ hoặc tỷ lệ phải ghi rõ cách tổng hợp"):
        load_form_from(folder)
    yaml_path.write_text(original.replace("units: mean, type: percent, ratio: [DVC_PHAT_SINH, TTHC_TONG]",
                                          "units: ratio, type: percent, ratio: [DVC_PHAT_SINH, TTHC_TONG]"),
                         encoding="utf-8")
    with pytest.raises(BaocaoError, match="TL_DVC_PHAT_SINH: tỷ lệ tính lại từ tử số và mẫu số"):
        load_form_from(folder)


OLD_TIMES = {"submission": ("received_at", "stored_at"), "submit_attempt": ("at",)}


def test_existing_stores_move_to_utc_instants(store_at, form):
    """A store of before this change holds the server's naive local times; opened by a server in Hải Phòng
    (UTC+7) it keeps the same instants, now in UTC with their offset."""
    from toolkit.city.store import Store

    with Store(store_at, form) as db:
        db.add("10507", "x", "6 tháng đầu năm", YEAR, {}, "a.xlsx", "h1", datetime(2026, 6, 19, 8, 0))
        db.attempt("10507", "6 tháng đầu năm", YEAR, 1, 0)
        before = next(i for i, m in enumerate(MIGRATIONS) if isinstance(m, UtcTimes))  # steps since stay after
        with db.db.write():  # as an older baocao left it: naive times, its schema version
            db.db.execute("UPDATE submission SET received_at='2026-06-20T06:30:00', stored_at='2026-06-20T06:31:00'")
            db.db.execute("UPDATE submit_attempt SET at='2026-06-20T07:00:00'")
            db.db.execute("UPDATE schema_version SET version=?", (before,))
    code = ("from toolkit.city.store import Store\n"
            f"with Store({str(store_at)!r}) as db:\n"
            "    s = db.latest('10507', '6 tháng đầu năm', 2026)\n"
            "    print(s.received_at.isoformat(), db.attempts('6 tháng đầu năm', 2026)['10507'][0].isoformat())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TZ": "Asia/Ho_Chi_Minh"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2026-06-19T23:30:00+00:00", "2026-06-20T00:00:00+00:00"]
    with Store(store_at, form) as db:
        assert db.db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
        assert db.db.execute("SELECT stored_at FROM submission").fetchone()[0] == "2026-06-19T23:31:00+00:00"


def _page_rows(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr class=\"[^\"]*\" data-ma=\"\d+\".*?</tr>", html, re.S)
    return [[re.sub(r"<[^>]+>", "", td).strip() for td in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


def test_the_page_of_a_server_in_utc_shows_the_citys_clock_and_who_owes_first(form, tmp_path):
    """`server chay` as the README starts it (no --han) on a machine whose clock is UTC: a unit that submitted at
    23:30 UTC on the deadline shows 06:30 the next day and one day late; units not in yet come first with the
    period's deadline and their days overdue."""
    pytest.importorskip("fastapi")
    from conftest import free_port
    from test_page import wait_up

    import urllib.request

    unit = form.units[0]
    due = period_deadline(form, "6T", YEAR)
    path = S.generate(tmp_path / "phieu", "6T", YEAR, [unit], form=form)[0]
    at = datetime.combine(due, datetime.min.time(), timezone.utc).replace(hour=23, minute=30).timestamp()
    os.utime(path, (at, at))
    utc = {**os.environ, "TZ": "UTC"}
    store = tmp_path / "kho.sqlite"
    done = run_cli("tong-hop", str(tmp_path / "phieu"), "--ky", "6T", "--nam", "2026", "--out",
                   str(tmp_path / "th.xlsx"), "--kho", str(store), env=utc)
    assert done.returncode in (0, 1), done.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho", str(store), "--thu-muc",
                             str(tmp_path / "may_chu"), "--ky", "6T", "--nam", "2026", "--cong", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=utc)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_up(url, proc)
        with urllib.request.urlopen(url + "/", timeout=60) as answer:
            html = answer.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rows = _page_rows(html)
    (Path(__file__).parent / "output").mkdir(exist_ok=True)
    (Path(__file__).parent / "output" / "trang_utc_dong_dau.txt").write_text(
        "\n".join(" | ".join(r) for r in rows[:5]) + "\n", encoding="utf-8")
    overdue = (datetime.now(timezone(timedelta(hours=7))).date() - due).days
    assert f"hạn nộp chung của kỳ {due:%d/%m/%Y}" in html and "Số liệu bất thường chưa được xử lý" in html
    first = rows[0]
    assert first[3] == ST_MISSING and first[4] == str(overdue) and first[6] == f"{due:%d/%m/%Y}"
    own = next(r for r in rows if r[1] == unit.code)
    assert own[3] == ST_LATE and own[4] == "1" and own[5] == f"06:30 {due + timedelta(days=1):%d/%m/%Y}"
    assert rows.index(own) == len(rows) - 1  # 113 units not in yet, each overdue, come before it
