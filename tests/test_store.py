"""The store, on SQLite and on PostgreSQL: versions, roll-up by aggregation type, previous period, concurrent writers."""
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from toolkit import synthetic as S
from toolkit.city.consolidation import consolidate, consolidate_store
from toolkit.city.store import Store, save_consolidation
from toolkit.city.workbook import write_city_workbook
from toolkit.errors import BaocaoError
from toolkit.intake.reader import read_submission
from toolkit.vnformat import ratio_percent

ROOT = Path(__file__).resolve().parents[1]


def _vals(form, unit, period):
    v = S.unit_values(form, unit.code, period, 2026)
    return {k: (x, f"Số liệu!E{i}") for i, (k, x) in enumerate(v.items(), start=7)}


def _empty(store) -> bool:
    """Nothing stored: no SQLite file, or a PostgreSQL database without a submission."""
    if isinstance(store, Path):
        return not store.exists()
    with Store(store) as db:
        return db.count() == 0


def test_resubmission_is_a_new_version_and_same_file_is_not(tmp_path, form, store_at):
    unit = form.units[0]
    with Store(store_at, form) as db:
        vals = _vals(form, unit, "Q1")
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals, "a.xlsx", "h1", datetime(2026, 3, 16)) == (1, True)
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals, "a.xlsx", "h1", datetime(2026, 3, 16)) == (1, False)
        vals2 = {**vals, "VB_TB": (99, "Số liệu!E11")}
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals2, "b.xlsx", "h2", datetime(2026, 3, 18)) == (2, True)
        versions = db.versions(unit.code, "Q1", 2026)
        assert [v.version for v in versions] == [1, 2] and versions[0].values["VB_TB"] == vals["VB_TB"]
        assert db.latest(unit.code, "Quý I", 2026).values["VB_TB"] == (99, "Số liệu!E11")


def test_rollup_follows_each_indicator_aggregation(tmp_path, form, store_at):
    unit = form.units[1]
    q1, q2 = _vals(form, unit, "Q1"), _vals(form, unit, "Q2")
    with Store(store_at, form) as db:
        db.add(unit.code, unit.name, "Quý I", 2026, q1, "q1.xlsx", "h1", datetime(2026, 3, 16))
        assert db.rollup(unit.code, "6T", 2026) is None  # Quý II missing: no partial half-year
        db.add(unit.code, unit.name, "Quý II", 2026, q2, "q2.xlsx", "h2", datetime(2026, 6, 16))
        r = db.rollup(unit.code, "6 tháng đầu năm", 2026)
    assert r.values["HS_TRONG_KY"][0] == q1["HS_TRONG_KY"][0] + q2["HS_TRONG_KY"][0]  # sum
    assert r.values["HS_TRONG_KY"][1] == "q1.xlsx!Số liệu!E{0} + q2.xlsx!Số liệu!E{0}".format(
        q1["HS_TRONG_KY"][1].split("E")[1])
    assert r.values["CC_BIEN_CHE"][0] == q2["CC_BIEN_CHE"][0]  # latest: a stock at the end
    assert r.values["HS_KY_TRUOC"][0] == q1["HS_KY_TRUOC"][0]  # first: the opening balance
    num = q1["HS_TRUOC_DUNG_HAN"][0] + q2["HS_TRUOC_DUNG_HAN"][0]
    den = q1["HS_DA_GQ"][0] + q2["HS_DA_GQ"][0]
    assert r.values["TL_HS_DUNG_HAN"][0] == ratio_percent(num, den)  # ratio recomputed
    assert "TL_HAI_LONG" not in r.values  # none: not aggregated


def test_previous_period_feeds_the_checker(tmp_path, form, store_at):
    unit = form.units[2]
    with Store(store_at, form) as db:
        db.add(unit.code, unit.name, "Quý I", 2026, _vals(form, unit, "Q1"), "q1.xlsx", "h1", datetime(2026, 3, 16))
        prev = db.previous(unit.code, "Quý II", 2026)
        assert prev.get("HS_DANG_GQ") == S.unit_values(form, unit.code, "Q1", 2026)["HS_DANG_GQ"]
        assert str(prev.loc("HS_DANG_GQ")).startswith("Số liệu!E")
        assert db.previous(unit.code, "Quý III", 2026) is None


