"""The city server under attack, from outside: `baocao server chay` on 127.0.0.1, requests over real sockets.

Receipts under concurrent Nộp (each receipt is a stored version, versions 1..N in the order receipts were
given), hostile payloads and handler failures (a Vietnamese status, never an English 500), and clients that
send their request a line at a time (cut after the head deadline, so /ping stays reachable)."""
import json
import re
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import remote_client as rc  # noqa: E402
from conftest import run_cli, start, stop  # noqa: E402
from small_disk import SmallDisks, fill  # noqa: E402
from test_server import NGHI_DUONG, clean, names  # noqa: E402

from toolkit.city.store import Store  # noqa: E402
from toolkit.excel.xlsm import NAME_STATUS, build_intake  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402
from toolkit.server.keys import read_csv  # noqa: E402
from toolkit.vnformat import city_wall  # noqa: E402

RECEIPT = re.compile(r"Mã tiếp nhận (\S+); phiên bản (\d+); nhận lúc (\d\d:\d\d:\d\d \d\d/\d\d/\d{4}); "
                     r"(?:đúng hạn|muộn \d+ ngày) \(hạn [\d/]+\)")


SERVER_OPTIONS = ("--so-lan-bam", "1000", "--thoi-gian-xu-ly", "900")  # 100 Nộp at once: no rate, no time limit


@pytest.fixture(scope="module")
def city(keyed_server, form):
    """Keys for every unit; a server whose rate limit and processing time allow 100 Nộp at once."""
    data = load_data(NGHI_DUONG, form)
    book = build_intake(form, keyed_server["root"] / "clean.xlsm", clean(data),
                        server=(keyed_server["url"], keyed_server["keys"][data["thong_tin"]["MA_DVHC"]]))
    return {**keyed_server, "book": book, "body": rc.payload(book)}


def receipts_of(actions: list[dict]) -> list[tuple[str, int, str]]:
    """The receipts an answer writes into the workbook."""
    texts = [v for a in actions if a["func"] == "setValues" for row in a["values"] for v in row if isinstance(v, str)]
    return [(m.group(1), int(m.group(2)), m.group(3)) for t in texts if (m := RECEIPT.fullmatch(t))]


def nop_many(city, jobs: list[tuple[object, int]], urls: list[str] | None = None,
             threads: int | None = None) -> dict[str, list[tuple[str, int, str]]]:
    """Every (unit, figure) pressed Nộp at the same time, each with different content, the k-th job on server
    `urls[k % len(urls)]` (default: the city's one): unit -> receipts."""
    n = names(city["book"])
    urls = urls or [city["url"]]

    def nop(k: int, job) -> tuple[str, tuple[str, int, str]]:
        unit, figure = job
        edits = {n["MA_DVHC"]: unit.code, n["TEN_DON_VI"]: unit.name, n["TT_TIN_CONG_TTDT"]: figure}
        code, out = rc.post(f"{urls[k % len(urls)]}/xlwings/nop", rc.edit(city["body"], edits),
                            city["keys"][unit.code], timeout=900)
        assert code == 200, out
        got = receipts_of(out["actions"])
        assert len(got) == 1, out["actions"]
        return unit.code, got[0]

    with ThreadPoolExecutor(max_workers=threads or len(jobs)) as pool:
        answers = list(pool.map(nop, range(len(jobs)), jobs))
    out: dict[str, list] = {}
    for unit, got in answers:
        out.setdefault(unit, []).append(got)
    return out


def assert_receipts_are_stored(store, receipts: dict[str, list[tuple[str, int, str]]], form=None) -> int:
    """Each receipt is a stored (version, hash, time); the versions are 1..N, one per receipt. Mismatches."""
    mismatches = 0
    with Store(store, form) as db:
        for unit, got in receipts.items():
            stored = {s.version: s for s in db.versions(unit, "6T", 2026)}
            assert sorted(stored) == list(range(1, len(got) + 1)), (unit, sorted(stored))
            assert sorted(v for _, v, _ in got) == sorted(stored), unit  # no duplicate, none missing
            for code, version, at in got:
                s = stored[version]
                mismatches += (code != f"{unit}-6T2026-V{version}-{s.file_hash[:8].upper()}"
                               or datetime.strptime(at, "%H:%M:%S %d/%m/%Y") != city_wall(s.received_at))
    return mismatches


