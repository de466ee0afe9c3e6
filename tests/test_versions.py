"""What a unit changed between versions, with real parts: Nghi Dương's workbook written three times (a slip in
«Hồ sơ rút» that breaks a sum; then corrected with one more news item; then a signer's name holding markup),
stored by `baocao tong-hop --kho`, compared by `baocao phien-ban` and on the page of `baocao server chay` on
127.0.0.1 in a headless Chromium at desktop and phone widths. The stored versions are the same before and after.
Screenshots go to tests/output/."""
import copy
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from conftest import free_port, run_cli
from test_server import NGHI_DUONG, OUTPUT, clean, kiem_tra_json

from toolkit.city import versions
from toolkit.city.store import Store
from toolkit.excel.workbook import build
from toolkit.intake.datafile import load_data
from toolkit.intake.reader import read_submission
from toolkit.vnformat import fmt_value

CHANGED = {"HS_RUT": 29, "TT_TIN_CONG_TTDT": 480}  # version 2 against version 1
SLIP = {"HS_RUT": 30}  # version 1: 5839 solved ≠ 5792 + 5 + 13 + 30
MARKUP = "<script>alert('x')</script> Lưu Thị Tươi"
DAY = 86400


@pytest.fixture(scope="module")
def stored(tmp_path_factory, form):
    """Three versions of one unit in a SQLite store, through the CLI; the workbooks, the store, a snapshot."""
    root = tmp_path_factory.mktemp("phien_ban")
    data = clean(load_data(NGHI_DUONG, form))
    first = copy.deepcopy(data)
    first["so_lieu"].update(SLIP)
    second = copy.deepcopy(data)
    second["so_lieu"].update(CHANGED)
    third = copy.deepcopy(second)
    third["thong_tin"]["NGUOI_KY"] = MARKUP
    folder = root / "phieu"
    folder.mkdir()
    books = []
    for n, d in enumerate((first, second, third), 1):
        path = build(form, folder / f"nghi_duong_lan_{n}.xlsx", d)
        os.utime(path, (1781000000 + n * DAY, 1781000000 + n * DAY))  # received one day apart, in this order
        books.append(path)
    store = root / "kho.sqlite"
    done = run_cli("tong-hop", str(folder), "--kho", str(store), "--ra", str(root / "tong_hop.xlsx"))
    assert "thêm 3 bản nộp mới" in done.stdout, done.stdout + done.stderr
    return {"root": root, "store": store, "books": books, "unit": data["thong_tin"]["MA_DVHC"],
            "name": data["thong_tin"]["TEN_DON_VI"], "before": snapshot(store)}


def snapshot(store) -> list:
    with sqlite3.connect(store) as db:
        return [db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("submission", "value")]


def expected_lines(form, stored) -> list[str]:
    """The two changed cells as the workbooks hold them: label, cell, old → new in Vietnamese format."""
    old, new = (read_submission(p).values for p in stored["books"][:2])
    lines = []
    for f in [i for i in form.indicators if i.code in CHANGED]:  # in the definition's order
        lines.append(f"- {f.label} ({f.code}), {new[f.code].loc}: {fmt_value(old[f.code].value, f.type, f.unit)} → "
                     f"{fmt_value(new[f.code].value, f.type, f.unit)}")
    return lines