def test_versions_follow_the_time_received_not_the_order_of_writing(tmp_path, form, store_at):
    unit, vals = form.units[0], _vals(form, form.units[0], "Q1")
    with Store(store_at, form) as db:  # the resubmission is stored first (a concurrent run)
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals, "moi.xlsx", "h2", datetime(2026, 3, 18))[0] == 1
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals, "cu.xlsx", "h1", datetime(2026, 3, 16))[0] == 1
        assert [(v.version, v.file) for v in db.versions(unit.code, "Q1", 2026)] == [(1, "cu.xlsx"), (2, "moi.xlsx")]
        assert db.latest(unit.code, "Q1", 2026).file == "moi.xlsx"


def test_a_file_the_store_cannot_hold_is_listed_and_the_store_stays_whole(tmp_path, form, store_at):
    S.generate(tmp_path / "in", "Q1", 2026, form.units[:3], form=form)
    res = consolidate(tmp_path / "in", "Q1", 2026)
    bad = res.files[1]
    bad["values"] = {**bad["values"], "HS_RUT": (2**64, "Số liệu!E20")}  # beyond SQLite's 64-bit integers
    new, failed = save_consolidation(store_at, res)
    assert new == 2 and [f for f, _ in failed] == [bad["path"]] and "kho dữ liệu" in failed[0][1]
    with Store(store_at, form) as db:
        assert db.count() == 2 and db.latest(bad["unit"], "Q1", 2026) is None
        assert db.db.execute("SELECT COUNT(*) FROM value WHERE submission_id NOT IN "
                             "(SELECT id FROM submission)").fetchone() == (0,)


def test_consolidation_from_store_matches_folder(tmp_path, form, store_at):
    S.generate(tmp_path / "in", "Q1", 2026, form.units[:30], form=form)
    kho = store_at
    direct = consolidate(tmp_path / "in", "Q1", 2026, store=kho)
    assert _empty(kho)  # consolidation is pure: only the store writer writes
    assert save_consolidation(kho, direct) == (30, [])
    again = consolidate(tmp_path / "in", "Q1", 2026, store=kho)
    assert save_consolidation(kho, again) == (0, [])  # re-running adds no versions
    stored = consolidate_store(kho, "Quý I", 2026)
    assert stored.totals == direct.totals and stored.received == 30
    write_city_workbook(stored, tmp_path / "tu_kho.xlsx")
    assert (tmp_path / "tu_kho.xlsx").exists()


def test_rolled_up_unit_in_half_year_consolidation(tmp_path, form, store_at):
    units = form.units[:6]
    S.generate(tmp_path / "in", "Q1", 2026, units, form=form)
    S.generate(tmp_path / "in", "Q2", 2026, units, form=form)
    res = consolidate(tmp_path / "in", "6T", 2026, store=store_at)
    rolled = [r for r in res.rows if r.status != "chưa nộp"]
    assert len(rolled) == 6 and all("Cộng dồn" in r.note for r in rolled)
    q1 = S.unit_values(form, units[0].code, "Q1", 2026)
    q2 = S.unit_values(form, units[0].code, "Q2", 2026)
    assert rolled[0].value("HS_TRONG_KY") == q1["HS_TRONG_KY"] + q2["HS_TRONG_KY"]
    assert _empty(store_at)  # the parts came from the folder; nothing was written


def test_rollup_takes_a_part_from_the_store_when_the_folder_lacks_it(tmp_path, form, store_at):
    units = form.units[:3]
    S.generate(tmp_path / "q1", "Q1", 2026, units, form=form)
    S.generate(tmp_path / "q2", "Q2", 2026, units, form=form)
    kho = store_at
    save_consolidation(kho, consolidate(tmp_path / "q1", "Q1", 2026))
    res = consolidate(tmp_path / "q2", "6T", 2026, store=kho)  # Quý I only in the store
    q1 = S.unit_values(form, units[1].code, "Q1", 2026)
    q2 = S.unit_values(form, units[1].code, "Q2", 2026)
    row = next(r for r in res.rows if r.unit.code == units[1].code)
    assert row.value("HS_TRONG_KY") == q1["HS_TRONG_KY"] + q2["HS_TRONG_KY"] and "Cộng dồn" in row.note
    assert res.received == 3


SCRIPT = """
import sys
from toolkit.city.consolidation import consolidate
from toolkit.city.store import save_consolidation
save_consolidation(sys.argv[2], consolidate(sys.argv[1], "Q3", 2026, store=sys.argv[2]))
"""


