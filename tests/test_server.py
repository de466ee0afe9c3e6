"""The city server with real parts: `baocao server chay` on 127.0.0.1, keys and workbooks made by the CLI,
requests built the way xlwings 0.37.8's Remote.bas builds them, the actions applied to a model of the
workbook that enforces the file's own protection, and the result compared with `baocao kiem-tra`."""
import copy
import functools
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import date

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import remote_client as rc  # noqa: E402
from conftest import (  # noqa: E402
    ROOT, free_port, hurried_server, office_processes, run_cli, seed_history, warm_office_here)

from toolkit.city.store import Store  # noqa: E402
from toolkit.definition import layout as L  # noqa: E402
from toolkit.demo import sample_files  # noqa: E402
from toolkit.excel.sheet_edit import MACRO_LIFT, MACRO_RESTORE, MARK_COLOR  # noqa: E402
from toolkit.excel.xlsm import NAME_RECEIPT, NAME_RESULTS, NAME_STATUS, REMOTE_MESSAGES, RESULT_COLUMNS  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402
from toolkit.intake.reader import read_submission  # noqa: E402
from toolkit.server.app import ACTIONS  # noqa: E402
from toolkit.server.keys import read_csv  # noqa: E402
from toolkit.vnformat import city_date, city_today, fmt_date  # noqa: E402

OUTPUT = ROOT / "tests" / "output"
NGHI_DUONG = next(f for f in sample_files() if "nghi_duong" in f.stem)


def clean(data: dict) -> dict:
    """The Nghi Dương sample with the seed's three document-register mistakes corrected."""
    data = copy.deepcopy(data)
    for row in data["danh_sach"]["van_ban"]:
        if row["loai"] == "Kế hoạch" and row["ky_hieu"] == "QĐ-UBND":
            row["ky_hieu"] = "KH-UBND"
        if row["ky_hieu"] == "NQHĐND":
            row["ky_hieu"] = "NQ-HĐND"
        if row.get("ngay") == date(2026, 12, 26):
            row["ngay"] = date(2025, 12, 26)
    return data


@pytest.fixture(scope="module")
def city(tmp_path_factory, form):
    """Keys for every unit and two units' workbooks, made by the CLI as the city's IT would; the server running."""
    root = tmp_path_factory.mktemp("city")
    store, keyfile, port = root / "kho.sqlite", root / "khoa.csv", free_port()
    done = run_cli("server", "cap-khoa", "--kho", str(store), "--ra", str(keyfile))
    assert done.returncode == 0 and "Đã cấp 114 khóa" in done.stdout, done.stderr
    keys = dict(read_csv(keyfile))
    url = f"http://127.0.0.1:{port}"
    (root / "tmp").mkdir()  # the server's temp folder: its warm LibreOffice's profile is in it
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho", str(store),
                             "--thu-muc", str(root / "may_chu"), "--ky", "6T", "--nam", "2026",
                             "--han", f"{city_today():%d/%m/%Y}", "--cong", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**os.environ, "TMPDIR": str(root / "tmp")})
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/ping", timeout=1) as r:
                    assert r.read() == b"baocao"
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.1)
        yield {"root": root, "store": store, "keys": keys, "url": url, "keyfile": keyfile}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # SIGTERM ends the server and its warm LibreOffice with it (test_office.py: the other ways it may end)
    assert office_processes(root / "tmp") == []


@pytest.fixture(scope="module")
def books(city, form, tmp_path_factory):
    """Nghi Dương's remote workbooks (as the seed, and corrected) with its own key."""
    data = load_data(NGHI_DUONG, form)
    unit = data["thong_tin"]["MA_DVHC"]
    folder = tmp_path_factory.mktemp("units")
    keyfile = folder / "khoa.csv"
    keyfile.write_text(f"ma_dvhc,ten_don_vi,khoa\n{unit},x,{city['keys'][unit]}\n", encoding="utf-8")
    done = run_cli("tao-xlsm", "--may-chu", city["url"], "--khoa", str(keyfile), "--thu-muc", str(folder))
    assert done.returncode == 0, done.stderr
    blank = folder / f"phieu_{unit}.xlsm"
    from toolkit.excel.xlsm import build_intake

    server = (city["url"], city["keys"][unit])
    return {"unit": unit, "key": city["keys"][unit], "blank": blank,
            "seed": build_intake(form, folder / "seed.xlsm", data, server=server),
            "clean": build_intake(form, folder / "clean.xlsm", clean(data), server=server)}


