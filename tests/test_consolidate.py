"""City consolidation on real files: statuses, totals, duplicates, text safety, LibreOffice, CLI."""
import hashlib
import os
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import run_cli, soffice_convert

from toolkit import synthetic as S
from toolkit.city.consolidation import consolidate
from toolkit.city.workbook import SHEET_STATUS, TABLE_HEAD, axis_floor, table_sheets, write_city_workbook
from toolkit.excel.workbook import build
from toolkit.intake.reader import read_submission
from toolkit.vnformat import ratio_percent

PERIOD, YEAR = "6T", 2026


def _sha(folder: Path) -> dict[str, tuple[str, float]]:
    return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def city(tmp_path_factory, form):
    """114 units: 2 missing, 2 late, 1 broken identity, 1 unreadable value, 1 resubmitted, junk files."""
    root = tmp_path_factory.mktemp("city")
    inbox = root / "phieu"
    codes = [u.code for u in form.units]
    plan = {"missing": set(codes[:2]), "late": set(codes[2:4]), "broken": {codes[4]}}
    S.generate(inbox, PERIOD, YEAR, missing=plan["missing"], late=plan["late"], broken=plan["broken"], form=form)
    # An unreadable value (text in a count cell): an error whatever the checker's rules.
    bad_unit = form.unit_by_code(codes[5])
    data = S.unit_data(form, bad_unit, PERIOD, YEAR)
    data["so_lieu"]["HS_RUT"] = "mười hai"
    bad = inbox / S.file_name(bad_unit, PERIOD, YEAR)
    build(form, bad, data)
    stamp = S.received_at(form, PERIOD, YEAR, bad_unit.code, False).timestamp()
    os.utime(bad, (stamp, stamp))
    # A resubmission: an older file of unit 6 with other numbers, in a sub-folder.
    dup_unit = form.unit_by_code(codes[6])
    old = S.unit_data(form, dup_unit, PERIOD, YEAR)
    old["so_lieu"] = {**old["so_lieu"], "VB_TB": old["so_lieu"]["VB_TB"] + 1000}
    older = inbox / "cu" / S.file_name(dup_unit, PERIOD, YEAR, copy=1)
    build(form, older, old)
    newest = (inbox / S.file_name(dup_unit, PERIOD, YEAR)).stat().st_mtime
    os.utime(older, (newest - 86400, newest - 86400))
    # A workbook whose name starts with "=", junk, a lock file and another period.
    os.rename(inbox / S.file_name(form.unit_by_code(codes[7]), PERIOD, YEAR), inbox / "=1+1 phieu.xlsx")
    (inbox / "ghi chu.xlsx").write_text("không phải Excel", encoding="utf-8")
    (inbox / "~$DU_LIEU_MAU_khoa.xlsx").write_bytes(b"lock")
    S.generate(inbox / "quy", "Q1", YEAR, [form.units[10]], form=form)
    before = _sha(inbox)
    out = root / "tong_hop.xlsx"
    res = consolidate(inbox, "6 tháng đầu năm", YEAR)
    write_city_workbook(res, out)
    return {"res": res, "out": out, "inbox": inbox, "before": before, "plan": plan, "codes": codes,
            "dup": (older, dup_unit), "root": root}


def test_inputs_never_modified(city):
    assert _sha(city["inbox"]) == city["before"]


def test_status_sheet_lists_114_units_with_statuses(city):
    ws = openpyxl.load_workbook(city["out"], read_only=True)[SHEET_STATUS]
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "STT")
    units = {r[1]: r for r in rows[head + 1:head + 115]}
    assert len(units) == 114 and set(units) == set(city["codes"])
    codes = city["codes"]
    status = {c: units[c][4] for c in codes}
    assert {c for c, s in status.items() if s == "chưa nộp"} == city["plan"]["missing"]
    assert {c for c, s in status.items() if s == "nộp muộn"} == city["plan"]["late"]
    assert {codes[4], codes[5]} <= {c for c, s in status.items() if s == "có lỗi"}
    assert status[codes[8]] == "đã nộp"
    totals = {r[1]: r[3] for r in rows[1:7]}
    assert totals == {"Số đơn vị phải nộp": 114, "Đã nộp": 112, "Tỷ lệ đã nộp (%)": 98.25,
                      "Hợp lệ (không có lỗi)": city["res"].valid, "Nộp muộn": 2, "Chưa nộp": 2}
    excluded = " ".join(str(r[1]) + " " + str(r[5]) for r in rows[head + 115:] if r[1])
    assert "ghi chu.xlsx" in excluded and "Khác kỳ" in excluded and "Bản cũ" in excluded
    assert "~$" not in excluded and "quy/DU_LIEU_MAU_" in excluded  # relative to the consolidated folder


