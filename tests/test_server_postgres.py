"""Two `baocao server chay` processes on one PostgreSQL store, over real sockets: every unit presses Nộp three
times at once, half of the presses on each server; each unit's versions are 1..3 without gap or duplicate and
every receipt is a stored version. The rate limit per key holds across the two processes."""
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import remote_client as rc  # noqa: E402
from conftest import run_cli, start, stop  # noqa: E402
from test_server import NGHI_DUONG, clean, names  # noqa: E402
from test_server_attacks import assert_receipts_are_stored, nop_many, status_text  # noqa: E402

from toolkit.city.store import Store  # noqa: E402
from toolkit.excel.xlsm import build_intake  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402
from toolkit.server.keys import Keys, read_csv  # noqa: E402


PRESSES = 3  # per unit, all at once; also each key's requests per minute


@pytest.fixture(scope="module")
def pair(tmp_path_factory, pg_server, form):
    """Keys for every unit issued into a new PostgreSQL database, and two servers on it."""
    import psycopg

    root = tmp_path_factory.mktemp("pg_pair")
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE hai_may_chu")
    store = f"{pg_server}/hai_may_chu"
    done = run_cli("server", "cap-khoa", "--kho", store, "--ra", str(root / "khoa.csv"))
    assert done.returncode == 0, done.stderr
    keys = dict(read_csv(root / "khoa.csv"))
    servers = [start(root, "--so-lan-bam", str(PRESSES), "--thoi-gian-xu-ly", "900", store=store) for _ in range(2)]
    data = load_data(NGHI_DUONG, form)
    book = build_intake(form, root / "clean.xlsm", clean(data), server=(servers[0][1], "0-0"))
    try:
        yield {"root": root, "store": store, "urls": [url for _, url in servers], "keys": keys, "book": book,
               "body": rc.payload(book)}
    finally:
        for proc, _ in servers:
            stop(proc)


def test_two_servers_one_postgresql_store_114_units_three_concurrent_nop(pair, form):
    # job k goes to server k % 2: each unit's three presses (jobs in unit order) reach both servers
    receipts = nop_many(pair, [(unit, 600 + i) for unit in form.units for i in range(PRESSES)], urls=pair["urls"],
                        threads=48)
    with Store(pair["store"], form) as db:
        assert db.count() == len(form.units) * PRESSES
    assert sorted(receipts) == sorted(u.code for u in form.units)
    assert all(len(got) == PRESSES for got in receipts.values()), receipts
    mismatches = assert_receipts_are_stored(pair["store"], receipts, form)
    print(f"\nreceipts: {len(form.units)} units x {PRESSES} concurrent Nộp on two servers, {mismatches} mismatches")
    assert mismatches == 0


def test_the_rate_limit_holds_across_the_two_servers(pair, form):
    unit = form.units[0]
    with Keys(pair["store"]) as keys:  # a new key: a count of its own, whatever the other test pressed
        key = keys.issue([unit.code])[unit.code]
    said = []
    for i in range(PRESSES + 2):
        code, out = rc.post(f"{pair['urls'][i % 2]}/xlwings/kiem-tra", pair["body"], key, timeout=300)
        assert code == 200, out
        said.append(status_text(pair, out["actions"]))
    assert not any("bấm quá" in s for s in said[:PRESSES]), said
    assert all(s == f"Kiểm tra: bấm quá {PRESSES} lần trong một phút; chờ một phút rồi bấm lại"
               for s in said[PRESSES:]), said  # refused by the server that did not count the earlier presses too


def test_a_report_made_by_one_server_is_downloaded_from_the_other(pair, form):
    import re
    import urllib.request

    from toolkit.excel.xlsm import NAME_REPORT_TYPE, report_types

    unit = form.unit_by_code(load_data(NGHI_DUONG, form)["thong_tin"]["MA_DVHC"]).code
    with Keys(pair["store"]) as keys:  # a new key: the Nộp above used this unit's presses of the minute
        key = keys.issue([unit])[unit]
    kind = dict(report_types())["cchc-cds"]  # the clean sample fills every section of it
    body = rc.edit(pair["body"], {names(pair["book"])[NAME_REPORT_TYPE]: kind})
    code, out = rc.post(f"{pair['urls'][0]}/xlwings/tao-bao-cao", body, key, timeout=300)
    assert code == 200, out
    text = status_text(pair, out["actions"])
    link = re.search(r"/tai-ve/[0-9a-f]{32}/\S+\.docx", text)
    assert text.startswith("Đã tạo báo cáo lúc") and link, text
    with urllib.request.urlopen(pair["urls"][1] + link.group(0), timeout=60) as r:  # the other process
        assert r.read(2) == b"PK"
    with urllib.request.urlopen(pair["urls"][1] + "/", timeout=120) as r:  # the page, from the shared store
        assert r.status == 200 and "Xã Nghi Dương" in r.read().decode("utf-8")
