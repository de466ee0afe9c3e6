"""A city store that cannot be read or written, from outside: the real commands and a real `baocao server chay`
against a SQLite file with 64 KB of garbage written into it, a SQLite file another process keeps locked for 40 s,
and a PostgreSQL server of the test's own stopped under them. Every command says why in Vietnamese and exits 2
(never 3), naming the store without its password; the server answers 503 with the reason (never 500), refuses a
Nộp within its time limit and stores nothing then, and its page answers within 5 s. Prints the fault table."""
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("fastapi")

import remote_client as rc  # noqa: E402
from conftest import own_postgresql, run_cli, start, stop  # noqa: E402
from test_server import NGHI_DUONG, clean, names  # noqa: E402
from test_server_attacks import receipts_of  # noqa: E402

from toolkit import synthetic as S  # noqa: E402
from toolkit.city.store import Store  # noqa: E402
from toolkit.excel.xlsm import NAME_STATUS, build_intake  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402
from toolkit.server.keys import read_csv  # noqa: E402

UNITS = 8
SECRET = "mat-khau-bi-mat"
TABLE: list[tuple[str, str, str, str]] = []  # (fault, command, exit or HTTP, message) for the printed table


@pytest.fixture(scope="module", autouse=True)
def fault_table():
    """Prints every fault met by this module's tests as a table (seen with `pytest -s`)."""
    yield
    print("\n| lỗi kho | lệnh / yêu cầu | kết quả | thông báo |\n|---|---|---|---|")
    for fault, command, outcome, message in TABLE:
        print(f"| {fault} | {command} | {outcome} | {' '.join(message.split())[:160]} |")


@pytest.fixture(scope="module")
def site(tmp_path_factory, form):
    """Units' files of 6T 2026 stored in a SQLite store by `tong-hop`, keys for every unit, and a clean workbook
    of Nghi Dương (its key) to press Nộp with."""
    root = tmp_path_factory.mktemp("hong")
    units = list(form.units[:UNITS])
    S.generate(root / "phieu", "6T", 2026, units, form=form)
    done = run_cli("tong-hop", str(root / "phieu"), "--out", str(root / "th.xlsx"), "--kho", str(root / "kho.sqlite"),
                   "--ky", "6T", "--nam", "2026")
    assert done.returncode == 0, done.stderr
    done = run_cli("server", "cap-khoa", "--kho", str(root / "kho.sqlite"), "--ra", str(root / "khoa.csv"))
    assert done.returncode == 0, done.stderr
    keys = dict(read_csv(root / "khoa.csv"))
    data = clean(load_data(NGHI_DUONG, form))
    return {"root": root, "keys": keys, "data": data, "unit": data["thong_tin"]["MA_DVHC"],
            "file": next((root / "phieu").iterdir())}


@pytest.fixture(scope="module")
def own_pg():
    with own_postgresql() as pg:
        yield pg


def commands(site, kho: str) -> dict[str, list[str]]:
    root = site["root"]
    return {"tong-hop --kho": ["tong-hop", str(root / "phieu"), "--ra", str(root / "th2.xlsx"), "--kho", kho,
                               "--ky", "6T", "--nam", "2026"],
            "kiem-tra --kho": ["kiem-tra", str(site["file"]), "--kho", kho],
            "bao-cao --loai tong-hop": ["bao-cao", str(root / "phieu"), "--loai", "tong-hop", "--kho", kho,
                                        "--ky", "6T", "--nam", "2026", "--du-thao", "--ra", str(root / "bc.docx")],
            "server cap-khoa": ["server", "cap-khoa", "--kho", kho, "--cap-lai", site["unit"],  # writes the store
                                "--ra", str(root / "khoa2.csv")]}


def garbage(path, offset: int) -> None:
    """64 KB of (seeded) random bytes written over the file from `offset`."""
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(random.Random(offset).randbytes(65536))


def refused(fault: str, command: str, done: subprocess.CompletedProcess) -> str:
    message = (done.stderr.strip().splitlines() or [""])[-1]
    TABLE.append((fault, command, f"exit {done.returncode}", message))
    assert done.returncode != 3 and "Traceback" not in done.stderr and "không mong đợi" not in done.stderr, done.stderr
    return message


def get(url: str) -> tuple[int, str, float]:
    began = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/plain"}), timeout=60) as r:
            return r.status, r.read(200).decode("utf-8", "replace"), time.monotonic() - began
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8"), time.monotonic() - began