def test_the_command_shows_the_two_changed_cells_and_the_cleared_finding(stored, form):
    done = run_cli("phien-ban", "--kho", str(stored["store"]), "--don-vi", stored["unit"], "--phien-ban", "2")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == f"{stored['unit']} {stored['name']}, 6 tháng đầu năm 2026: 3 phiên bản trong kho"
    slip = kiem_tra_json(stored["books"][0])
    assert len(slip) == 1 and kiem_tra_json(stored["books"][1]) == []  # the slip is version 1's only finding
    assert out[1].startswith("Phiên bản 1: nhận lúc ") and "tệp «nghi_duong_lan_1.xlsx», 1 lỗi, 0 cảnh báo" in out[1]
    assert "2 ô thay đổi (chỉ tiêu, ô, cũ → mới):" in out
    start = out.index("2 ô thay đổi (chỉ tiêu, ô, cũ → mới):") + 1
    assert out[start:start + 2] == expected_lines(form, stored)
    assert "Số liệu!E66: 30 hồ sơ → 29 hồ sơ" in done.stdout  # as the officer reads it, Vietnamese format
    assert "Lỗi, cảnh báo mới xuất hiện: không có." in out
    f = slip[0]
    assert out[-2:] == ["Lỗi, cảnh báo đã hết (1):", f"- [LỖI] {f['sheet']}!{f['cell']}: {f['message']}"]
    assert "5.839" in out[-1]  # the finding's own message, in Vietnamese number format


def test_the_newest_version_by_default_and_a_finding_that_appears(stored, form):
    done = run_cli("phien-ban", "--kho", str(stored["store"]), "--don-vi", stored["unit"], "--ky", "6T",
                   "--nam", "2026")
    assert done.returncode == 0, done.stderr
    assert "phiên bản 3 so với phiên bản 2." in done.stdout and "1 ô thay đổi" in done.stdout
    signer = form.field("NGUOI_KY").label
    assert f"- {signer} (NGUOI_KY), " in done.stdout and f"→ {MARKUP}" in done.stdout
    first = run_cli("phien-ban", "--kho", str(stored["store"]), "--don-vi", stored["unit"], "--phien-ban", "1")
    assert first.returncode == 0 and "phiên bản 1 là bản nộp đầu tiên, không có bản trước để so sánh." in first.stdout
    # Read the other way round (version 1 after version 2), the sum's finding appears and the cells swap.
    with Store(stored["store"], form, readonly=True) as db:
        v1, v2, _ = db.versions(stored["unit"], "6T", 2026)
    appeared, cleared = versions.finding_changes(v2, v1)
    assert cleared == [] and [f["message"] for f in appeared] == [f["message"] for f in kiem_tra_json(stored["books"][0])]
    assert [(c.code, c.old, c.new) for c in versions.changes(form, v2, v1)] == \
        [(c.code, c.new, c.old) for c in versions.changes(form, v1, v2)]


def test_the_same_diff_from_a_postgresql_store(stored, pg_url, tmp_path):
    """The same workbooks stored in PostgreSQL: the same lines, and the rows stay as they were."""
    import psycopg

    folder = tmp_path / "phieu"
    folder.mkdir()
    for book in stored["books"]:
        shutil.copy2(book, folder)  # keeps the time received
    done = run_cli("tong-hop", str(folder), "--kho", pg_url, "--ra", str(tmp_path / "tong_hop.xlsx"))
    assert "thêm 3 bản nộp mới" in done.stdout, done.stdout + done.stderr

    def rows():
        with psycopg.connect(pg_url) as db:
            return [db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("submission", "value")]

    before = rows()
    args = ("--don-vi", stored["unit"], "--phien-ban", "2")
    here, there = run_cli("phien-ban", "--kho", pg_url, *args), run_cli("phien-ban", "--kho", str(stored["store"]), *args)
    assert here.returncode == 0 and here.stdout == there.stdout, here.stderr
    assert rows() == before