def _table(book: Path, res) -> tuple[list[dict], dict]:
    """The Tổng hợp sheets joined again: one dict per unit row and the total row, by indicator code."""
    wb = openpyxl.load_workbook(book, read_only=True)
    units, total = [{} for _ in range(114)], {}
    for name in table_sheets(res):
        rows = list(wb[name].iter_rows(values_only=True))
        codes = rows[TABLE_HEAD + 1]
        assert rows[TABLE_HEAD + 2 + 114][0] == "TỔNG CỘNG TOÀN THÀNH PHỐ"
        for k, r in enumerate(rows[TABLE_HEAD + 2:TABLE_HEAD + 2 + 114]):
            units[k].update({c: v for c, v in zip(codes, r) if c})
        total.update({c: v for c, v in zip(codes, rows[TABLE_HEAD + 2 + 114]) if c})
    return units, total


def test_city_totals_are_sums_and_ratios_of_sums(city, form):
    """Of the units whose figures count: a unit with errors is in its row, not in the totals or the ranks."""
    units, total = _table(city["out"], city["res"])
    assert set(total) == {i.code for i in form.indicators} | {"HANG_TL_HS_DUNG_HAN", "HANG_TL_HS_TRUC_TUYEN"}
    rows = list(openpyxl.load_workbook(city["out"], read_only=True)[SHEET_STATUS].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "STT")
    status = [r[4] for r in rows[head + 1:head + 115]]
    assert status.count("có lỗi") >= 2
    units = [u for u, s in zip(units, status) if s not in ("chưa nộp", "có lỗi")]
    averaged_differs = False
    for ind in form.indicators:
        got = total[ind.code]
        if ind.units == "sum":
            assert got == pytest.approx(sum(r[ind.code] or 0 for r in units)), ind.code
        elif ind.units == "ratio":
            num, den = ind.ratio
            pairs = [(r[num], r[den]) for r in units if r[num] is not None and r[den] is not None]
            assert got == ratio_percent(sum(p[0] for p in pairs), sum(p[1] for p in pairs)), ind.code
            pcts = [r[ind.code] for r in units if r[ind.code] is not None]
            averaged_differs |= abs(sum(pcts) / len(pcts) - got) > 0.01
        else:
            assert got is None, ind.code
    assert averaged_differs  # the mean of percentages would have given another figure
    rank = [r["HANG_TL_HS_DUNG_HAN"] for r in units if r["HANG_TL_HS_DUNG_HAN"] is not None]
    assert min(rank) == 1 and len(rank) == len(units) == 112 - status.count("có lỗi")


def test_duplicate_resolved_by_newest_and_reported(city):
    older, unit = city["dup"]
    row = next(r for r in city["res"].rows if r.unit.code == unit.code)
    assert row.file == S.file_name(unit, PERIOD, YEAR) and "2 tệp" in row.note
    assert any(path == str(older) and why.startswith("Bản cũ") for path, why in city["res"].excluded)
    newest = read_submission(Path(row.path)).get("VB_TB")
    assert row.value("VB_TB") == newest


def test_text_starting_with_equals_stays_text(city):
    wb = openpyxl.load_workbook(city["out"])
    cells = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r
             if isinstance(c.value, str) and c.value.startswith(("=1+1", "= "))]
    assert cells and all(c.data_type == "s" for c in cells)