def test_three_units_twenty_concurrent_nop_each_receipt_is_a_stored_version(city, form):
    units = form.units[:3]
    receipts = nop_many(city, [(u, 400 + i) for u in units for i in range(20)])
    assert sorted(receipts) == sorted(u.code for u in units)
    mismatches = assert_receipts_are_stored(city["root"] / "kho.sqlite", receipts)
    print(f"\nreceipts: 3 units x 20 concurrent Nộp, {mismatches} mismatches")
    assert mismatches == 0


def test_a_hundred_concurrent_nop_of_one_unit_give_versions_one_to_a_hundred(city, form):
    unit = form.units[3]
    receipts = nop_many(city, [(unit, 500 + i) for i in range(100)])
    mismatches = assert_receipts_are_stored(city["root"] / "kho.sqlite", receipts)
    print(f"\nreceipts: 100 concurrent Nộp, {mismatches} mismatches")
    assert mismatches == 0 and len(receipts[unit.code]) == 100


# Hostile payloads: an answer in Vietnamese, never "Internal Server Error" ----------------------------------------


def status_text(city, actions: list[dict]) -> str:
    """The text the answer writes into the workbook's status cell."""
    model = rc.ExcelClient(city["book"])
    model.apply(actions)
    return model.value(*names(city["book"])[NAME_STATUS])


def post_raw(city, data: bytes, key: str | None) -> tuple[int, object]:
    return rc.post(f"{city['url']}/xlwings/kiem-tra", data, key, timeout=120)


def test_brackets_nested_a_hundred_thousand_deep_are_refused_in_the_status_cell(city, form):
    key = city["keys"][form.units[0].code]
    for data in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                 json.dumps({"names": [], "sheets": [[[[[[[[[[[[1]]]]]]]]]]]]}).encode()):
        code, out = post_raw(city, data, key)
        assert code == 200, out
        assert status_text(city, out["actions"]) == "Kiểm tra: dữ liệu gửi lên không đọc được; hãy bấm lại"


def test_a_payload_without_the_status_cell_is_told_so_where_the_status_cell_is(city, form):
    key = city["keys"][form.units[0].code]
    for names_sent in ([n for n in city["body"]["names"] if n["name"] != NAME_STATUS], 7, {"x": 1}, None):
        body = {**city["body"], "names": names_sent}
        code, out = post_raw(city, json.dumps(body).encode(), key)
        assert code == 200, out
        assert status_text(city, out["actions"]).startswith("Kiểm tra: tệp thiếu ô Trạng thái của phiếu"), names_sent


def test_a_handler_that_fails_answers_a_vietnamese_status(city, form):
    """The status name points at a sheet the payload does not have: the handler cannot even say "đang chạy"."""
    key = city["keys"][form.units[0].code]
    body = json.loads(json.dumps(city["body"]))
    status = next(n for n in body["names"] if n["name"] == NAME_STATUS)
    status["sheet_index"] = len(body["sheets"]) + 5
    code, out = post_raw(city, json.dumps(body).encode(), key)
    assert code == 200, out
    text = json.dumps(out, ensure_ascii=False)
    assert "lỗi không mong đợi của máy chủ" in text and "Internal Server Error" not in text


def test_unknown_addresses_are_answered_in_vietnamese(city):
    for path, method in (("/khong-co", "GET"), ("/xlwings/xoa-het", "POST"), ("/ping", "POST")):
        req = urllib.request.Request(city["url"] + path, data=b"{}" if method == "POST" else None, method=method)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        body = err.value.read().decode("utf-8")
        assert err.value.code in (404, 405) and body.startswith(("Không có", "Địa chỉ này")), body


def test_a_page_that_fails_says_why_in_vietnamese(city):
    """The city workbook cannot be written (its folder's name is taken by a file): a Vietnamese 500, not
    "Internal Server Error"."""
    (city["root"] / "may_chu" / "tong_hop").write_bytes(b"")
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(city["url"] + "/tai-ve/so-tong-hop.xlsx", timeout=120)
    finally:
        (city["root"] / "may_chu" / "tong_hop").unlink()
    body = err.value.read().decode("utf-8")
    assert err.value.code == 500 and body.startswith("Máy chủ baocao: Không ghi được vào thư mục"), body