def test_refusals_are_vietnamese_and_exit_2(stored, tmp_path, form):
    other = next(u for u in form.units if u.code != stored["unit"])
    cases = [(("--kho", str(stored["store"]), "--don-vi", stored["unit"], "--phien-ban", "7"),
              "không có phiên bản 7 (kho có phiên bản 1, 2, 3)"),
             (("--kho", str(stored["store"]), "--don-vi", "99999"), "không có đơn vị mã «99999»"),
             (("--kho", str(stored["store"]), "--don-vi", stored["unit"], "--ky", "Q1", "--nam", "2026"),
              "chưa có phiên bản nào trong kho cho Quý I năm 2026"),
             (("--kho", str(stored["store"]), "--don-vi", stored["unit"], "--ky", "6T"), "--ky và --nam phải dùng cùng"),
             (("--kho", str(stored["store"]), "--don-vi", other.code), f"{other.code} {other.name} chưa có phiên bản nào"),
             (("--kho", str(stored["store"]), "--don-vi", stored["unit"], "--ky", "X9", "--nam", "2026"),
              "kỳ báo cáo «X9» không có"),
             (("--kho", str(tmp_path / "khong_co.sqlite"), "--don-vi", stored["unit"]), "không có kho dữ liệu này")]
    for args, message in cases:
        done = run_cli("phien-ban", *args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
        assert done.stdout == ""  # refused before anything is printed
    assert not (tmp_path / "khong_co.sqlite").exists()  # looking never makes a store


# The page -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(stored):
    pytest.importorskip("fastapi")
    from test_page import wait_up

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho", str(stored["store"]),
                             "--thu-muc", str(stored["root"] / "may_chu"), "--ky", "6T", "--nam", "2026",
                             "--cong", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    from test_page import ARGS, CHROMIUM

    if CHROMIUM is None:
        pytest.skip("chưa cài chromium (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def table(page) -> list[list[str]]:
    return page.evaluate("""() => [...document.querySelectorAll('#thay-doi tbody tr')]
        .map(tr => [...tr.cells].map(td => td.textContent.trim()))""")


def test_the_page_links_each_unit_to_its_versions_and_shows_the_diff(stored, site, browser, form):
    OUTPUT.mkdir(exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
        page = context.new_page()
        page.goto(site + "/")
        links = page.locator("td[data-nhan='Các phiên bản'] a")
        assert links.count() == 1  # the one unit with versions; the others have none to show
        links.first.click()
        assert page.url == f"{site}/don-vi/{stored['unit']}/phien-ban"
        assert page.inner_text("#so-sanh") == "Phiên bản 3 so với phiên bản 2"
        assert page.locator("#cac-phien-ban li").count() == 3
        page.click("#cac-phien-ban a:text('Phiên bản 2')")
        assert page.url.endswith(f"/don-vi/{stored['unit']}/phien-ban/2")
        lines = expected_lines(form, stored)
        rows = table(page)
        assert [f"- {label} ({code}), {cell}: {old} → {new}" for label, code, cell, old, new in rows] == lines
        f = kiem_tra_json(stored["books"][0])[0]
        assert page.inner_text("#da-het") == f"[LỖI] {f['sheet']}!{f['cell']}: {f['message']}"
        assert page.locator("#xuat-hien").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(OUTPUT / f"phien_ban_{width}.png"), full_page=True)
        # Markup a unit typed is shown as text, never run.
        page.goto(f"{site}/don-vi/{stored['unit']}/phien-ban/3")
        assert table(page)[0][4] == MARKUP and page.locator("#thay-doi script").count() == 0
        page.goto(f"{site}/don-vi/{stored['unit']}/phien-ban/1")
        assert "bản nộp đầu tiên" in page.inner_text("#dau-tien")
        context.close()


def test_the_page_refuses_in_vietnamese(stored, site, browser, form):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    for path, status, text in ((f"/don-vi/{stored['unit']}/phien-ban/9", 404, "không có phiên bản 9"),
                               (f"/don-vi/{stored['unit']}/phien-ban/abc", 404, "Không có trang này"),
                               ("/don-vi/99999/phien-ban", 404, "Không có đơn vị mã «99999»")):
        answer = page.goto(site + path)
        assert answer.status == status and text in page.inner_text("body"), path
    other = next(u.code for u in form.units if u.code != stored["unit"])
    page.goto(f"{site}/don-vi/{other}/phien-ban")
    assert "chưa có phiên bản nào" in page.inner_text("#khong-co")
    context.close()


def test_looking_leaves_the_stored_versions_as_they_were(stored, site):
    """Last in this module: after the command and the page have read every version."""
    assert snapshot(stored["store"]) == stored["before"]
    assert len(stored["before"][0]) == 3