def nop(site, url: str, book, fault: str) -> tuple[str, list, float]:
    """Press Nộp: (the status cell's text, the receipts written, seconds)."""
    body = rc.payload(book)
    began = time.monotonic()
    code, out = rc.post(f"{url}/xlwings/nop", body, site["keys"][site["unit"]], timeout=120)
    took = time.monotonic() - began
    assert code == 200, out
    model = rc.ExcelClient(book)
    model.apply(out["actions"])
    text = model.value(*names(book)[NAME_STATUS])
    TABLE.append((fault, "Nộp (nút)", f"HTTP {code}, {took:.1f} s", text))
    return text, receipts_of(out["actions"]), took


# A pooled connection used in the last 2 s is not checked before use (toolkit.city.backend): the first requests
# after the stop meet PostgreSQL's shutdown on it, the next ones find no server to connect to; both are the truth.
PG_STOPPED = ("không kết nối được máy chủ PostgreSQL", "máy chủ PostgreSQL đang tắt hoặc khởi động lại")


def page_and_downloads(url: str, fault: str, *reasons: str) -> None:
    """Every page answers 503 within 5 s, naming the fault by one of `reasons`."""
    for path in ("/", "/tai-ve/so-tong-hop.xlsx", "/tai-ve/bao-cao-tong-hop.docx", "/tai-ve/" + "0" * 32 + "/a.docx"):
        status, body, took = get(url + path)
        TABLE.append((fault, f"GET {path}", f"HTTP {status}, {took:.1f} s", body))
        assert status == 503 and any(r in body for r in reasons) and took <= 5, (path, status, body, took)


