"""Bất thường beyond one workbook: a unit against its own history (the store) and against its peers, shown
in `kiem-tra --kho`, in the city workbook's «Bất thường» sheet and its count on «Tình hình nộp»."""
from datetime import datetime

import openpyxl
import pytest
from conftest import run_cli

from toolkit import synthetic as S
from toolkit.city.anomalies import history
from toolkit.city.consolidation import consolidate
from toolkit.city.store import Store, Stored, save_consolidation
from toolkit.city.workbook import write_city_workbook

UNITS = 12


@pytest.fixture(scope="module")
def kept(tmp_path_factory, form):
    """A store with three earlier half-years (2023-2025) of 12 units, and their 2026 files: the first unit
    typed every hồ sơ figure with one 0 too many."""
    root = tmp_path_factory.mktemp("lich_su")
    units = list(form.units[:UNITS])
    store = root / "kho.sqlite"
    for year in (2023, 2024, 2025):
        S.generate(root / str(year), "6T", year, units, form=form)
        save_consolidation(store, consolidate(root / str(year), "6T", year, form=form))
    now = root / "2026"
    S.generate(now, "6T", 2026, units, form=form, anomalies={units[0].code: "ho-so-gap-10"})
    return {"root": root, "store": store, "units": units, "now": now}


def test_kiem_tra_with_the_store_tells_the_units_history(kept, form):
    odd, plain = (kept["now"] / S.file_name(u, "6T", 2026) for u in kept["units"][:2])
    out = run_cli("kiem-tra", str(odd), "--kho", str(kept["store"]))
    assert out.returncode == 0, out.stderr  # a warning, never an error
    lines = [line for line in out.stdout.splitlines() if "bat-thuong-lich-su" in line]
    tiep_nhan = S.unit_values(form, kept["units"][0].code, "6T", 2026, anomaly="ho-so-gap-10")["HS_TIEP_NHAN"]
    last = S.unit_values(form, kept["units"][0].code, "6T", 2025)["HS_TIEP_NHAN"]
    first = next(line for line in lines if "Số liệu!" in line and f"{tiep_nhan:,}".replace(",", ".") in line)
    assert f"gấp {round(tiep_nhan / last, 1):.1f}".replace(".", ",") in first
    assert f"lần 6 tháng đầu năm 2025 ({last:,})".replace(",", ".") in first and "ba kỳ gần nhất" in first
    clean = run_cli("kiem-tra", str(plain), "--kho", str(kept["store"]))
    assert clean.returncode == 0 and "bat-thuong" not in clean.stdout, clean.stdout
    without = run_cli("kiem-tra", str(odd))
    assert "bat-thuong-lich-su" not in without.stdout  # no store, no history
    missing = run_cli("kiem-tra", str(odd), "--kho", str(kept["root"] / "khong_co.sqlite"))
    assert missing.returncode == 2 and "kho dữ liệu không tồn tại" in missing.stderr
    foreign = run_cli("kiem-tra", str(odd), "--kho", str(plain))  # a workbook given as the store
    assert foreign.returncode == 2 and "kho dữ liệu" in foreign.stderr and "Traceback" not in foreign.stderr


def test_the_history_from_a_postgresql_store_is_the_same(kept, form, pg_url, tmp_path):
    """`kiem-tra --kho` and `tong-hop --kho` with the same history kept in PostgreSQL: the same warnings."""
    for year in (2023, 2024, 2025):
        save_consolidation(pg_url, consolidate(kept["root"] / str(year), "6T", year, form=form))
    odd = kept["now"] / S.file_name(kept["units"][0], "6T", 2026)
    on = {kho: run_cli("kiem-tra", str(odd), "--kho", str(kho)) for kho in (kept["store"], pg_url)}
    assert on[pg_url].returncode == 0 and "bat-thuong-lich-su" in on[pg_url].stdout, on[pg_url].stderr
    assert on[pg_url].stdout == on[kept["store"]].stdout
    done = run_cli("tong-hop", str(kept["now"]), "--ky", "6T", "--nam", "2026", "--out", str(tmp_path / "th.xlsx"),
                   "--kho", pg_url)
    assert done.returncode == 0 and f"thêm {UNITS} bản nộp mới" in done.stdout, done.stdout + done.stderr
    assert "Bất thường" in openpyxl.load_workbook(tmp_path / "th.xlsx", read_only=True).sheetnames
    with Store(pg_url, form) as db:
        assert db.count() == 4 * UNITS


def test_city_workbook_lists_the_anomalies_with_their_source_cell(kept, form, tmp_path):
    res = consolidate(kept["now"], "6T", 2026, store=kept["store"], form=form)
    odd = kept["units"][0].code
    assert res.anomalies and {a.unit for a in res.anomalies} == {odd}
    assert {a.kind for a in res.anomalies} >= {"history"}
    out = write_city_workbook(res, tmp_path / "tong_hop.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb["Bất thường"]
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0]]
    assert len(rows) == len(res.anomalies) and all(r[1] == odd for r in rows)
    cell = ws.cell(4, 9)
    # relative to the city workbook, so the folder can move; the link opens the unit's file at the cell
    assert cell.hyperlink.target.replace("\\", "/") == "../lich_su0/2026/" + S.file_name(kept["units"][0], "6T", 2026)
    assert cell.hyperlink.location.startswith("'Số liệu'!E") and cell.value.endswith(cell.hyperlink.location[11:])
    status = {r[1]: r[3] for r in wb["Tình hình nộp"].iter_rows(min_row=2, max_row=16, values_only=True)}
    assert status["Số liệu bất thường (sheet «Bất thường»)"] == len(res.anomalies)
    quiet = consolidate(kept["now"], "6T", 2026, form=form)  # without the store: logic and peers only
    assert {a.kind for a in quiet.anomalies} <= {"logic", "peers"}