@functools.lru_cache(maxsize=8)
def names(path) -> dict[str, tuple[str, str]]:
    import openpyxl

    return {n: next((s, r.replace("$", "").split(":")[0]) for s, r in d.destinations)
            for n, d in openpyxl.load_workbook(path).defined_names.items()}


def press(city, path, action, key, edits=None, body=None):
    """Click a button: post the workbook, apply the answer to the model; (model, actions)."""
    code, out = rc.post(f"{city['url']}/xlwings/{action}", body or rc.edit(rc.payload(path), edits), key)
    assert code == 200, out
    model = rc.ExcelClient(path, edits)
    model.apply(out["actions"])  # raises like Excel on a write to a locked cell of a protected sheet
    assert model.protection() == model.before, "a sheet was left unprotected or with other permissions"
    return model, out["actions"]


def status(model, path) -> str:
    return model.value(*names(path)[NAME_STATUS])


def receipt(model, path) -> tuple[str, int, str, str] | None:
    """(mã tiếp nhận, version, time, on time or late) written after Nộp."""
    text = model.value(*names(path)[NAME_RECEIPT]) or ""
    m = re.fullmatch(r"Mã tiếp nhận (\S+); phiên bản (\d+); nhận lúc (\d\d:\d\d:\d\d \d\d/\d\d/\d{4}); "
                     r"(đúng hạn|muộn \d+ ngày) \(hạn \d\d/\d\d?/\d{4}\)", text)
    return (m.group(1), int(m.group(2)), m.group(3), m.group(4)) if m else None


def kiem_tra_json(path) -> list[dict]:
    """The findings `baocao kiem-tra --json` prints for one file."""
    done = run_cli("kiem-tra", "--json", str(path))
    [report] = json.loads(done.stdout)
    return report["findings"]


# The workbook and its VBA ------------------------------------------------------------------------------------


def test_keys_are_stored_hashed_and_the_workbook_carries_url_and_key(city, books):
    db = sqlite3.connect(city["store"])
    rows = dict(db.execute("SELECT unit, key_hash FROM unit_key"))
    assert len(rows) == 114
    key = books["key"]
    assert key.startswith(books["unit"] + "-") and rows[books["unit"]] != key and len(rows[books["unit"]]) == 64
    assert key.encode() not in city["store"].read_bytes()
    import python_calamine as pc

    conf = dict(r[:2] for r in pc.CalamineWorkbook.from_path(str(books["blank"])).get_sheet_by_name(
        "xlwings.conf").to_python())
    assert conf == {"BAOCAO_MAY_CHU": city["url"], "AUTH": key}
    meta = read_submission(books["blank"])
    assert meta.unit_code == books["unit"] and meta.unit_name


def test_vba_buttons_call_server_actions_and_protection_macros_exist(books):
    vba = rc.vba_modules(books["blank"])
    assert {"RemoteButtons", "Remote", "WebClient", "WebRequest", "WebResponse", "WebHelpers", "Dictionary",
            "IWebAuthenticator", "xlwings"} <= set(vba)
    source = vba["RemoteButtons"]
    assert set(re.findall(r'CallServer "([a-z-]+)"', source)) == set(ACTIONS)
    assert "RunServerPython url & \"/xlwings/\" & action" in source
    for macro in (MACRO_LIFT, MACRO_RESTORE):
        assert re.search(rf"^Public Sub {macro}\(wb As Workbook, sheetName As String\)", source, re.M)
    n = names(books["blank"])
    assert set(re.findall(r'Message\(wb, "(\w+)"\)', source)) == set(REMOTE_MESSAGES) <= set(n)
    assert 'request.Resource = "ping"' in source  # the server-unreachable check before RunServerPython


def test_server_answers_the_reachability_check(city):
    with urllib.request.urlopen(city["url"] + "/ping", timeout=5) as r:
        assert r.status == 200


# Kiểm tra ------------------------------------------------------------------------------------------------------


