"""The unit's «Giải trình» of a figure flagged «bất thường» (issue 26 item 3), with real files through the CLI: a
demo unit's budget 8 times its plan is flagged; its officer types why in the «Giải trình» cell beside the figure
(the live Kiểm tra sheet and `kiem-tra` then say it is explained); the city consolidates it: listed as explained
with the text, still held out of the totals, not chased by the dispatch; the city officer accepts it in
tong_hop.xlsm without writing a reason of his own: it is summed, and the report quotes the unit's explanation."""
import csv
import json
import os
import shutil

import openpyxl
import pytest
from conftest import city_book_file, run_cli, soffice
from test_reports import document_text

from toolkit import synthetic as S
from toolkit.city.consolidation import consolidate, consolidate_store
from toolkit.city.workbook import SHEET_ANOMALIES, SHEET_STATUS
from toolkit.definition import layout as L
from toolkit.excel.check_sheet import COLUMNS, HEADER_ROW
from toolkit.intake.reader import read_submission

YEAR = 2026
WHY = "Thu tiền đấu giá quyền sử dụng đất khu tái định cư Đồng Xá, khoản thu một lần"
EXPLAINED = "Chưa xử lý: đơn vị đã giải trình, chờ Sở Nội vụ xác minh; không cộng, không xếp hạng"
UNEXPLAINED = "Chưa xử lý: đơn vị chưa giải trình; không cộng, không xếp hạng"


def _explain(path, code: str, text: str) -> None:
    """What the commune officer does in Excel: type the reason into the «Giải trình» cell of the figure's row."""
    stamp = path.stat().st_mtime
    wb = openpyxl.load_workbook(path)
    ws = wb[L.SHEET_DATA]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == code)
    ws.cell(row, L.DATA_COLUMNS.index(L.HEAD_EXPLAIN) + 1).value = text
    wb.save(path)
    os.utime(path, (stamp, stamp))  # the time received stays the file's own


@pytest.fixture(scope="module")
def demo(tmp_path_factory, form):
    """30 communes of the demo with its three planted anomalies; the budget unit explains its figure."""
    root = tmp_path_factory.mktemp("giai_trinh")
    units = [u for u in form.units if u.kind.startswith("Xã")][:30]
    planted = dict(zip((u.code for u in units[:3]), S.ANOMALIES))
    S.generate(root / "phieu", "6T", YEAR, units, form=form, anomalies=planted)
    kinds = {kind: form.unit_by_code(code) for code, kind in planted.items()}
    budget = root / "phieu" / S.file_name(kinds["thu-ngan-sach"], "6T", YEAR)
    before = run_cli("kiem-tra", "--json", str(budget))
    first = root / "lan_1" / budget.name  # as first sent, a day before the explained one
    first.parent.mkdir()
    shutil.copy2(budget, first)
    os.utime(first, (budget.stat().st_mtime - 86400,) * 2)
    _explain(budget, "NS_THU_TH", WHY)
    return {"root": root, "units": kinds, "budget": budget, "first": first, "before": before,
            "after": run_cli("kiem-tra", "--json", str(budget))}


def _said(done) -> dict[str, str]:
    """Finding code -> message, of `kiem-tra --json` on one file."""
    assert done.returncode == 0, done.stderr  # a warning, never an error
    return {f["code"]: f["message"] for f in json.loads(done.stdout)[0]["findings"]}


def test_kiem_tra_and_the_live_sheet_say_the_figure_is_explained(demo, form, tmp_path):
    before, after = (_said(demo[k])["bat-thuong-thu-ngan-sach"] for k in ("before", "after"))
    assert before.endswith(" — chưa giải trình: số liệu đúng thì ghi lý do ở cột «Giải trình» cùng dòng của sheet "
                           "«Số liệu»")
    assert after == before.partition(" — ")[0] + " — đơn vị đã giải trình"
    # the workbook as Excel shows it once the cell is typed: LibreOffice recalculates the Kiểm tra sheet
    sheet_no = 1 + [L.SHEET_GUIDE, L.SHEET_META, L.SHEET_DATA, *[lst.sheet for lst in form.lists],
                    L.SHEET_CHECK].index(L.SHEET_CHECK)
    soffice(demo["budget"], outdir=tmp_path,
            target=f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet_no}")
    rows = list(csv.reader((tmp_path / f"{demo['budget'].stem}-{L.SHEET_CHECK}.csv").open(encoding="utf-8")))
    live = {r[0]: r for r in rows[HEADER_ROW + 1:] if r}
    row = live["bat-thuong-thu-ngan-sach"]
    assert row[COLUMNS.index("Kết quả")] == "CẢNH BÁO"
    assert row[COLUMNS.index("Thông báo")].endswith(" — đơn vị đã giải trình")
    assert row[COLUMNS.index("Thông báo")] == after


