"""The city's page and Nộp from a browser, in a real browser: Playwright driving the system's Chromium against
`baocao server chay` on 127.0.0.1, on a store that starts empty (no keys, no submission), keys then issued by
the CLI while the server runs, workbooks uploaded through the page's own form. Screenshots at 1366 and 390 px
go to tests/output/."""
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
playwright = pytest.importorskip("playwright.sync_api")

from conftest import hurried_server, run_cli, seed_history  # noqa: E402
from upload_corpus import post_form  # noqa: E402
from test_server import (  # noqa: E402
    NGHI_DUONG,
    OUTPUT,
    clean,
    free_port,
    kiem_tra_json,
    press,
    receipt,
)

from toolkit.city.store import Store  # noqa: E402
from toolkit.excel.workbook import build  # noqa: E402
from toolkit.excel.xlsm import build_intake  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402
from toolkit.reports import num  # noqa: E402
from toolkit.server.keys import read_csv  # noqa: E402
from toolkit.server.nop import receipt_code  # noqa: E402

from toolkit.vnformat import city_today, fmt_date, fmt_percent  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
LATE = 3  # the deadline was this many days ago: every upload today is late by it
MAX_BYTES = 2 * 1024 * 1024


def wait_up(url: str, proc: subprocess.Popen) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/ping", timeout=1):
                return
        except OSError:
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.1)
    raise AssertionError("the server did not start")


@pytest.fixture(scope="module")
def site(tmp_path_factory, form):
    """The server on a store that does not exist yet, its log kept to look for keys in it."""
    if CHROMIUM is None:
        pytest.skip("chưa cài chromium (apt-get install chromium)")
    root = tmp_path_factory.mktemp("page")
    store, port = root / "kho.sqlite", free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("wb")
    deadline = city_today() - timedelta(days=LATE)  # days late count on the city's calendar
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho", str(store),
                             "--thu-muc", str(root / "may_chu"), "--ky", "6T", "--nam", "2026",
                             "--han", f"{deadline:%d/%m/%Y}", "--cong", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_up(url, proc)
        yield {"root": root, "store": store, "url": url, "log": root / "server.log", "deadline": deadline}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def keys(site):
    """Every unit's key, issued by the CLI while the server runs."""
    keyfile = site["root"] / "khoa.csv"
    done = run_cli("server", "cap-khoa", "--kho", str(site["store"]), "--ra", str(keyfile))
    assert done.returncode == 0, done.stderr
    return dict(read_csv(keyfile))


@pytest.fixture(scope="module")
def files(site, keys, form, tmp_path_factory):
    """Nghi Dương's workbook corrected (the .xlsm the city hands out, its buttons pointing at the server) and as
    the seed (3 errors); another unit's corrected workbook as a plain .xlsx (what Excel on a Mac saves)."""
    folder = tmp_path_factory.mktemp("upload")
    data = load_data(NGHI_DUONG, form)
    unit = data["thong_tin"]["MA_DVHC"]
    other, third = [u for u in form.units if u.code != unit][:2]
    second = clean(data)
    second["thong_tin"].update(MA_DVHC=other.code, TEN_DON_VI=other.name)
    wrong = load_data(NGHI_DUONG, form)
    wrong["thong_tin"].update(MA_DVHC=third.code, TEN_DON_VI=third.name)
    server = (site["url"], keys[unit])
    return {"unit": unit, "other": other.code, "third": third.code,
            "third_seed": build(form, folder / "phieu_xa_thu_ba.xlsx", wrong),
            "clean": build_intake(form, folder / "phieu_nghi_duong.xlsm", clean(data), server=server),
            "seed": build_intake(form, folder / "phieu_con_loi.xlsm", data, server=server),
            "other_clean": build(form, folder / "phieu_mac.xlsx", second)}


def rows(page) -> list[dict[str, str]]:
    """The table's rows as the browser shows them (those on screen, whatever hides the others): header -> text."""
    return page.evaluate("""() => {
        const heads = [...document.querySelectorAll('#don-vi thead th')].map(th => th.textContent.trim());
        return [...document.querySelectorAll('#don-vi tbody tr')].filter(tr => tr.getClientRects().length).map(tr =>
            Object.fromEntries([...tr.cells].map((td, i) => [heads[i], td.textContent.trim()])));
    }""")