def test_kiem_tra_on_the_server_writes_what_kiem_tra_finds(city, books):
    path = books["seed"]
    model, actions = press(city, path, "kiem-tra", books["key"])
    assert re.fullmatch(r"Kiểm tra xong lúc .*: 3 lỗi, 0 cảnh báo", status(model, path))
    sheet, head = names(path)[NAME_RESULTS]
    table = model.block(sheet, head, len(RESULT_COLUMNS))
    assert tuple(table[0]) == RESULT_COLUMNS
    expected = [[f["code"], f["message"], {"error": "LỖI", "warning": "CẢNH BÁO"}[f["severity"]],
                 f"{f['sheet']}!{f['cell']}"] for f in kiem_tra_json(path)]
    assert table[1:] == expected and len(expected) == 3
    for *_, where in expected:
        assert model.fill(*where.split("!")) == MARK_COLOR["error"]
    assert "runMacro" in model.applied  # protection lifted and restored by the workbook's own macros


def test_unsaved_edits_count(city, books):
    path = books["clean"]
    sheet, cell = names(path)["HS_TIEP_NHAN"]
    model, _ = press(city, path, "kiem-tra", books["key"], {(sheet, cell): 1})
    assert re.search(r": [1-9]\d* lỗi", status(model, path))
    assert model.fill(sheet, cell) == MARK_COLOR["error"]


# Nộp ------------------------------------------------------------------------------------------------------------


def test_nop_with_errors_is_refused_and_nothing_stored(city, books):
    model, _ = press(city, books["seed"], "nop", books["key"])
    assert status(model, books["seed"]).startswith("Chưa nộp được")
    with Store(city["store"]) as db:
        assert db.versions(books["unit"], "6T", 2026) == []


def test_nop_stores_versions_and_writes_the_receipt(city, books):
    path, n = books["clean"], names(books["clean"])
    model, _ = press(city, path, "nop", books["key"])
    # the server's deadline is today (--han): on time, said in the status cell and kept with the receipt
    assert re.match(rf"Đã nộp lúc \d\d:\d\d \d\d/\d\d/\d{{4}}, đúng hạn \(hạn {fmt_date(city_today())}\): ",
                    status(model, path)), status(model, path)
    code, version, _, timing = receipt(model, path)
    assert timing == "đúng hạn"
    assert re.fullmatch(rf"{books['unit']}-6T2026-V1-[0-9A-F]{{8}}", code) and version == 1
    with Store(city["store"]) as db:
        [stored] = db.versions(books["unit"], "6T", 2026)
    assert code.endswith(stored.file_hash[:8].upper()) and stored.errors == 0
    kept = city["root"] / "may_chu" / "phieu" / stored.file
    again = read_submission(kept)  # the workbook as received, readable by the reader
    assert {c: v.value for c, v in again.values.items()} == {c: v.value for c, v in read_submission(path).values.items()}

    same, _ = press(city, path, "nop", books["key"])
    assert "không tạo phiên bản mới" in status(same, path) and receipt(same, path)[0] == code

    sheet, cell = n["TT_TIN_CONG_TTDT"]
    second, _ = press(city, path, "nop", books["key"], {(sheet, cell): 451})
    assert receipt(second, path)[1] == 2
    with Store(city["store"]) as db:
        assert [s.version for s in db.versions(books["unit"], "6T", 2026)] == [1, 2]


def test_nop_answers_with_the_units_history_as_a_warning_never_a_refusal(city, books, form):
    """Three earlier half-years with a tenth of today's files: Nộp still stores, and says so."""
    path = books["clean"]
    sheet, cell = names(path)["TT_TIN_CONG_TTDT"]
    seed_history(city["store"], books["unit"], path)
    model, _ = press(city, path, "nop", books["key"], {(sheet, cell): 451})  # the content of version 2
    assert status(model, path).startswith("Đã nộp lúc") and "cảnh báo" in status(model, path), status(model, path)
    said = [v for v in model.book.sheets[L.SHEET_CHECK].cells.values() if isinstance(v, str)]
    assert any(v.startswith("Bất thường so với các kỳ trước: 5.892 hồ sơ, gấp 9,9 lần 6 tháng đầu năm 2025 (595); "
                         "ba kỳ gần nhất 595–610")
               for v in said), [v for v in said if "Bất thường" in v]
    from toolkit.server.dashboard import page_data

    page = page_data(city["store"], "6T", 2026, None, form)  # what the page gets
    rows = {r["code"]: r for r in page.rows}
    assert rows[books["unit"]]["anomalies"] >= 1 and sum(r["anomalies"] for r in rows.values()) == \
        rows[books["unit"]]["anomalies"]
    assert page.counts["bat-thuong"] == 1 and "bat-thuong" in rows[books["unit"]]["groups"]
    with urllib.request.urlopen(city["url"] + "/", timeout=120) as r:  # and the page shows it: a card, a column
        html = r.read().decode()
    shown = rows[books["unit"]]["anomalies"]
    assert '<b id="dem-bat-thuong">1</b>' in html and f'data-nhan="Bất thường" data-v="{shown}"' in html