def test_nop_on_a_full_disk_is_refused_in_vietnamese_and_the_server_stays_up(tmp_path, form):
    """The server's folder and store on a tmpfs that fills after the start: Nộp says it was not stored and why
    (no receipt, no server path), nothing is stored, and the server goes on answering."""
    disks = SmallDisks(tmp_path)
    try:
        disk = disks.mount("2m")
        done = run_cli("server", "cap-khoa", "--kho", str(disk / "kho.sqlite"), "--ra", str(tmp_path / "khoa.csv"))
        assert done.returncode == 0, done.stderr
        keys = dict(read_csv(tmp_path / "khoa.csv"))
        proc, url = start(disk)
        try:
            data = load_data(NGHI_DUONG, form)
            unit = data["thong_tin"]["MA_DVHC"]
            book = build_intake(form, tmp_path / "clean.xlsm", clean(data), server=(url, keys[unit]))
            fill(disk, 0)
            code, out = rc.post(f"{url}/xlwings/nop", rc.payload(book), keys[unit], timeout=300)
            assert code == 200, out
            model = rc.ExcelClient(book)
            model.apply(out["actions"])
            text = model.value(*names(book)[NAME_STATUS])
            assert text.startswith("Nộp: chưa lưu được bản nộp (") and "đầy" in text and str(disk) not in text, text
            assert not receipts_of(out["actions"])
            (disk / "day.bin").unlink()
            with Store(disk / "kho.sqlite") as db:
                assert db.versions(unit, "6T", 2026) == []
            assert ping(url) == 200
        finally:
            stop(proc)
    finally:
        disks.unmount_all()


# Slow clients ----------------------------------------------------------------------------------------------------


def ping(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/ping", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def cut_by_server(s: socket.socket) -> bool:
    """Whether the server closed this connection (reading gives end of stream or a reset)."""
    s.settimeout(0.05)
    try:
        return s.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_clients_sending_a_header_line_at_a_time_are_cut_and_ping_answers(tmp_path):
    """30 connections against a limit of 20, each sending one header line every 0.5 s for 12 s (the issue's
    250 against 200 every 20 s, scaled down): /ping is refused while they hold every place, then answers
    while they are still sending, because the server cuts each after the 2 s allowed for a request head.
    A client sending its body a byte at a time is cut at the body deadline the same way."""
    proc, url = start(tmp_path, "--so-ket-noi", "20", "--cho-tieu-de", "2", "--cho-du-lieu", "4")
    slow = []
    try:
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
            s.sendall(b"POST /xlwings/nop HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        body = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        body.sendall(b"POST /xlwings/nop HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        assert ping(url) == 503  # the attack bites: every place is held
        answered, cut, body_cut, end = None, set(), False, time.monotonic() + 12
        while time.monotonic() < end:
            for i, s in enumerate(slow):
                if i not in cut:
                    try:
                        s.sendall(f"X-Slow-{int(time.monotonic() * 10)}: 1\r\n".encode())
                    except OSError:
                        cut.add(i)
                    if cut_by_server(s):
                        cut.add(i)
            if not body_cut:
                try:
                    body.sendall(b" ")
                except OSError:
                    body_cut = True
                body_cut = body_cut or cut_by_server(body)
            if answered is None and ping(url) == 200:
                answered = end - time.monotonic()  # seconds of attack still to go
            time.sleep(0.5)
        print(f"\nslow clients: /ping answered with {answered and round(answered, 1)} s of attack left; {len(cut)}/30 cut; "
              f"body cut {body_cut}")
        assert answered is not None and answered > 0
        assert len(cut) == 30 and body_cut
    finally:
        for s in slow:
            s.close()
        stop(proc)


def test_one_address_holds_at_most_its_share_of_connections(tmp_path):
    """A client that reconnects as fast as it is cut: 30 connections from 127.0.0.2 against a bound of 5 per
    address (the head deadline set long, so only the bound acts): 25 are closed at once, the 5 others stay
    open, and /ping (from 127.0.0.1, the proxy's address, which is not counted) answers."""
    proc, url = start(tmp_path, "--so-ket-noi", "20", "--so-ket-noi-moi-may", "5", "--cho-tieu-de", "60")
    port = int(url.rsplit(":", 1)[1])
    conns = []
    try:
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
            s.sendall(b"POST /xlwings/nop HTTP/1.1\r\nHost: x\r\n")
            conns.append(s)
        time.sleep(1)  # let the server close what it refuses
        closed = [cut_by_server(s) for s in conns]
        assert ping(url) == 200
        assert closed.count(True) == 25 and closed[:5] == [False] * 5, closed
    finally:
        for s in conns:
            s.close()
        stop(proc)