def test_explained_is_listed_with_its_text_and_still_held_then_accepted_and_summed(demo, form, tmp_path):
    root, unit = demo["root"], demo["units"]["thu-ngan-sach"]
    store, book = tmp_path / "kho.sqlite", tmp_path / "th.xlsx"
    done = run_cli("tong-hop", str(root / "phieu"), "--ky", "6T", "--nam", str(YEAR), "--ra", str(book),
                   "--kho", str(store))
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(book)
    ws = wb[SHEET_ANOMALIES]
    heads = [c.value for c in ws[3]]
    listed = {(r[1], r[heads.index("Mã chỉ tiêu")]): dict(zip(heads, r))
              for r in ws.iter_rows(min_row=4, values_only=True) if r[0]}
    mine = listed[(unit.code, "NS_THU_TH")]
    assert mine["Giải trình của đơn vị"] == WHY and mine["Xử lý"] == EXPLAINED
    posts = demo["units"]["tinh-gian"].code
    assert {v["Giải trình của đơn vị"] for (u, _), v in listed.items() if u == posts} == {"(chưa giải trình)"}
    assert {v["Xử lý"] for (u, _), v in listed.items() if u == posts} == {UNEXPLAINED}
    status = {r[1]: r[3] for r in wb[SHEET_STATUS].iter_rows(min_row=2, max_row=16, values_only=True)}
    assert status["Trong đó: đơn vị đã giải trình, chờ xác minh"] == 1

    held = consolidate(root / "phieu", "6T", YEAR, form=form)
    row = next(r for r in held.rows if r.unit.code == unit.code)
    value = row.value("NS_THU_TH")
    assert "NS_THU_TH" in row.held and row.explained["NS_THU_TH"][0] == WHY  # an explanation releases nothing
    others = sum(r.value("NS_THU_TH") for r in held.rows if r.counted and "NS_THU_TH" not in r.held)
    assert held.totals["NS_THU_TH"] == pytest.approx(others)
    # the store keeps the explanation beside the values: the city's page reads the same
    kept = consolidate_store(store, "6T", YEAR, form=form)
    assert {(a.unit, a.code): a.explanation for a in kept.anomalies}[(unit.code, "NS_THU_TH")] == WHY

    # the dispatch chases what is not explained; the explained figure waits for the city, not for the unit
    dispatch = tmp_path / "don_doc.docx"
    done = run_cli("bao-cao", str(root / "phieu"), "--loai", "don-doc", "--ky", "6T", "--nam", str(YEAR),
                   "--ra", str(dispatch))
    assert done.returncode == 0, done.stderr
    text = document_text(dispatch)
    assert demo["units"]["tinh-gian"].name in text and unit.name not in text
    report = tmp_path / "truoc.docx"
    done = run_cli("bao-cao", str(root / "phieu"), "--loai", "tong-hop", "--ky", "6T", "--nam", str(YEAR),
                   "--du-thao", "--ra", str(report))
    assert done.returncode == 0, done.stderr
    assert f"{unit.name} – thu ngân sách nhà nước thực hiện: " in document_text(report)
    assert f"(đơn vị giải trình: “{WHY}”, Sở Nội vụ đang xác minh)" in document_text(report)

    # the city officer copies Mã ĐVHC, Mã chỉ tiêu and Giá trị; no reason of his own: the unit's is quoted
    city = city_book_file(tmp_path, accepted=[(mine["Mã ĐVHC"], mine["Mã chỉ tiêu"], mine["Giá trị"])])
    done = run_cli("tong-hop", str(root / "phieu"), "--ky", "6T", "--nam", str(YEAR), "--ra", str(book),
                   "--tep-tong-hop", str(city))
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(book)
    ws = wb[SHEET_ANOMALIES]
    again = {(r[1], r[heads.index("Mã chỉ tiêu")]): dict(zip(heads, r))
             for r in ws.iter_rows(min_row=4, values_only=True) if r[0]}
    accepted = f"Sở Nội vụ chấp nhận giải trình của đơn vị: “{WHY}”"
    assert again[(unit.code, "NS_THU_TH")]["Xử lý"] == accepted
    status = {r[1]: r[3] for r in wb[SHEET_STATUS].iter_rows(min_row=2, max_row=16, values_only=True)}
    assert status["Trong đó: đơn vị đã giải trình, chờ xác minh"] == 0

    from toolkit.city.content import read_city_book
    summed = consolidate(root / "phieu", "6T", YEAR, form=form, accepted=read_city_book(city, form).accepted)
    row = next(r for r in summed.rows if r.unit.code == unit.code)
    assert "NS_THU_TH" not in row.held and summed.totals["NS_THU_TH"] == pytest.approx(others + value)
    report = tmp_path / "sau.docx"
    done = run_cli("bao-cao", str(root / "phieu"), "--loai", "tong-hop", "--ky", "6T", "--nam", str(YEAR),
                   "--ra", str(report), "--tep-tong-hop", str(city))
    assert done.returncode == 0, done.stderr
    text = document_text(report)
    assert f"{unit.name} – thu ngân sách nhà nước thực hiện ({accepted})" in text
    assert f"Có 01 đơn vị đạt và vượt kế hoạch thu ngân sách năm ({unit.name})" in text