# Refusals -------------------------------------------------------------------------------------------------------


def test_a_key_of_another_unit_cannot_submit(city, books):
    other = next(u for u in city["keys"] if u != books["unit"])
    model, _ = press(city, books["clean"], "nop", city["keys"][other])
    assert f"mã {other}" in status(model, books["clean"]) and "Nộp: khóa trong tệp này là của" in \
        status(model, books["clean"])
    with Store(city["store"]) as db:
        assert db.versions(other, "6T", 2026) == []


@pytest.mark.parametrize("key", [None, "", "11713-doan-mo", "khong-phai-khoa"])
def test_a_wrong_key_is_refused_in_the_status_cell(city, books, key):
    model, actions = press(city, books["clean"], "nop", key)
    assert status(model, books["clean"]).startswith("Nộp: khóa của tệp không đúng")
    assert [a["func"] for a in actions] == ["setValues"]


def test_a_workbook_of_another_form_version_is_refused(city, books):
    import python_calamine as pc

    rows = pc.CalamineWorkbook.from_path(str(books["clean"])).get_sheet_by_name("Danh mục").to_python()
    r = next(i for i, row in enumerate(rows) if row and row[0] == "Phiên bản")
    model, _ = press(city, books["clean"], "kiem-tra", books["key"], {("Danh mục", f"B{r + 1}"): "0.9"})
    assert "phiếu phiên bản 0.9" in status(model, books["clean"])


def test_a_workbook_of_another_xlwings_version_is_refused(city, books):
    body = rc.payload(books["clean"])
    body["version"] = "0.30.0"
    model, _ = press(city, books["clean"], "kiem-tra", books["key"], body=body)
    assert "phiên bản xlwings 0.30.0" in status(model, books["clean"])


def test_a_payload_too_large_is_refused_without_being_kept(city, books):
    body = json.dumps(rc.payload(books["clean"])).encode()
    big = body[:-1] + b', "padding": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    model, _ = press(city, books["clean"], "nop", books["key"], body=big)
    assert "dữ liệu gửi lên quá lớn" in status(model, books["clean"])


def test_rate_limit_and_timeout_are_vietnamese_refusals(books, tmp_path, form):
    with hurried_server(tmp_path / "vội", books["unit"]) as (url, key):
        texts = [status(press({"url": url}, books["clean"], "kiem-tra", key)[0], books["clean"]) for _ in range(2)]
    assert all("máy chủ đang bận" in t for t in texts), texts
    with hurried_server(tmp_path / "đếm", books["unit"], timeout=60) as (url, key):
        texts = [status(press({"url": url}, books["clean"], "kiem-tra", key)[0], books["clean"]) for _ in range(3)]
    assert all(t.startswith("Kiểm tra xong") for t in texts[:2]), texts
    assert "bấm quá 2 lần trong một phút" in texts[2]


# Tạo báo cáo, the city's page and downloads ---------------------------------------------------------------------