def _stored(form, unit, period, year, values):
    return Stored(0, unit.code, unit.name, form.period(period).label, year, 1, "x.xlsx", "h", datetime(year, 1, 1),
                  0, 0, [], {k: (v, f"Số liệu!E{i}") for i, (k, v) in enumerate(values.items(), start=7)})


def test_history_cumulative_below_its_own_quarter_and_ratio_with_few_periods(form):
    unit = form.units[5]
    q1 = S.unit_values(form, unit.code, "Q1", 2026)
    six = S.unit_values(form, unit.code, "6T", 2026)
    values = {k: (v, "Số liệu!E7") for k, v in six.items()}
    assert history(form, unit.code, unit.name, "6T", 2026, values, [_stored(form, unit, "Q1", 2026, q1)]) == []
    # Quý II typed into the 6-month cell: below Quý I, which it contains
    typed = {**values, "HS_TIEP_NHAN": (q1["HS_TIEP_NHAN"] // 2, "Số liệu!E50")}
    found = history(form, unit.code, unit.name, "6T", 2026, typed, [_stored(form, unit, "Q1", 2026, q1)])
    assert [(a.code, a.source) for a in found] == [("HS_TIEP_NHAN", "Số liệu!E50")]
    assert "thấp hơn Quý I năm 2026" in found[0].why
    # one earlier half-year only: a ratio to it, beyond the definition's 3 times
    last = _stored(form, unit, "6T", 2025, S.unit_values(form, unit.code, "6T", 2025))
    assert history(form, unit.code, unit.name, "6T", 2026, values, [last]) == []
    jump = {**values, "VB_TONG": (six["VB_TONG"] * 10, "Số liệu!E9")}
    found = history(form, unit.code, unit.name, "6T", 2026, jump, [last])
    assert [a.code for a in found] == ["VB_TONG"] and "gấp" in found[0].why and "ba kỳ" not in found[0].why


def test_peers_flag_a_unit_far_from_its_kind_per_inhabitant(kept, form):
    res = consolidate(kept["now"], "6T", 2026, form=form)
    peers = [a for a in res.anomalies if a.kind == "peers"]
    assert peers and {a.unit for a in peers} == {kept["units"][0].code}
    assert all("/1.000 dân" in a.why and "trung vị của" in a.compared for a in peers if a.code.startswith("HS_"))


def test_the_demo_names_its_planted_anomalies_and_no_flood(form, tmp_path):
    units = [u for u in form.units if u.kind.startswith("Xã")][:30]
    planted = dict(zip((u.code for u in units[:3]), S.ANOMALIES))
    S.generate(tmp_path, "6T", 2026, units, form=form, anomalies=planted)
    res = consolidate(tmp_path, "6T", 2026, form=form)
    assert {a.unit for a in res.anomalies} == set(planted)
    with Store(tmp_path / "kho.sqlite", form) as db:  # an empty store: no history, nothing more
        assert db.count() == 0


def test_kiem_tra_with_the_store_says_which_history_anomaly_is_explained(kept, form, tmp_path):
    import json
    import shutil

    from toolkit.definition import layout as L

    odd = tmp_path / S.file_name(kept["units"][0], "6T", 2026)
    shutil.copy2(kept["now"] / odd.name, odd)

    def history_said(path) -> dict[str, str]:
        done = run_cli("kiem-tra", "--json", str(path), "--kho", str(kept["store"]))
        assert done.returncode == 0, done.stderr
        sub = json.loads(done.stdout)[0]["findings"]
        return {next(iter(f["values"])): f["message"] for f in sub if f["code"] == "bat-thuong-lich-su"}

    before = history_said(odd)
    assert "HS_TIEP_NHAN" in before and all(m.endswith("— chưa giải trình: số liệu đúng thì ghi lý do ở cột "
                                                       "«Giải trình» cùng dòng của sheet «Số liệu»")
                                            for m in before.values())
    wb = openpyxl.load_workbook(odd)
    ws = wb[L.SHEET_DATA]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "HS_TIEP_NHAN")
    ws.cell(row, L.DATA_COLUMNS.index(L.HEAD_EXPLAIN) + 1).value = "Tiếp nhận hồ sơ cấp đổi sổ đỏ hàng loạt"
    wb.save(odd)
    after = history_said(odd)
    assert after.keys() == before.keys()
    assert after["HS_TIEP_NHAN"] == before["HS_TIEP_NHAN"].partition(" — ")[0] + " — đơn vị đã giải trình"
    assert {c: m for c, m in after.items() if c != "HS_TIEP_NHAN"} == \
        {c: m for c, m in before.items() if c != "HS_TIEP_NHAN"}  # one explanation explains one figure