def test_the_version_that_only_explains_shows_the_explanation_as_its_change(demo, form, tmp_path):
    store, unit = tmp_path / "kho.sqlite", demo["units"]["thu-ngan-sach"]
    for folder in (demo["first"].parent, demo["root"] / "phieu"):
        done = run_cli("tong-hop", str(folder), "--ky", "6T", "--nam", str(YEAR), "--ra", str(tmp_path / "th.xlsx"),
                       "--kho", str(store))
        assert done.returncode == 0, done.stderr
    done = run_cli("phien-ban", "--kho", str(store), "--don-vi", unit.code, "--ky", "6T", "--nam", str(YEAR))
    assert done.returncode == 0, done.stderr
    cell = read_submission(demo["budget"], form).explanations["NS_THU_TH"].loc
    label = form.indicator("NS_THU_TH").label
    assert "phiên bản 2 so với phiên bản 1." in done.stdout and "1 ô thay đổi" in done.stdout
    assert f"- Giải trình của «{label}» (NS_THU_TH), {cell}: (trống) → “{WHY}”" in done.stdout


def test_the_store_keeps_the_explanation_on_both_backends(demo, form, store_at, tmp_path):
    from toolkit.city.store import Store, save_consolidation

    unit = demo["units"]["thu-ngan-sach"]
    single = tmp_path / "mot_phieu"
    single.mkdir()
    shutil.copy2(demo["budget"], single / demo["budget"].name)
    save_consolidation(store_at, consolidate(single, "6T", YEAR, form=form))
    cell = read_submission(demo["budget"], form).explanations["NS_THU_TH"].loc
    with Store(store_at, form, readonly=True) as db:
        kept = db.latest(unit.code, "6T", YEAR)
    assert kept.explained == {"NS_THU_TH": (WHY, str(cell))}
    assert kept.values["NS_THU_TH"][0] == read_submission(demo["budget"], form).get("NS_THU_TH")


def test_a_store_made_before_explanations_reads_and_then_migrates(demo, form, tmp_path):
    """An older baocao's store has no explanation table: a reader sees no explanation, a writer adds the table."""
    import sqlite3

    from toolkit.city.backend import MIGRATIONS
    from toolkit.city.store import Store, save_consolidation

    store, unit = tmp_path / "cu.sqlite", demo["units"]["thu-ngan-sach"]
    save_consolidation(store, consolidate(demo["first"].parent, "6T", YEAR, form=form))
    with sqlite3.connect(store) as db:
        db.execute("DROP TABLE explanation")
        db.execute("UPDATE schema_version SET version=?", (len(MIGRATIONS) - 1,))
    with Store(store, form, readonly=True) as db:
        assert db.latest(unit.code, "6T", YEAR).explained == {}
    with sqlite3.connect(store) as db:
        assert not db.execute("SELECT name FROM sqlite_master WHERE name='explanation'").fetchall()
    done = run_cli("tong-hop", str(demo["root"] / "phieu"), "--ky", "6T", "--nam", str(YEAR), "--ra",
                   str(tmp_path / "th.xlsx"), "--kho", str(store))
    assert done.returncode == 0, done.stderr
    with Store(store, form, readonly=True) as db:
        assert db.latest(unit.code, "6T", YEAR).explained["NS_THU_TH"][0] == WHY