def test_a_corrupt_sqlite_store_is_refused_in_vietnamese_by_every_command(site):
    for where, offset in (("giữa tệp", None), ("sau trang đầu", 4096)):
        bad = site["root"] / f"hong_{offset or 'giua'}.sqlite"
        shutil.copy(site["root"] / "kho.sqlite", bad)
        garbage(bad, offset if offset is not None else bad.stat().st_size // 2 - 32768)
        codes = {}
        for name, argv in commands(site, str(bad)).items():
            done = run_cli(*argv)
            message = refused(f"SQLite: 64 KB rác {where}", name, done)
            codes[name] = done.returncode
            if done.returncode == 2:
                assert message == f"Lỗi: kho dữ liệu {bad}: tệp kho dữ liệu bị hỏng (hãy khôi phục từ bản sao lưu)", \
                    message
        # every command that reads the whole store meets the damage; at the start of the file, every command does
        must = codes if offset else {k: v for k, v in codes.items() if k in ("tong-hop --kho", "bao-cao --loai tong-hop")}
        assert set(must.values()) == {2}, codes


def test_the_server_on_a_corrupt_store_answers_503_and_refuses_nop(site, tmp_path, form):
    shutil.copy(site["root"] / "kho.sqlite", tmp_path / "kho.sqlite")
    proc, url = start(tmp_path)
    try:
        book = build_intake(form, tmp_path / "phieu.xlsm", site["data"], server=(url, site["keys"][site["unit"]]))
        garbage(tmp_path / "kho.sqlite", 4096)
        page_and_downloads(url, "SQLite hỏng (máy chủ)", "tệp kho dữ liệu bị hỏng")
        text, got, _ = nop(site, url, book, "SQLite hỏng (máy chủ)")
        assert text.startswith("Nộp: chưa lưu được bản nộp (tệp kho dữ liệu bị hỏng") and not got, text
        assert str(tmp_path) not in text
        assert get(url + "/ping")[0] == 200
    finally:
        stop(proc)


def test_a_store_locked_for_40_seconds_refuses_nop_within_the_time_limit_and_stores_nothing(site, tmp_path, form):
    """Another process holds the SQLite store's write lock for 40 s: Nộp (limit 25 s) is refused before the limit,
    nothing is stored once the lock is gone, and the next Nộp gets version 1; the page answers meanwhile."""
    shutil.copy(site["root"] / "kho.sqlite", tmp_path / "kho.sqlite")
    proc, url = start(tmp_path, "--thoi-gian-xu-ly", "25")
    holder = None
    try:
        book = build_intake(form, tmp_path / "phieu.xlsm", site["data"], server=(url, site["keys"][site["unit"]]))
        holder = subprocess.Popen([sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], "
                                   "isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('khoa', flush=True); "
                                   "time.sleep(40); c.execute('COMMIT')", str(tmp_path / "kho.sqlite")],
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "khoa"
        locked = time.monotonic()
        status, body, took = get(url + "/")
        TABLE.append(("SQLite bị khóa 40 s", "GET /", f"HTTP {status}, {took:.1f} s", body[:80]))
        assert status == 200 and took <= 5
        text, got, took = nop(site, url, book, "SQLite bị khóa 40 s")
        assert took <= 25 and not got, (took, text)
        assert text.startswith("Nộp: chưa lưu được bản nộp (") or "máy chủ đang bận" in text, text
        assert time.monotonic() - locked < 40  # answered while the lock was still held
        holder.wait(timeout=60)
        with Store(tmp_path / "kho.sqlite", form) as db:
            assert db.versions(site["unit"], "6T", 2026) == []  # the refused Nộp stored nothing
        text, got, _ = nop(site, url, book, "SQLite hết khóa")
        assert [v for _, v, _ in got] == [1], text
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
        stop(proc)


def test_postgresql_stopped_is_exit_2_for_every_command_without_the_password(site, own_pg):
    import psycopg

    with psycopg.connect(f"{own_pg.url}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE kho_tat")
    kho = f"postgresql://baocao:{SECRET}@127.0.0.1:{own_pg.port}/kho_tat"
    done = run_cli(*commands(site, kho)["tong-hop --kho"])
    assert done.returncode == 0, done.stderr
    own_pg.stop()
    try:
        for name, argv in commands(site, kho).items():
            done = run_cli(*argv)
            message = refused("PostgreSQL đã dừng", name, done)
            assert done.returncode == 2 and "không kết nối được máy chủ PostgreSQL" in message, done.stderr
            assert SECRET not in done.stderr + done.stdout and "baocao:***@" in message, message
    finally:
        own_pg.start()


def test_postgresql_stopped_during_tong_hop_is_no_exit_3(site, own_pg, tmp_path, form):
    """PostgreSQL stopped while `tong-hop --kho` runs (whenever the stop lands): a Vietnamese line, exit 1 or 2."""
    import psycopg

    S.generate(tmp_path / "phieu", "6T", 2026, list(form.units[:60]), form=form)
    with psycopg.connect(f"{own_pg.url}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE kho_giua")
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "tong-hop", str(tmp_path / "phieu"), "--out",
                             str(tmp_path / "th.xlsx"), "--kho", f"{own_pg.url}/kho_giua", "--ky", "6T", "--nam",
                             "2026"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # stopped as soon as the run holds a connection to its store (reading is in parallel processes now and a
    # fixed sleep could land after the run is over)
    with psycopg.connect(f"{own_pg.url}/postgres", autocommit=True) as conn:
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None and not conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = 'kho_giua'").fetchone()[0]:
            time.sleep(0.01)
    own_pg.stop("immediate")
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        own_pg.start()
    refused("PostgreSQL dừng giữa chừng", "tong-hop --kho",
            subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    assert proc.returncode in (1, 2), (out, err)
    assert "PostgreSQL" in out + err, (out, err)


def test_the_server_with_postgresql_stopped_answers_503_fast_and_recovers(site, own_pg, tmp_path, form):
    import psycopg

    with psycopg.connect(f"{own_pg.url}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE kho_may_chu")
    kho = f"postgresql://baocao:{SECRET}@127.0.0.1:{own_pg.port}/kho_may_chu"
    done = run_cli("server", "cap-khoa", "--kho", kho, "--don-vi", site["unit"], "--ra", str(tmp_path / "khoa.csv"))
    assert done.returncode == 0, done.stderr
    key = (tmp_path / "khoa.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[2]
    site = {**site, "keys": {site["unit"]: key}}
    proc, url = start(tmp_path, store=kho)
    try:
        book = build_intake(form, tmp_path / "phieu.xlsm", site["data"], server=(url, key))
        own_pg.stop()
        try:
            page_and_downloads(url, "PostgreSQL đã dừng (máy chủ)", *PG_STOPPED)
            text, got, took = nop(site, url, book, "PostgreSQL đã dừng (máy chủ)")
            assert took <= 25 and not got and text.startswith("Nộp: chưa lưu được bản nộp (") \
                and any(r in text for r in PG_STOPPED), (took, text)
            assert SECRET not in text
        finally:
            own_pg.start()
        text, got, _ = nop(site, url, book, "PostgreSQL chạy lại")
        assert [v for _, v, _ in got] == [1], text
    finally:
        stop(proc)