def test_two_concurrent_consolidations_lose_nothing(tmp_path, form, store_at):
    half = len(form.units) // 2
    S.generate(tmp_path / "a", "Q3", 2026, form.units[:half], form=form)
    S.generate(tmp_path / "b", "Q3", 2026, form.units[half:], form=form)
    S.generate(tmp_path / "b" / "chung", "Q3", 2026, form.units[:10], form=form)  # both folders hold these
    kho = store_at
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / d), str(kho)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for d in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    with Store(kho, form) as db:
        assert db.count() == len(form.units)  # every unit once: the shared files did not become versions
        assert db.units("Q3", 2026) == sorted(u.code for u in form.units)
        per = {n for (n,) in db.db.execute("SELECT COUNT(*) FROM value GROUP BY submission_id")}
    one = read_submission(next((tmp_path / "a").glob("*.xlsx")))
    assert per == {len(one.meta) + len(one.values)}  # every value of every submission, none lost


def test_a_file_received_earlier_never_moves_a_receipted_version(tmp_path, form, store_at):
    """A Nộp's receipt is in the unit's workbook: a file stored later by its older modification time goes
    after the last receipted version instead of taking its place."""
    unit, vals = form.units[0], _vals(form, form.units[0], "Q1")
    with Store(store_at, form) as db:
        first = db.receive(unit.code, unit.name, "Quý I", 2026, vals, "nop1.xlsx", "r1")
        assert first[0] == 1 and first[2] and first[1] <= datetime.now(timezone.utc)
        assert db.receive(unit.code, unit.name, "Quý I", 2026, vals, "nop1.xlsx", "r1") == (1, first[1], False)
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals, "cu.xlsx", "f1", datetime(2026, 3, 16)) == (2, True)
        assert db.receive(unit.code, unit.name, "Quý I", 2026, vals, "nop2.xlsx", "r2")[0] == 3
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals, "cu2.xlsx", "f0", datetime(2026, 3, 1)) == (4, True)
        assert [(v.version, v.file) for v in db.versions(unit.code, "Q1", 2026)] == [
            (1, "nop1.xlsx"), (2, "cu.xlsx"), (3, "nop2.xlsx"), (4, "cu2.xlsx")]
        # a file stored by a consolidation, then pressed Nộp with the same content: its number is a receipt now
        assert db.receive(unit.code, unit.name, "Quý I", 2026, vals, "cu2.xlsx", "f0")[0] == 4
        assert db.add(unit.code, unit.name, "Quý I", 2026, vals, "cu3.xlsx", "f-1", datetime(2026, 2, 1)) == (5, True)


RECEIVE = """
import sys
from toolkit.city.store import Store
from toolkit.definition import load_form
form = load_form()
unit = form.units[0]
with Store(sys.argv[1], form) as db:
    for i in range(int(sys.argv[3])):
        print(db.receive(unit.code, unit.name, "Quý I", 2026, {"HS_RUT": (i, "Số liệu!E20")}, "f.xlsx",
                         f"{sys.argv[2]}-{i}")[0])
"""