def card(page, key: str) -> int:
    return int(page.inner_text(f"#dem-{key}"))


def upload(page, site, key: str, path=None, name=None, data=None) -> None:
    page.goto(site["url"] + "/nop-tep")
    page.fill("#khoa", key)
    if data is None:
        page.set_input_files("#tep", str(path))
    else:
        page.set_input_files("#tep", {"name": name, "mimeType": "application/octet-stream", "buffer": data})
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/nop-tep" in page.url and key not in page.url


# On an empty store ----------------------------------------------------------------------------------------------


def empty_page(site, page) -> None:
    answer = page.goto(site["url"] + "/")
    assert answer.status == 200, page.content()[:500]
    shown = rows(page)
    assert len(shown) == 114 and {r["Trạng thái"] for r in shown} == {"chưa nộp"}
    assert (card(page, "da-nop"), card(page, "chua-nop"), card(page, "nop-muon")) == (0, 114, 0)
    # Not in yet, three days after the deadline: overdue by three days, said on every row.
    assert {r["Số ngày muộn"] for r in shown} == {str(LATE)}


def test_page_on_a_fresh_store(site, page):
    import sqlite3

    with sqlite3.connect(site["store"]) as db:  # created by the server, before any key or submission
        assert db.execute("SELECT COUNT(*) FROM unit_key").fetchone()[0] == 0
    empty_page(site, page)
    assert page.locator("a[href='/tai-ve/bao-cao-tong-hop.docx']").count() == 0  # nothing to report yet
    answer = page.goto(site["url"] + "/tai-ve/bao-cao-tong-hop.docx")
    assert answer.status == 404 and "chưa có đơn vị nào nộp phiếu" in page.inner_text("body")
    with urllib.request.urlopen(site["url"] + "/tai-ve/so-tong-hop.xlsx", timeout=120) as r:
        assert r.read(2) == b"PK"  # the city workbook of an empty period: every unit "chưa nộp"


def test_page_right_after_keys_are_issued(site, keys, page):
    assert len(keys) == 114
    empty_page(site, page)


def test_times_are_in_the_city_time_zone(site, page):
    from datetime import datetime

    page.goto(site["url"] + "/")
    shown = re.search(r"Cập nhật lúc (\d\d:\d\d \d\d/\d\d/\d{4}) \(giờ Việt Nam", page.inner_text("body")).group(1)
    city = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    stamp = datetime.strptime(shown, "%H:%M %d/%m/%Y").replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert abs((city - stamp).total_seconds()) < 180


# Nộp from a browser ---------------------------------------------------------------------------------------------