def test_tao_bao_cao_renders_on_the_server_and_links_the_file(city, books):
    from toolkit.excel.xlsm import NAME_REPORT_TYPE, report_types

    title = dict(report_types())["cchc-cds"]  # the clean sample has content for every section of it
    path = books["clean"]
    model, _ = press(city, path, "tao-bao-cao", books["key"], {names(path)[NAME_REPORT_TYPE]: title})
    text = status(model, path)
    link = re.search(r"http://127\.0\.0\.1:\d+/tai-ve/[0-9a-f]{32}/\S+\.docx", text)
    assert text.startswith("Đã tạo báo cáo lúc") and link, text
    with urllib.request.urlopen(link.group(0), timeout=30) as r:
        assert r.read(2) == b"PK"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(city["url"] + "/tai-ve/" + "0" * 32 + "/..%2F..%2Fkho.sqlite", timeout=5)
    seed, _ = press(city, books["seed"], "tao-bao-cao", books["key"], {names(path)[NAME_REPORT_TYPE]: title})
    assert re.match(r"Chưa lập báo cáo lúc .*: phiếu còn 3 lỗi", status(seed, books["seed"]))  # as bao-cao refuses
    if not warm_office_here():  # without python3-uno or unoserver: the .docx, and the status says why no PDF
        assert text.endswith("(chưa có bản PDF: máy chủ chưa chạy được LibreOffice để xuất PDF; hãy báo Sở Nội vụ)")
        return
    # the server's warm LibreOffice, started by the first press, gives the PDF in the same answer (a press while
    # it is still starting, on a loaded machine, says so: the next one has it)
    for _ in range(10):
        if "LibreOffice của máy chủ đang khởi động" not in text:
            break
        time.sleep(2)
        text = status(press(city, path, "tao-bao-cao", books["key"], {names(path)[NAME_REPORT_TYPE]: title})[0], path)
        link = re.search(r"http://127\.0\.0\.1:\d+/tai-ve/[0-9a-f]{32}/\S+\.docx", text)
    pdf = re.search(r"http://127\.0\.0\.1:\d+/tai-ve/[0-9a-f]{32}/\S+\.pdf", text)
    assert pdf and pdf.group(0)[:-4] == link.group(0)[:-5], text
    with urllib.request.urlopen(pdf.group(0), timeout=30) as r:
        (city["root"] / "tai_ve.pdf").write_bytes(r.read())
    words = subprocess.run(["pdftotext", str(city["root"] / "tai_ve.pdf"), "-"], capture_output=True, text=True)
    assert "Nghi Dương".upper() in words.stdout.upper() and "BÁO CÁO" in words.stdout, words.stdout[:500]


def page_rows(dom: str) -> dict[str, list[str]]:
    """Unit code -> the cells of its row on the page, as the browser built it."""
    out = {}
    for row in re.findall(r"<tr class=\"[a-z-]+\"[^>]*>(.*?)</tr>", dom, re.S):
        cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        out[cells[1]] = cells
    return out


def browse(city, shot_name: str) -> dict[str, list[str]]:
    """Open the city's page in headless Chromium: a screenshot in tests/output/, the rendered rows back."""
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chưa cài chromium (apt-get install chromium)")
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / shot_name
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              f"--user-data-dir={city['root'] / 'chromium'}"]
    done = subprocess.run(common + ["--window-size=1400,900", f"--screenshot={shot}", city["url"] + "/"],
                          capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10000, done.stderr.decode()[-2000:]
    dom = subprocess.run(common + ["--dump-dom", city["url"] + "/"], capture_output=True, timeout=120).stdout.decode()
    assert "Tình hình nộp phiếu số liệu cải cách hành chính: 6 tháng đầu năm 2026" in dom
    return page_rows(dom)


def test_dashboard_shows_the_first_submission(city, books):
    """After the Nộp tests: Nghi Dương has versions 1 and 2, received before today's deadline; 113 missing."""
    rows = browse(city, "dashboard_dau_ky.png")
    assert len(rows) == 114
    mine = rows[books["unit"]]
    assert mine[3] == "đã nộp" and mine[7] == "2" and re.fullmatch(r"\d\d:\d\d \d\d/\d\d/\d{4}", mine[5]), mine
    assert re.fullmatch(rf"{books['unit']}-6T2026-V2-[0-9A-F]{{8}}", mine[8])  # the receipt the unit holds
    assert sum(r[3] == "chưa nộp" for r in rows.values()) == 113


def test_load_114_units_submit_within_a_minute(city, books, form):
    """Every unit presses Nộp at once (16 at a time, loopback): nothing lost, every receipt is a stored version.

    Six units send a total that does not add up: refused, and the page says they tried."""
    from concurrent.futures import ThreadPoolExecutor

    path = books["clean"]
    n = names(path)
    base = rc.payload(path)
    wrong = {u.code for u in form.units[108:]} - {books["unit"]}

    def submit(unit):
        edits = {n["MA_DVHC"]: unit.code, n["TEN_DON_VI"]: unit.name}
        if unit.code in wrong:
            edits[n["HS_TIEP_NHAN"]] = 1
        t0 = time.perf_counter()
        code, out = rc.post(f"{city['url']}/xlwings/nop", rc.edit(base, edits), city["keys"][unit.code], timeout=120)
        elapsed = time.perf_counter() - t0
        return unit.code, elapsed, code, out

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(submit, form.units))
    wall = time.perf_counter() - start
    results = []
    for unit, elapsed, code, out in answers:
        if code != 200:
            results.append((unit, elapsed, None, f"HTTP {code}"))
            continue
        model = rc.ExcelClient(path)
        model.apply(out["actions"])
        assert model.protection() == model.before
        got = receipt(model, path)
        results.append((unit, elapsed, got[0] if got else None, model.value(*n[NAME_STATUS])))
    latencies = sorted(r[1] for r in results)
    failures = [r for r in results if r[3] is None or r[3].startswith("HTTP")
                or (r[0] in wrong) != r[3].startswith("Chưa nộp được")]
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"\nload: {len(results)} requests, {len(failures)} failures, wall {wall:.1f} s, "
          f"p50 {latencies[len(latencies) // 2]:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s")
    assert not failures, failures[:3]
    assert wall < 60  # sanity bound: the "within one minute"
    with Store(city["store"]) as db:
        for unit, _, code, text in results:
            stored = db.versions(unit, "6T", 2026)
            if unit in wrong:
                assert stored == [] and code is None, text
            else:
                assert any(code == f"{unit}-6T2026-V{s.version}-{s.file_hash[:8].upper()}" for s in stored), text
        assert len(db.units("6T", 2026)) == 114 - len(wrong)