def test_concurrent_receives_from_processes_number_without_gap_or_duplicate(form, store_at):
    """Four processes press Nộp for one unit at once: versions 1..N, each given once, each stored."""
    with Store(store_at, form):
        pass  # the schema, before the race (its migration has its own lock, tested by the server's start)
    procs = [subprocess.Popen([sys.executable, "-c", RECEIVE, str(store_at), f"p{p}", "15"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in range(4)]
    given = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        given += [int(v) for v in out.split()]
    with Store(store_at, form) as db:
        stored = [s.version for s in db.versions(form.units[0].code, "Q1", 2026)]
    assert sorted(given) == stored == list(range(1, 61))


def test_schema_versions_are_applied_once_in_order(tmp_path, form, store_at):
    from toolkit.city.backend import MIGRATIONS

    with Store(store_at, form) as db:
        assert db.db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
    with Store(store_at, form) as db:  # opened again: nothing applied twice
        assert db.db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]


OLD_LAYOUT = """
CREATE TABLE submission (id INTEGER PRIMARY KEY, unit TEXT NOT NULL, unit_name TEXT, period TEXT NOT NULL,
    year INTEGER NOT NULL, version INTEGER NOT NULL, form_id TEXT, form_version TEXT, file TEXT,
    file_hash TEXT NOT NULL, received_at TEXT, stored_at TEXT, errors INTEGER DEFAULT 0, warnings INTEGER DEFAULT 0,
    findings TEXT, UNIQUE (unit, period, year, version));
CREATE TABLE value (submission_id INTEGER NOT NULL REFERENCES submission(id), code TEXT NOT NULL,
    kind TEXT NOT NULL, value, cell TEXT, PRIMARY KEY (submission_id, code));
INSERT INTO submission VALUES (1, '26734', 'X', 'Quý I', 2026, 1, 'f', '1', 'a.xlsx', 'h1', '2026-03-16T00:00:00',
    '2026-03-16T00:00:00', 0, 0, '[]');
INSERT INTO value VALUES (1, 'HS_RUT', 'n', 7, 'Số liệu!E20');
"""


def test_a_store_of_an_older_baocao_is_read_then_migrated(tmp_path, form):
    """A SQLite store made before schema_version and the receipt column: read as it is by a reader, brought up
    to date by the first writer, its rows kept."""
    import sqlite3

    from toolkit.city.backend import MIGRATIONS

    kho = tmp_path / "cu.sqlite"
    with sqlite3.connect(kho) as db:
        db.executescript(OLD_LAYOUT)
    with Store(kho, form, readonly=True) as db:
        old = db.latest("26734", "Q1", 2026)
        assert old.values == {"HS_RUT": (7, "Số liệu!E20")} and (old.sent_by, old.sent_name) == (None, "")
        assert db.attempts("Quý I", 2026) == {}  # a table it lacks reads as empty
    assert "receipt" not in {r[1] for r in sqlite3.connect(kho).execute("PRAGMA table_info(submission)")}
    with Store(kho, form) as db:
        assert db.receive("26734", "X", "Quý I", 2026, {}, "b.xlsx", "h2", sent=("excel", "phieu X.xlsm"))[0] == 2
        assert db.db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        assert [(s.file, s.sent_by, s.sent_name) for s in db.versions("26734", "Q1", 2026)] == \
            [("a.xlsx", None, ""), ("b.xlsx", "excel", "phieu X.xlsm")]


def test_a_store_holding_only_keys_reads_as_empty(tmp_path, form, store_at):
    import sqlite3

    from toolkit.server.keys import Keys

    with Keys(store_at) as keys:
        keys.issue([form.units[0].code])
    with Store(store_at, form, readonly=True) as db:
        assert (db.count(), db.history(form.units[0].code), db.attempts("Quý I", 2026)) == (0, [], {})
    if isinstance(store_at, Path):  # made by an older `server cap-khoa`: the keys' table alone
        old = tmp_path / "chi_khoa.sqlite"
        with sqlite3.connect(old) as db:
            db.execute("CREATE TABLE unit_key (unit TEXT PRIMARY KEY, key_hash TEXT NOT NULL, issued_at TEXT NOT NULL)")
        with Store(old, form, readonly=True) as db:
            assert (db.count(), db.history(form.units[0].code)) == (0, [])


def test_the_rate_limit_and_download_links_are_shared_through_the_store(tmp_path, store_at):
    """Two openings stand for two worker processes (or a restart): the count and the links are the store's."""
    from toolkit.server.keys import Keys

    with Keys(store_at) as a, Keys(store_at) as b:
        key = a.issue(["26734"])["26734"]
        assert [k.allow(key, 3) for k in (a, b, a, b)] == [True, True, True, False]
        assert b.allow("26734-khac", 3)  # another key has its own count
        a.add_download("abc/bao_cao.docx", tmp_path / "bao_cao.docx")
    with Keys(store_at) as c:
        assert c.download("abc/bao_cao.docx") == tmp_path / "bao_cao.docx" and c.download("abc/khac.docx") is None
        assert not c.allow(key, 3)


def test_an_unreachable_or_wrong_postgresql_is_told_in_vietnamese_without_the_password(tmp_path, pg_server):
    from conftest import free_port, run_cli

    (tmp_path / "in").mkdir()
    host = pg_server.rpartition("@")[2]
    cases = {f"postgresql://baocao:matkhau-bi-mat@127.0.0.1:{free_port()}/kho": "không kết nối được máy chủ PostgreSQL",
             f"postgresql://baocao:matkhau-bi-mat@{host}/khong_co": "không có trên máy chủ PostgreSQL",
             f"postgres://nguoi_la:matkhau-bi-mat@{host}/postgres": "từ chối đăng nhập"}
    runs = [("tong-hop", str(tmp_path / "in"), "--ky", "Q1", "--nam", "2026", "--out", str(tmp_path / "th.xlsx")),
            ("server", "cap-khoa", "--ra", str(tmp_path / "khoa.csv")), None]
    for (url, said), args in zip(cases.items(), runs):
        if args is None:  # in this process: the store's own error
            with pytest.raises(BaocaoError) as err:
                Store(url)
            text = f"{err.value} {err.value.detail}"
        else:
            done = run_cli(*args, "--kho", url, "--chi-tiet")  # the technical detail too: no password in it
            text = done.stdout + done.stderr
            assert done.returncode not in (0, 3), text
        assert said in text and "matkhau-bi-mat" not in text and "Traceback" not in text and "***" in text, text
    assert not (tmp_path / "khoa.csv").exists()