def test_upload_with_errors_shows_what_kiem_tra_finds_and_stores_nothing(site, keys, page, files):
    key = keys[files["unit"]]
    upload(page, site, key, files["seed"])
    assert page.inner_text("#chua-nop").startswith("Chưa nộp được: phiếu còn 3 lỗi, 0 cảnh báo")
    table = page.evaluate("""() => [...document.querySelectorAll('#ket-qua-kiem-tra tbody tr')]
        .map(tr => [...tr.cells].map(td => td.textContent.trim()))""")
    expected = [[f["code"], {"error": "LỖI", "warning": "CẢNH BÁO"}[f["severity"]], f["message"],
                 f"{f['sheet']}!{f['cell']}"] for f in kiem_tra_json(files["seed"])]
    assert table == expected and len(expected) == 3
    with Store(site["store"]) as db:
        assert db.versions(files["unit"], "6T", 2026) == []
    page.screenshot(path=str(OUTPUT / "nop_tep_co_loi_1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(OUTPUT / "nop_tep_co_loi_390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # A third unit is refused for its errors and stays refused: the page will list it as such.
    upload(page, site, keys[files["third"]], files["third_seed"])
    assert page.inner_text("#chua-nop").startswith("Chưa nộp được: phiếu còn")


def test_upload_without_errors_gets_the_buttons_receipt_and_version(site, keys, page, files, form):
    key = keys[files["unit"]]
    upload(page, site, key, files["clean"])
    code, version = page.inner_text("#ma-tiep-nhan"), int(page.inner_text("#phien-ban"))
    # the server's deadline was LATE days ago: the receipt says so, as the page's «Số ngày muộn» counts it
    assert page.inner_text("#han-nop") == f"muộn {num(LATE)} ngày (hạn {fmt_date(site['deadline'])})"
    page.screenshot(path=str(OUTPUT / "nop_tep_bien_nhan_1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(OUTPUT / "nop_tep_bien_nhan_390.png"), full_page=True)
    with Store(site["store"]) as db:
        [stored] = db.versions(files["unit"], "6T", 2026)
    assert version == stored.version == 1
    assert code == receipt_code(files["unit"], "6T", 2026, 1, stored.file_hash, form)
    # The same workbook through the Nộp button: the same content, so the same receipt and no new version.
    city = {"url": site["url"]}
    model, _ = press(city, files["clean"], "nop", key)
    assert receipt(model, files["clean"])[:2] == (code, 1)
    assert receipt(model, files["clean"])[3] == f"muộn {num(LATE)} ngày"
    with Store(site["store"]) as db:
        assert len(db.versions(files["unit"], "6T", 2026)) == 1
    # A Mac user's plain .xlsx under a hostile name: stored under the server's own name only.
    upload(page, site, keys[files["other"]], name="../../kho.sqlite.xlsx",
           data=files["other_clean"].read_bytes())
    assert page.inner_text("#phien-ban") == "1"
    assert not list(site["root"].rglob("kho.sqlite.xlsx"))
    with Store(site["store"]) as db:
        assert len(db.versions(files["other"], "6T", 2026)) == 1
    assert not list((site["root"] / "may_chu" / "tai_len").iterdir())  # the upload itself is not kept


def test_upload_refusals_are_vietnamese_and_keys_stay_out_of_logs(site, keys, page, files):
    key = keys[files["unit"]]
    upload(page, site, key[:-2] + "xx", files["clean"])
    assert "khóa không đúng" in page.inner_text("#tu-choi")
    upload(page, site, keys[files["other"]], files["clean"])
    assert "khóa bạn nhập là của" in page.inner_text("#tu-choi")
    upload(page, site, key, name="bang_tinh.xlsx", data=b"ma,ten\n1,2\n")
    assert "không phải tệp Excel" in page.inner_text("#tu-choi")
    upload(page, site, key, name="to.xlsx", data=b"PK" + b"x" * (6 * 1024 * 1024))
    assert "quá lớn" in page.inner_text("#tu-choi")
    log = site["log"].read_text(encoding="utf-8", errors="replace")
    assert "POST /nop-tep" in log and not any(k in log for k in keys.values())


def test_rate_limit_is_the_buttons(site, keys, files):
    """The 20 requests a minute of the buttons count uploads too (same key, same budget)."""
    codes = [post_form(site["url"], keys[files["other"]], b"khong phai excel") for _ in range(22)]
    assert codes[0][0] == 200 and "không phải tệp Excel" in codes[0][1]
    assert codes[-1][0] == 429 and "gửi quá 20 lần trong một phút" in codes[-1][1]


def test_time_limit_is_the_buttons(files, tmp_path):
    """A server whose time limit has passed before the key is checked answers "busy" in Vietnamese; one in
    time refuses the third request in the minute (limit 2) before any work."""
    with hurried_server(tmp_path / "vội", files["unit"]) as (url, key):
        answers = [post_form(url, key, files["clean"].read_bytes()) for _ in range(2)]
    assert [a[0] for a in answers] == [503, 503], answers
    assert "máy chủ đang bận, chưa xử lý xong trong 0.001 giây" in answers[0][1]
    with hurried_server(tmp_path / "đếm", files["unit"], timeout=60) as (url, key):
        answers = [post_form(url, key, files["clean"].read_bytes()) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 429], answers


# The page after the uploads ---------------------------------------------------------------------------------------


def test_page_sorts_filters_and_searches_without_the_server(site, keys, page, files, form):
    page.goto(site["url"] + "/")
    shown = rows(page)
    # The units still missing first, overdue since the period's deadline; then the late ones, with how many days.
    assert all(r["Trạng thái"] == "chưa nộp" and r["Số ngày muộn"] == str(LATE) for r in shown[:-2])
    assert [r["Mã ĐVHC"] for r in shown[-2:]] == sorted([files["unit"], files["other"]])
    assert all(r["Trạng thái"] == "nộp muộn" and r["Số ngày muộn"] == str(LATE) for r in shown[-2:])
    mine = next(r for r in shown if r["Mã ĐVHC"] == files["unit"])
    with Store(site["store"]) as db:
        [stored] = db.versions(files["unit"], "6T", 2026)
    city = stored.received_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))  # the server's clock, read in the city
    assert mine["Phiên bản"] == "1" and mine["Thời gian nhận"] == f"{city:%H:%M %d/%m/%Y}"

    served = []
    page.on("request", lambda req: served.append(req.url))
    page.click("th button[data-cot='1']")  # Mã ĐVHC, ascending
    codes = [r["Mã ĐVHC"] for r in rows(page)]
    assert codes == sorted(codes, key=int)
    page.click("th button[data-cot='1']")  # descending
    assert [r["Mã ĐVHC"] for r in rows(page)] == sorted(codes, key=int, reverse=True)
    page.select_option("#xep", "7")  # Phiên bản: numbers first, ascending, blanks last
    assert [r["Phiên bản"] for r in rows(page)][:3] == ["1", "1", ""]

    for key, status in (("nop-muon", "nộp muộn"), ("chua-nop", "chưa nộp")):
        page.select_option("#loc", key)
        got = rows(page)
        assert len(got) == card(page, key) and {r["Trạng thái"] for r in got} == {status}
    page.click("#tong button[data-loc='da-nop']")
    assert len(rows(page)) == card(page, "da-nop") == 2
    page.click("#tong button[data-loc='da-nop']")  # pressed again: every unit
    assert len(rows(page)) == 114

    page.fill("#tim", "nghi duong")  # typed without diacritics
    found = rows(page)
    name = form.unit_by_code(files["unit"]).name
    assert found and all("Nghi Dương" in r["Đơn vị"] for r in found) and name in [r["Đơn vị"] for r in found]
    assert "#" in page.url and "tim=nghi+duong" in page.url
    page.reload()  # the page reloads itself every minute: the search survives it
    assert page.input_value("#tim") == "nghi duong" and len(rows(page)) == len(found)
    assert [u for u in served if "/tai-ve/" in u or u.rstrip("/") == site["url"]] == [site["url"] + "/"]  # the reload


def test_page_counts_are_the_city_workbooks(site, page, files, tmp_path):
    import openpyxl

    page.goto(site["url"] + "/")
    with urllib.request.urlopen(site["url"] + "/tai-ve/so-tong-hop.xlsx", timeout=120) as r:
        (tmp_path / "so.xlsx").write_bytes(r.read())
    cells = {}
    for ws in openpyxl.load_workbook(tmp_path / "so.xlsx", read_only=True).worksheets:
        for row in ws.iter_rows(values_only=True):
            vals = [v for v in row if v is not None]
            if len(vals) >= 2 and isinstance(vals[0], str) and vals[0] not in cells:
                cells[vals[0]] = vals[1]
    assert cells["Số đơn vị phải nộp"] == 114
    assert (cells["Đã nộp"], cells["Nộp muộn"], cells["Chưa nộp"]) == \
        (card(page, "da-nop"), card(page, "nop-muon"), card(page, "chua-nop")) == (2, 2, 112)
    assert cells["Hợp lệ (không có lỗi)"] == card(page, "da-nop") - card(page, "co-loi")
    assert f"/114 ({fmt_percent(cells['Tỷ lệ đã nộp (%)'], fixed=True)})" in page.inner_text("#tong")
    ws = openpyxl.load_workbook(tmp_path / "so.xlsx", read_only=True).worksheets[0]
    statuses = {str(r[1]): r[4] for r in ws.iter_rows(min_row=10, values_only=True) if str(r[1]).isdigit()}
    assert statuses == {r["Mã ĐVHC"]: r["Trạng thái"] for r in rows(page)}
    # A refused Nộp stores nothing: the unit is "chưa nộp" here as in the workbook, the note says it tried.
    # (Nghi Dương was refused once, then accepted: it has a version and is not listed.)
    page.select_option("#loc", "tu-choi")
    [refused] = rows(page)
    assert refused["Mã ĐVHC"] == files["third"] and refused["Trạng thái"] == "chưa nộp"
    assert re.fullmatch(r"Đã bấm Nộp lúc \d\d:\d\d \d\d/\d\d/\d{4} nhưng phiếu còn \d+ lỗi; chưa có bản nào được "
                        r"nhận", refused["Ghi chú"])


def test_screenshots_at_desktop_and_phone_widths(site, browser):
    OUTPUT.mkdir(exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
        page = context.new_page()
        page.goto(site["url"] + "/")
        page.screenshot(path=str(OUTPUT / f"trang_theo_doi_{width}.png"))
        # No sideways scrolling of the whole page; every column on screen, the note too.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.select_option("#loc", "tu-choi")
        assert len(rows(page)) == 1  # filtered rows hidden in either layout (the table, the phone's cards)
        note = page.locator("#don-vi tbody tr:not([hidden]) td[data-nhan='Ghi chú']")
        note.scroll_into_view_if_needed()
        box = note.bounding_box()
        assert note.inner_text().startswith("Đã bấm Nộp lúc") and 0 <= box["x"] < box["x"] + box["width"] <= width
        page.screenshot(path=str(OUTPUT / f"trang_theo_doi_loc_{width}.png"))
        page.goto(site["url"] + "/nop-tep")
        page.screenshot(path=str(OUTPUT / f"nop_tep_{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()
    assert (OUTPUT / "trang_theo_doi_390.png").stat().st_size > 10000


# Errors -----------------------------------------------------------------------------------------------------------


def test_404_and_503_are_vietnamese_pages(site, page, tmp_path):
    answer = page.goto(site["url"] + "/khong-co-trang-nay")
    assert answer.status == 404 and "Không có trang này" in page.inner_text("h1")
    assert page.evaluate("document.documentElement.lang") == "vi"
    answer = page.goto(site["url"] + "/tai-ve/" + "0" * 32 + "/bao_cao.docx")  # a report link from an old session
    assert answer.status == 404 and "liên kết đã cũ" in page.inner_text("body")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(site["url"] + "/khong-co", timeout=10)
    assert err.value.code == 404 and "không có trang này" in err.value.read().decode().lower()
    # A store damaged under a running server: the page says so in Vietnamese, no stack trace.
    store, port = tmp_path / "kho.sqlite", free_port()
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho", str(store),
                             "--thu-muc", str(tmp_path / "srv"), "--ky", "6T", "--nam", "2026", "--cong", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_up(f"http://127.0.0.1:{port}", proc)
        for extra in tmp_path.glob("kho.sqlite-*"):
            extra.unlink()
        store.write_bytes(b"khong phai sqlite" * 100)
        answer = page.goto(f"http://127.0.0.1:{port}/")
        text = page.inner_text("body")
        # The library's own words ("file is not a database") stay in the administrator's log; the store says why:
        # not the request's fault nor a bug, so 503 (try again later), not 500
        assert answer.status == 503 and page.inner_text("h1") == "Máy chủ chưa phục vụ được", text
        assert "tệp kho dữ liệu bị hỏng hoặc không phải kho SQLite" in text, text
        assert "database" not in text and "Traceback" not in text
        # A unit uploading meanwhile is told the same, without the server's paths
        code, said = post_form(f"http://127.0.0.1:{port}", "11713-khoa", b"PK\x03\x04 bat ky")
        assert code == 503 and "chưa lưu được bản nộp (tệp kho dữ liệu bị hỏng hoặc không phải kho" in said, said
        assert str(tmp_path) not in said and "database" not in said
    finally:
        proc.terminate()
        proc.wait(timeout=30)



# The next step from the page -------------------------------------------------------------------------------------


def test_page_leads_to_the_next_step(site, page, files, form):
    """A link to the upload page; the refused unit in its own card, sorted after the units not in and before the
    late ones; an anomaly says which figure and why, in amber, not the errors' red; versions per unit."""
    # Three earlier half-years with a tenth of today's files: the other unit's figure is flagged against its history.
    seed_history(site["store"], files["other"], files["other_clean"])
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(site["url"] + "/")
    link = page.locator("a#nop-tep")
    assert link.is_visible() and link.get_attribute("href") == "/nop-tep"

    assert card(page, "tu-choi") == 1 and card(page, "chua-nop") == 112
    codes = [r["Mã ĐVHC"] for r in rows(page)]
    statuses = [r["Trạng thái"] for r in rows(page)]
    at = codes.index(files["third"])
    assert statuses[:at] == ["chưa nộp"] * at and at == 111  # every unit not in, then the refused one
    assert statuses[at + 1:at + 3] == ["nộp muộn"] * 2  # then the late ones

    cell = page.locator(f"tr[data-ma='{files['other']}'] td[data-nhan='Bất thường']")
    label = form.indicator("HS_TIEP_NHAN").label
    assert cell.get_attribute("title").startswith(f"{label}: ") and "595" in cell.get_attribute("title")
    assert not page.locator(f"tr[data-ma='{files['other']}'] td[data-nhan='Bất thường'] li").first.is_visible()
    cell.locator("summary").click()  # the detail line opens under the count
    detail = cell.locator("li").first
    assert detail.is_visible() and label in detail.inner_text() and "Chưa xử lý: đơn vị chưa giải trình" in detail.inner_text()
    colours = page.evaluate("""() => ['#tong button[data-loc=bat-thuong]', '#tong button[data-loc=co-loi]',
        "td[data-nhan='Bất thường'].bat-thuong"].map(s => getComputedStyle(document.querySelector(s)).backgroundColor)""")
    assert colours[0] == colours[2] == "rgb(255, 224, 178)" and colours[1] != colours[0]
    page.screenshot(path=str(OUTPUT / "trang_buoc_tiep_1366.png"), full_page=False)

    versions = page.locator(f"tr[data-ma='{files['other']}'] a[href='/don-vi/{files['other']}/phien-ban']")
    assert versions.is_visible()
    page.click("a#nop-tep")
    assert page.url.endswith("/nop-tep") and page.locator("#tep").count() == 1


def test_the_dispatch_button_downloads_the_cong_van_with_the_date_typed(site, page, tmp_path):
    """The form beside the cards: a date typed in the browser's date field, the .docx downloaded by the browser
    (the page stays), the date and the page's counts in it; a date not after today never leaves the browser."""
    import docx

    page.goto(site["url"] + "/")
    field = page.locator("form#don-doc input#han-moi")
    assert field.get_attribute("min") == f"{city_today() + timedelta(days=1):%Y-%m-%d}"
    new = city_today() + timedelta(days=9)
    field.fill(f"{new:%Y-%m-%d}")
    with page.expect_download() as got:
        page.click("form#don-doc button[type=submit]")
    download = got.value
    assert download.suggested_filename == "cong_van_don_doc_6T_2026.docx" and page.url.startswith(site["url"])
    out = tmp_path / download.suggested_filename
    download.save_as(str(out))
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    sent = card(page, "da-nop")
    assert f"{num(sent)}/114 đơn vị đã gửi phiếu" in text and f"trước ngày {fmt_date(new)}" in text, text
    assert f"Chưa gửi phiếu số liệu ({num(card(page, 'chua-nop') - card(page, 'tu-choi'))} đơn vị)" in text
    page.screenshot(path=str(OUTPUT / "trang_cong_van_1366.png"), full_page=False)
    field.fill(f"{city_today():%Y-%m-%d}")  # before the minimum: the browser says so, nothing is posted
    page.click("form#don-doc button[type=submit]")
    assert page.evaluate("() => document.querySelector('#han-moi').validity.rangeUnderflow")


def test_versions_received_through_nop_say_how_and_the_units_own_file_name(site, keys, page, files):
    """Nghi Dương's version 1 came through the upload page, a corrected version 2 through the Nộp button: the page
    and `baocao phien-ban` name the unit's own file and the door, the time in Vietnam time, never the path the
    server keeps the workbook under."""
    from test_server import names

    from toolkit.intake.reader import read_submission

    key, unit = keys[files["unit"]], files["unit"]
    before = read_submission(files["clean"]).values["TT_TIN_CONG_TTDT"].value
    model, _ = press({"url": site["url"]}, files["clean"], "nop", key,
                     edits={names(files["clean"])["TT_TIN_CONG_TTDT"]: before + 1})  # typed, not saved
    assert receipt(model, files["clean"])[1] == 2
    with Store(site["store"]) as db:
        kept = [v.file for v in db.versions(unit, "6T", 2026)]
    page.goto(f"{site['url']}/don-vi/{unit}/phien-ban")
    shown = page.locator("#cac-phien-ban li").all_inner_texts()
    time = r"\d\d:\d\d \d\d/\d\d/\d{4} \(giờ Việt Nam\)"
    assert re.fullmatch(rf"Phiên bản 1: nộp qua trình duyệt lúc {time}, tệp «phieu_nghi_duong\.xlsm», 0 lỗi, "
                        r"\d+ cảnh báo", shown[0]), shown
    assert re.fullmatch(rf"Phiên bản 2: nộp từ Excel lúc {time}, tệp «phieu_nghi_duong\.xlsm», 0 lỗi, \d+ cảnh báo",
                        shown[1]), shown
    done = run_cli("phien-ban", "--kho", str(site["store"]), "--don-vi", unit)
    assert done.returncode == 0, done.stderr
    for text in (page.content(), done.stdout):
        assert all(path not in text and path.split("/")[-1] not in text for path in kept), kept
    assert "Phiên bản 2: nộp từ Excel lúc " in done.stdout
    # the Mac user's upload under a hostile name: its own base name, as the browser gave it
    page.goto(f"{site['url']}/don-vi/{files['other']}/phien-ban")
    assert "nộp qua trình duyệt lúc" in page.inner_text("#cac-phien-ban") and \
        "tệp «kho.sqlite.xlsx»" in page.inner_text("#cac-phien-ban")


def test_an_explained_anomaly_says_so_on_the_page(site, keys, page, files, form, tmp_path):
    """A unit whose two figures are flagged explains one in its workbook's «Giải trình» cell and uploads it: the
    page's anomaly cell says which figure, why, the unit's words for the explained one, that the other is not
    explained, and that both are still held (the server has no acceptance list: the city officer's tong_hop.xlsm)."""
    why = "Sáp nhập đơn vị sự nghiệp, chuyển 943 người sang đơn vị mới theo Quyết định số 25/QĐ-UBND"
    data = clean(load_data(NGHI_DUONG, form))
    unit = next(u for u in form.units if u.code not in (files["unit"], files["other"], files["third"]))
    data["thong_tin"].update(MA_DVHC=unit.code, TEN_DON_VI=unit.name)
    data["so_lieu"].update(CV_TINH_GIAN=943, CV_TUYEN_DUNG=70)
    data["giai_trinh"] = {"CV_TINH_GIAN": why}
    upload(page, site, keys[unit.code], build(form, tmp_path / "phieu_giai_trinh.xlsx", data))
    assert page.locator("#ma-tiep-nhan").is_visible()  # received: warnings never refuse
    page.goto(site["url"] + "/")
    cell = page.locator(f"tr[data-ma='{unit.code}'] td[data-nhan='Bất thường']")
    cut, hired = (form.indicator(c).label for c in ("CV_TINH_GIAN", "CV_TUYEN_DUNG"))
    title = cell.get_attribute("title")
    assert f"{cut}: " in title and f"giải trình của đơn vị: “{why}”" in title
    assert f"{hired}: " in title and "chưa giải trình" in title.split(f"{hired}: ")[1]
    summary = cell.locator("summary")
    assert summary.inner_text().startswith("2: ") and summary.inner_text().endswith("(1 đã giải trình)")
    summary.click()
    explained, unexplained = cell.locator("li.da-giai-trinh"), cell.locator("li.chua-giai-trinh")
    assert explained.count() == 1 and unexplained.count() == 1
    assert cut in explained.inner_text() and f"Giải trình của đơn vị: “{why}”" in explained.inner_text()
    assert "Chưa xử lý: đơn vị đã giải trình, chờ Sở Nội vụ xác minh" in explained.inner_text()
    assert hired in unexplained.inner_text() and "Đơn vị chưa giải trình" in unexplained.inner_text()
    page.screenshot(path=str(OUTPUT / "trang_giai_trinh_1366.png"), full_page=False)