def test_provenance_and_findings_sheets(city):
    wb = openpyxl.load_workbook(city["out"], read_only=True)
    src = list(wb["Nguồn"].iter_rows(min_row=4, values_only=True))
    assert len(src) == 112  # one line per unit that sent a file, not one per value
    row = next(r for r in city["res"].rows if r.status == "đã nộp")
    line = next(r for r in src if r[0] == row.unit.code)
    assert line[2] == row.file and line[5] == row.file_hash[:16]
    loc = read_submission(Path(row.path)).loc("HS_TIEP_NHAN")  # inside the range the sheet names
    sheet_area = next(a for a in line[3].split("; ") if a.startswith(f"{loc.sheet}!"))
    first, last = (int(x.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for x in sheet_area.split("!")[1].split(":"))
    assert first <= int(loc.cell[1:]) <= last
    errors = list(wb["Lỗi"].iter_rows(min_row=4, values_only=True))
    assert any(r[0] == city["codes"][5] and r[4] and r[5] == "LỖI" for r in errors)
    every = [str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v]
    assert not [v for v in every if str(city["root"]) in v]  # file names relative to the folder
    with zipfile.ZipFile(city["out"]) as zf:  # two native charts (openpyxl does not load charts back)
        assert sum(n.startswith("xl/charts/chart") for n in zf.namelist()) == 2


def test_fast_synthetic_equals_build(tmp_path, form):
    unit = form.units[3]
    fast = S.generate(tmp_path / "a", "Q2", YEAR, [unit], form=form)[0]
    slow = S.generate(tmp_path / "b", "Q2", YEAR, [unit], form=form, fast=False)[0]
    a, b = read_submission(fast), read_submission(slow)
    assert {k: (v.value, v.loc) for k, v in {**a.meta, **a.values}.items()} == \
           {k: (v.value, v.loc) for k, v in {**b.meta, **b.values}.items()}
    assert a.problems == b.problems == []
    assert fast.name.startswith("DU_LIEU_MAU_") and a.get("NGUOI_LAP") == S.DEMO_NOTE


def test_synthetic_identities(form):
    for unit in form.units[:20]:
        v = S.unit_values(form, unit.code, "6T", YEAR)
        assert v["HS_TIEP_NHAN"] == v["HS_TRONG_KY"] + v["HS_KY_TRUOC"]
        assert v["HS_TRONG_KY"] == v["HS_TRUC_TUYEN"] + v["HS_TRUC_TIEP"] + v["HS_BUU_CHINH"]
        assert v["HS_DA_GQ"] == sum(v[k] for k in ("HS_TRUOC_HAN", "HS_DUNG_HAN", "HS_QUA_HAN", "HS_TU_CHOI",
                                                   "HS_RUT"))
        assert v["HS_TIEP_NHAN"] == v["HS_DA_GQ"] + v["HS_DANG_GQ"]
        assert v["HS_DANG_GQ"] == v["HS_DANG_TRONG_HAN"] + v["HS_DANG_QUA_HAN"] + v["HS_CHO_BO_SUNG"]
        assert v["TL_HS_DUNG_HAN"] == ratio_percent(v["HS_TRUOC_DUNG_HAN"], v["HS_DA_GQ"])
        assert v["CC_CO_MAT"] <= v["CC_BIEN_CHE"]


def test_demo_city_workbook_opens_in_libreoffice(tmp_path):
    from toolkit.demo import run_demo

    assert run_demo(tmp_path / "demo") == 0
    book = tmp_path / "demo" / "tong_hop_6_thang_2026.xlsx"
    pdf = soffice_convert(book, "pdf", tmp_path / "lo")
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    text = "\n".join(pages)
    assert re.search(r"Số đơn vị phải nộp +114", text) and "Xã Nghi Dương" in text
    assert "TỔNG CỘNG TOÀN THÀNH PHỐ" in text and "BIỂU ĐỒ" in text  # every sheet printed
    # 282 pages before print setup; 16 when the table printed at 5 pt; at 8 pt or more (test_city_print) about 54
    assert len([p for p in pages if p.strip()]) <= 60
    assert len(list((tmp_path / "demo" / "phieu" / "mo_phong").glob("DU_LIEU_MAU_*.xlsx"))) == 110


def test_every_sheet_prints_one_page_wide_with_titles(city):
    wb = openpyxl.load_workbook(city["out"])
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and setup.paperSize == 9, ws.title
        assert setup.fitToWidth in (None, 1), ws.title  # absent means 1 in the file format
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        if ws.title != "Biểu đồ":
            assert ws.print_title_rows, ws.title


def test_two_rules_on_one_cell_count_one_error(city):
    row = next(r for r in city["res"].rows if r.unit.code == city["codes"][4])  # HS_TIEP_NHAN + 7
    cells = [(f["sheet"], f["cell"]) for f in row.findings if f["severity"] == "error"]
    assert len(cells) > len(set(cells)) and row.errors == len(set(cells))


def test_chart_axis_shows_the_differences():
    assert axis_floor([95.8, 99.9, 100.0]) == 95 and axis_floor([12.0, 80.0]) == 0


def test_cli_tong_hop_exit_codes(city, tmp_path):
    out = tmp_path / "th.xlsx"
    done = run_cli("tong-hop", str(city["inbox"]), "--ky", "6T", "--nam", "2026", "--out", str(out),
                   "--han", "30/06/2026")
    assert done.returncode == 1, done.stderr  # files with errors: written, but exit 1
    assert "đơn vị đã nộp" in done.stdout and out.exists()
    assert run_cli("tong-hop", str(tmp_path / "khong-co"), "--ky", "6T", "--nam", "2026",
                   "--out", str(out)).returncode == 2
    assert run_cli("tong-hop", str(city["inbox"]), "--ky", "6T", "--nam", "2026", "--out", str(out),
                   "--han", "31-6-2026").returncode == 2


def test_one_process_reads_what_a_process_per_core_does(city):
    serial = consolidate(city["inbox"], "6 tháng đầu năm", YEAR, workers=1)
    pooled = city["res"]  # consolidate's default: one process per core
    assert [(r.unit.code, r.status, r.values, r.findings) for r in serial.rows] == \
        [(r.unit.code, r.status, r.values, r.findings) for r in pooled.rows]
    assert serial.excluded == pooled.excluded and serial.totals == pooled.totals
    assert "--tien-trinh SO" in run_cli("tong-hop", "-h").stdout
    refused = run_cli("tong-hop", str(city["inbox"]), "--ra", "x.xlsx", "--tien-trinh", "0")
    assert refused.returncode == 2 and "0 phải từ 1 trở lên" in refused.stderr


def test_analysis_frames(city):
    from toolkit.city.analysis import long_frame, wide_frame

    long = long_frame(city["res"])
    assert list(long.columns) == ["unit", "unit_name", "period", "year", "code", "value", "file", "cell"]
    wide = wide_frame(long)
    assert len(wide) == 112
    counted = [r.unit.code for r in city["res"].rows if r.counted]
    assert wide.loc[counted, "HS_TIEP_NHAN"].sum() == city["res"].totals["HS_TIEP_NHAN"]


def test_consolidate_is_pure_and_imports_no_writer(tmp_path, form):
    """consolidate() writes nothing, and importing it loads neither the city workbook nor XlsxWriter."""
    import subprocess
    import sys

    S.generate(tmp_path / "in", "Q1", YEAR, form.units[:3], form=form)
    before = sorted(tmp_path.rglob("*"))
    res = consolidate(tmp_path / "in", "Q1", YEAR, store=tmp_path / "kho.db")
    assert res.received == 3 and sorted(tmp_path.rglob("*")) == before
    code = ("import sys, toolkit.city.consolidation; "
            "print(sorted(m for m in sys.modules if m in ('toolkit.city.workbook', 'xlsxwriter')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _on_a_terminal(args: list[str]) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; what the terminal showed."""
    import pty
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", *args], stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=300)
    os.close(master)
    return out.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_only_for_many_files(tmp_path, form):
    S.generate(tmp_path / "in", "Q1", YEAR, form.units[:60], form=form)
    args = ["tong-hop", str(tmp_path / "in"), "--ky", "Q1", "--nam", str(YEAR), "--out", str(tmp_path / "a.xlsx")]
    assert "Đọc và kiểm tra phiếu" in _on_a_terminal(args)
    piped = run_cli(*args)
    assert "Đọc và kiểm tra phiếu" not in piped.stdout + piped.stderr and "60/114" in piped.stdout
    few = _on_a_terminal(["kiem-tra", *map(str, sorted((tmp_path / "in").glob("*.xlsx"))[:5])])
    assert "Kiểm tra phiếu" not in few


def test_synthetic_data_follows_a_new_indicator_and_rule(tmp_path, form):
    """A city admin adds a count, its two parts and an identity: the generator needs no change."""
    import shutil

    import yaml

    from toolkit.check.verb import check_file
    from toolkit.definition.form import load_form_from

    folder = tmp_path / "definition"
    shutil.copytree(form.source, folder)
    ind = yaml.safe_load((folder / "indicators.yaml").read_text(encoding="utf-8"))
    ind["sections"][0]["groups"][0]["indicators"] += [
        {"code": "VB_SO_TONG", "label": "Văn bản ký số", "unit": "văn bản"},
        {"code": "VB_SO_TRONG", "label": "Ký số trong kỳ", "unit": "văn bản"},
        {"code": "VB_SO_TON", "label": "Ký số kỳ trước", "unit": "văn bản"},
        {"code": "TL_VB_SO", "label": "Tỷ lệ ký số trong kỳ", "unit": "%", "type": "percent", "units": "ratio",
         "ratio": ["VB_SO_TRONG", "VB_SO_TONG"]}]
    (folder / "indicators.yaml").write_text(yaml.safe_dump(ind, allow_unicode=True), encoding="utf-8")
    rules = yaml.safe_load((folder / "rules.yaml").read_text(encoding="utf-8"))
    rules["rules"].append({"id": "vb-so", "expr": "VB_SO_TONG == VB_SO_TRONG + VB_SO_TON", "message": "x"})
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    new = load_form_from(folder)
    v = S.unit_values(new, new.units[0].code, "Q1", YEAR)
    assert v["VB_SO_TONG"] == v["VB_SO_TRONG"] + v["VB_SO_TON"] and v["VB_SO_TRONG"] > v["VB_SO_TON"]
    assert v["TL_VB_SO"] == ratio_percent(v["VB_SO_TRONG"], v["VB_SO_TONG"])
    path = S.generate(tmp_path / "in", "Q1", YEAR, new.units[:2], form=new)[0]
    report = check_file(path, new)
    assert report.submission.get("VB_SO_TONG") == S.unit_values(new, new.units[0].code, "Q1", YEAR)["VB_SO_TONG"]
    assert report.findings == []