def test_dashboard_after_the_rush_and_its_downloads(city, books, form):
    rows = browse(city, "dashboard.png")
    statuses = [r[3] for r in rows.values()]
    assert statuses.count("chưa nộp") == 6 and statuses.count("đã nộp") == 108
    wrong = rows[form.units[-1].code]  # refused: nothing stored, so "chưa nộp" as in the city workbook
    assert wrong[3] == "chưa nộp" and re.fullmatch(r"Đã bấm Nộp lúc .* nhưng phiếu còn [1-9]\d* lỗi; .*", wrong[-1]), \
        wrong
    with urllib.request.urlopen(city["url"] + "/tai-ve/so-tong-hop.xlsx", timeout=120) as r:
        workbook = city["root"] / "tai_ve.xlsx"
        workbook.write_bytes(r.read())
    import openpyxl

    text = {str(c.value) for ws in openpyxl.load_workbook(workbook, read_only=True).worksheets
            for row in ws.iter_rows() for c in row if c.value is not None}
    assert books["unit"] in text or any(books["unit"] in t for t in text)
    with urllib.request.urlopen(city["url"] + "/tai-ve/bao-cao-tong-hop.docx", timeout=300) as r:
        assert r.read(2) == b"PK"


def test_a_version_received_after_the_deadline_is_late(city, books, form):
    from toolkit.server.dashboard import page_data

    page = page_data(city["store"], "6T", 2026, date(2026, 6, 19), form)
    rows = {r["code"]: r for r in page.rows}
    mine = rows[books["unit"]]
    assert mine["status"] == "nộp muộn" and mine["version"] == 2
    with Store(city["store"]) as db:
        received = db.versions(books["unit"], "6T", 2026)[-1].received_at
    assert mine["late_days"] == (city_date(received) - date(2026, 6, 19)).days > 0
    assert page.rows[0]["status"] == "chưa nộp" and page.rows[0]["late_days"] > 0  # who still owes, first


def test_cli_refusals_are_vietnamese(tmp_path):
    done = run_cli("tao-xlsm", "--may-chu", "https://baocao.example", "--thu-muc", str(tmp_path))
    assert done.returncode == 2 and "--may-chu và --khoa phải dùng cùng nhau" in done.stderr
    done = run_cli("server", "cap-khoa", "--kho", str(tmp_path / "kho.sqlite"), "--don-vi", "99999", "--ra",
                   str(tmp_path / "khoa.csv"))
    assert done.returncode == 2 and "mã đơn vị không có trong danh sách: 99999" in done.stderr
    (tmp_path / "khoa.csv").write_text("ma,khoa\n1,2\n", encoding="utf-8")
    done = run_cli("tao-xlsm", "--may-chu", "https://baocao.example", "--khoa", str(tmp_path / "khoa.csv"))
    assert done.returncode == 2 and "không phải tệp khóa" in done.stderr
    done = run_cli("server", "chay", "--kho", str(tmp_path / "kho.sqlite"), "--thu-muc", str(tmp_path), "--ky",
                   "Q7", "--nam", "2026")
    assert done.returncode == 2 and "kỳ báo cáo «Q7» không có trong danh mục" in done.stderr
