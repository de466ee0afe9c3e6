"""The Kiểm tra sheet tells what `baocao kiem-tra` tells, file by file: cached results (no recalculation,
read with calamine) and LibreOffice's recalculation, on the samples and a corpus of broken copies."""
import copy
import csv
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc
from conftest import soffice

from toolkit.check.checker import check_submission, sheet_decisions, sheet_verdicts
from toolkit.definition import layout as L
from toolkit.definition.findings import Report
from toolkit.demo import sample_files
from toolkit.excel.check_sheet import COLUMNS, HEADER_ROW
from toolkit.excel.formulas import vn_number
from toolkit.excel.workbook import build
from toolkit.intake.datafile import load_data
from toolkit.intake.reader import read_submission
from toolkit.vnformat import fmt_number

VERDICT = COLUMNS.index("Kết quả")


def _samples(form):
    return {f.stem.split("_")[0] + "_" + f.stem.split("_")[1]: load_data(f, form) for f in sample_files()}


def _doc(data, i, **changes):
    data["danh_sach"]["van_ban"][i].update(changes)


def _cqtt(data, i, **changes):
    data["danh_sach"]["cqtt"][i].update(changes)


# name -> (sample, edit of its data dict)
CORPUS = {
    "tiep_nhan_sai": ("nghi_duong", lambda d: d["so_lieu"].update(HS_TIEP_NHAN=5000)),
    "qua_han_le": ("nghi_duong", lambda d: d["so_lieu"].update(HS_QUA_HAN=7)),
    "vb_khac_de_trong": ("nghi_duong", lambda d: d["so_lieu"].update(VB_TONG=60, VB_QD=10, VB_KH=12, VB_CV=30)),
    "vb_phan_vuot_tong": ("nghi_duong", lambda d: d["so_lieu"].update(VB_TONG=40, VB_QD=10, VB_KH=12, VB_CV=30)),
    "vb_chi_co_tong": ("nghi_duong", lambda d: d["so_lieu"].update(VB_TONG=60)),
    "vb_du_thanh_phan": ("nghi_duong", lambda d: d["so_lieu"].update(VB_TONG=52, VB_QD=10, VB_KH=12, VB_CV=30)),
    "nhiem_vu_qua_han_trong": ("nghi_duong", lambda d: d["so_lieu"].update(
        KH_NV_TONG=20, KH_NV_HOAN_THANH=8, KH_NV_THUONG_XUYEN=5, KH_NV_DANG_TH=3)),
    "ty_le_sai": ("nghi_duong", lambda d: d["so_lieu"].update(TL_HS_DUNG_HAN=98)),
    "ty_le_lam_tron": ("nghi_duong", lambda d: d["so_lieu"].update(TL_HS_DUNG_HAN=99.19)),
    "ty_le_qua_100": ("nghi_duong", lambda d: d["so_lieu"].update(TL_KY_SO=150)),
    "so_am_va_co_mat": ("nghi_duong", lambda d: d["so_lieu"].update(HS_RUT=-1, CC_CO_MAT=45)),
    "thieu_bat_buoc": ("nghi_duong", lambda d: (d["so_lieu"].update(HS_DA_GQ=None),
                                                d["thong_tin"].update(NAM_BAO_CAO=None))),
    "ngay_ky_som": ("nghi_duong", lambda d: d["thong_tin"].update(NGAY_BAO_CAO=date(2026, 6, 1))),
    "nguoi_ky_khong_chuc_vu": ("nghi_duong", lambda d: d["thong_tin"].update(CHUC_VU_KY=None)),
    "ky_hieu_sai_dang": ("nghi_duong", lambda d: _doc(d, 0, ky_hieu="QĐ UBND")),
    "so_sai_dang": ("nghi_duong", lambda d: _doc(d, 1, so="12a")),
    "so_qppl_dung_dang": ("nghi_duong", lambda d: _doc(d, 1, so="01/2026")),
    "cong_van_ky_hieu_qd": ("nghi_duong", lambda d: _doc(d, 2, loai="Công văn", ky_hieu="QĐ-UBND")),
    "trung_so_khac_ngay": ("nghi_duong", lambda d: _doc(d, 3, so=d["danh_sach"]["van_ban"][0]["so"],
                                                         ky_hieu=d["danh_sach"]["van_ban"][0]["ky_hieu"],
                                                         loai=d["danh_sach"]["van_ban"][0]["loai"])),
    "cqtt_vuot_toi_da": ("nghi_duong", lambda d: _cqtt(d, 1, diem_tu_cham=30, diem_toi_da=2)),
    "cqtt_tong_toi_da": ("nghi_duong", lambda d: _cqtt(d, 0, diem_toi_da=25)),
    "cqtt_tthc_qua_han": ("nghi_duong", lambda d: d["danh_sach"]["cqtt"].append(
        {"tieu_chi": d["danh_sach"]["cqtt"][0]["tieu_chi"], "tieu_chi_thanh_phan":
         "100% hồ sơ thủ tục hành chính giải quyết trước và trong thời gian quy định", "diem_toi_da": 2,
         "diem_tu_cham": 2})),
    "don_vi_sai_ten": ("nghi_duong", lambda d: d["thong_tin"].update(TEN_DON_VI="Xã Nguyễn Lương Bằng")),
    "ky_ngoai_thoi_gian": ("nghi_duong", lambda d: d["thong_tin"].update(TU_NGAY=date(2025, 1, 1))),
    # windows of sheet Số liệu riêng: from after to; a window of the Số liệu figures outside the period
    "thoi_gian_nguoc": ("nghi_duong", lambda d: d["danh_sach"]["so_lieu_rieng"].append(
        {"chi_tieu": "Nhóm CD.2: Nhiệm vụ trong Kế hoạch CCHC năm", "tu_ngay": date(2026, 5, 31),
         "den_ngay": date(2026, 1, 1)})),
    "thoi_gian_ngoai_ky": ("nghi_duong", lambda d: d["danh_sach"]["so_lieu_rieng"].append(
        {"chi_tieu": "Nhóm CD.3: Nhiệm vụ UBND thành phố, Chủ tịch UBND thành phố giao", "tu_ngay": date(2025, 7, 1)})),
    # a report's own figure over a window nobody could mean: before the year five years back, after the report
    # (1901: before March 1900, Excel, LibreOffice and xlsxwriter each number the days their own way)
    "thoi_gian_1901": ("nghi_duong", lambda d: d["danh_sach"]["so_lieu_rieng"].append(
        {"chi_tieu": "HS_TIEP_NHAN: Tổng số hồ sơ tiếp nhận", "gia_tri": 10893, "tu_ngay": date(1901, 1, 1),
         "den_ngay": date(1901, 12, 31)})),
    "thoi_gian_2099": ("nghi_duong", lambda d: d["danh_sach"]["so_lieu_rieng"].append(
        {"chi_tieu": "HS_DA_GQ: Tổng số hồ sơ đã giải quyết", "gia_tri": 10800, "tu_ngay": date(2025, 7, 1),
         "den_ngay": date(2099, 12, 31)})),
    "ns_khong_ke_hoach": ("nguyen_luong", lambda d: d["so_lieu"].update(NS_THU_KH=None)),
    "nlb_ty_le_dung": ("nguyen_luong", lambda d: d["so_lieu"].update(TL_THU_NS=36.70)),
    # plausibility (bất thường): every sum holds, the figures cannot be true
    "tinh_gian_bat_thuong": ("nghi_duong", lambda d: d["so_lieu"].update(CV_TINH_GIAN=943)),
    "tuyen_dung_bat_thuong": ("nghi_duong", lambda d: d["so_lieu"].update(CV_TUYEN_DUNG=70)),
    "thu_ns_gap_8_lan": ("nguyen_luong", lambda d: d["so_lieu"].update(NS_THU_TH=2172092.0, TL_THU_NS=802.04)),
    "giai_ngan_vuot_ke_hoach": ("nguyen_luong", lambda d: d["so_lieu"].update(DTC_GN_KH=5000.0, TL_GIAI_NGAN=210.58)),
    # the unit's «Giải trình» beside a flagged figure: a text explains it, blanks and line breaks do not
    "thu_ns_da_giai_trinh": ("nguyen_luong", lambda d: (
        d["so_lieu"].update(NS_THU_TH=2172092.0, TL_THU_NS=802.04),
        d.setdefault("giai_trinh", {}).update(NS_THU_TH="Thu tiền đấu giá quyền sử dụng đất một lần"))),
    "giai_trinh_chi_co_khoang_trang": ("nghi_duong", lambda d: (
        d["so_lieu"].update(CV_TINH_GIAN=943), d.setdefault("giai_trinh", {}).update(CV_TINH_GIAN="  \n  "))),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, form):
    folder = tmp_path_factory.mktemp("corpus")
    samples = _samples(form)
    files = {"mau_trong": build(form, folder / "mau_trong.xlsx")}
    for name, data in samples.items():
        files[name] = build(form, folder / f"{name}.xlsx", data)
    for name, (sample, edit) in CORPUS.items():
        data = copy.deepcopy(samples[sample])
        edit(data)
        files[name] = build(form, folder / f"{name}.xlsx", data)
    files.update(_typed_percent(files["nghi_duong"], folder))
    return files


def _typed_percent(src: Path, folder: Path) -> dict[str, Path]:
    """TL_HS_DUNG_HAN typed in Excel: "99,2" or "99,2%" into the percent cell both store 0.992; a cell left as
    text "99,2%" (pasted); "100%" typed into TL_KY_SO stores 1."""
    out = {}
    for name, value in (("ty_le_go_so", 0.992), ("ty_le_go_chu", "99,2%"), ("ty_le_go_100", 1)):
        wb = openpyxl.load_workbook(src)
        ws = wb[L.SHEET_DATA]
        rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
        ws.cell(rows["TL_HS_DUNG_HAN" if name != "ty_le_go_100" else "TL_KY_SO"], 5).value = value
        wb.save(folder / f"{name}.xlsx")
        out[name] = folder / f"{name}.xlsx"
    return out


def _counts(path: Path, form) -> tuple[int, int]:
    report = Report(check_submission(read_submission(path, form), form))
    return len(report.errors), len(report.warnings)


def _sheet(rows: list[list], column: int = VERDICT) -> tuple[tuple[int, int], dict[str, str]]:
    """(errors, warnings) of the summary and check id -> verdict (or another column), from the Kiểm tra grid."""
    def num(v):
        return int(float(v)) if v not in ("", None) else 0
    counts = (num(rows[1][1]), num(rows[2][1]))
    body = rows[HEADER_ROW + 1:]
    body = body[:next(i for i, r in enumerate(body) if not r or not r[0])]
    return counts, {r[0]: r[column] for r in body}


def test_percent_cells_read_both_ways_of_typing(corpus, form):
    assert read_submission(corpus["ty_le_go_so"], form).get("TL_HS_DUNG_HAN") == 99.2
    assert read_submission(corpus["ty_le_go_chu"], form).get("TL_HS_DUNG_HAN") == 99.2
    assert read_submission(corpus["ty_le_go_100"], form).get("TL_KY_SO") == 100  # 100%, never 1%
    wb = openpyxl.load_workbook(corpus["nghi_duong"])
    ws = wb[L.SHEET_DATA]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    cell = ws.cell(rows["TL_HS_DUNG_HAN"], 5)
    assert cell.value == pytest.approx(0.992) and cell.number_format.endswith("%")
    assert {(dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation
            if cell.coordinate in dv.sqref} == {("0.0", "1.0")}


def test_a_blank_part_is_unknown_never_silence(corpus, form):
    warned = sheet_decisions(read_submission(corpus["vb_khac_de_trong"], form), form)["vb-tong"]
    assert warned.verdict == "CẢNH BÁO"
    assert warned.message == "Thông báo, Tờ trình, Văn bản khác để trống; nếu đủ thì tổng phải là 8"
    over = sheet_decisions(read_submission(corpus["vb_phan_vuot_tong"], form), form)["vb-tong"]
    assert over.verdict == "LỖI" and "(40)" in over.message and "(52)" in over.message
    assert sheet_verdicts(read_submission(corpus["vb_chi_co_tong"], form), form)["vb-tong"] == "CHƯA ĐỦ SỐ LIỆU"
    assert sheet_verdicts(read_submission(corpus["vb_du_thanh_phan"], form), form)["vb-tong"] == "ĐẠT"
    tasks = sheet_decisions(read_submission(corpus["nhiem_vu_qua_han_trong"], form), form)["kh-nhiem-vu"]
    assert tasks.message == "Chưa đến hạn, Quá hạn chưa hoàn thành để trống; nếu đủ thì tổng phải là 4"


def test_implausible_figures_warn_at_the_cell_and_true_ones_pass(corpus, form):
    flagged = {"tinh_gian_bat_thuong": ("bat-thuong-tinh-gian", "CV_TINH_GIAN"),
               "tuyen_dung_bat_thuong": ("bat-thuong-tuyen-dung", "CV_TUYEN_DUNG"),
               "thu_ns_gap_8_lan": ("bat-thuong-thu-ngan-sach", "NS_THU_TH"),
               "giai_ngan_vuot_ke_hoach": ("bat-thuong-giai-ngan", "DTC_GN_TH")}
    for name, (rule, code) in flagged.items():
        sub = read_submission(corpus[name], form)
        findings = [f for f in check_submission(sub, form) if f.code == rule]
        assert [(f.severity, f.where) for f in findings] == [("warning", str(sub.loc(code)))], name
        assert findings[0].message.startswith("Bất thường: "), name
        base = read_submission(corpus[CORPUS[name][0]], form)
        assert _counts(corpus[name], form)[0] == _counts(base.path, form)[0], name  # a warning, never an error
    assert "943" in sheet_decisions(read_submission(corpus["tinh_gian_bat_thuong"], form), form)[
        "bat-thuong-tinh-gian"].message
    for name in ("nghi_duong", "nguyen_luong"):  # the real reports are plausible
        verdicts = sheet_verdicts(read_submission(corpus[name], form), form)
        assert {verdicts[k] for k in verdicts if k.startswith("bat-thuong-")} <= {"ĐẠT", "CHƯA ĐỦ SỐ LIỆU"}
    assert sheet_verdicts(read_submission(corpus["nghi_duong"], form), form)["bat-thuong-tuyen-dung"] == "ĐẠT"


def test_kiem_tra_says_which_flagged_figure_lacks_an_explanation(corpus, form):
    """A figure flagged «bất thường» stays a warning whether explained or not (the city decides), and its message
    says which: the text in the «Giải trình» cell of its row, beside the value the warning links to."""
    said = {}
    for name, rule in (("thu_ns_gap_8_lan", "bat-thuong-thu-ngan-sach"), ("thu_ns_da_giai_trinh",
                                                                        "bat-thuong-thu-ngan-sach"),
                       ("giai_trinh_chi_co_khoang_trang", "bat-thuong-tinh-gian")):
        sub = read_submission(corpus[name], form)
        found = [f for f in check_submission(sub, form) if f.code == rule]
        assert [f.severity for f in found] == ["warning"], name
        said[name] = (found[0].message, sub)
    message, sub = said["thu_ns_da_giai_trinh"]
    assert message.endswith(" — đơn vị đã giải trình")
    explained = sub.explanations["NS_THU_TH"]
    assert explained.value == "Thu tiền đấu giá quyền sử dụng đất một lần"
    assert explained.loc.sheet == L.SHEET_DATA and explained.loc.cell[1:] == sub.loc("NS_THU_TH").cell[1:]
    wb = openpyxl.load_workbook(corpus["thu_ns_da_giai_trinh"])
    assert wb[L.SHEET_DATA][explained.loc.cell].value == explained.value
    assert wb[L.SHEET_DATA].cell(L.HEADER_ROW + 1, L.DATA_COLUMNS.index(L.HEAD_EXPLAIN) + 1).value == "Giải trình"
    for name in ("thu_ns_gap_8_lan", "giai_trinh_chi_co_khoang_trang"):
        message, sub = said[name]
        assert message.endswith(" — chưa giải trình: số liệu đúng thì ghi lý do ở cột «Giải trình» cùng dòng của "
                                "sheet «Số liệu»"), name
        assert not sub.explanations, name
    assert said["thu_ns_gap_8_lan"][0].partition(" — ")[0] == said["thu_ns_da_giai_trinh"][0].partition(" — ")[0]


def test_cached_results_are_the_verdicts_without_recalculation(corpus, form):
    """calamine reads the stored results and never recalculates: they must already be kiem-tra's answer."""
    for name, path in corpus.items():
        if name.startswith("ty_le_go"):
            continue  # edited by openpyxl, which drops every cached result, as any editor but Excel may
        book = pc.CalamineWorkbook.from_path(str(path))
        (errors, warnings), verdicts = _sheet(book.get_sheet_by_name(L.SHEET_CHECK).to_python())
        sub = read_submission(path, form)
        assert (errors, warnings) == _counts(path, form), name
        assert verdicts == sheet_verdicts(sub, form), name


def test_libreoffice_counts_equal_kiem_tra_for_every_file(corpus, form, tmp_path):
    outdir = tmp_path / "lo"
    sheet_no = 1 + [L.SHEET_GUIDE, L.SHEET_META, L.SHEET_DATA, *[lst.sheet for lst in form.lists],
                    L.SHEET_CHECK].index(L.SHEET_CHECK)
    soffice(*corpus.values(), outdir=outdir,
            target=f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet_no}")
    table, bad = [], []
    for name, path in corpus.items():
        rows = list(csv.reader((outdir / f"{path.stem}-{L.SHEET_CHECK}.csv").open(encoding="utf-8")))
        excel, verdicts = _sheet(rows)
        python = _counts(path, form)
        expected = sheet_verdicts(read_submission(path, form), form)
        table.append(f"| {name} | {python[0]} | {python[1]} | {excel[0]} | {excel[1]} |")
        if name == "ty_le_go_chu":  # text in a number cell: Python reads "99,2%", a formula sees no number
            expected["ty-le-tl-hs-dung-han"] = "CHƯA ĐỦ SỐ LIỆU"
        if excel != python or verdicts != expected:
            bad.append((name, python, excel, {k: (verdicts.get(k), v) for k, v in expected.items()
                                              if verdicts.get(k) != v}))
        said = _sheet(rows, COLUMNS.index("Thông báo"))[1]
        decisions = sheet_decisions(read_submission(path, form), form)
        wrong = {k: (said.get(k), d.message) for k, d in decisions.items() if said.get(k) != d.message}
        if wrong and name != "ty_le_go_chu":
            bad.append((name, "thông báo", wrong))
    Path(outdir / "parity.md").write_text("| tệp | kiem-tra lỗi | kiem-tra cảnh báo | Excel lỗi | Excel cảnh báo |\n"
                                          "|---|---|---|---|---|\n" + "\n".join(table) + "\n", encoding="utf-8")
    print("\n" + (outdir / "parity.md").read_text(encoding="utf-8"))
    assert not bad, bad
    assert len(corpus) >= 23


@pytest.mark.parametrize("x", [0, 5, 87, 999, 1000, 5892, 99385, 1234567, 2_000_000_001, 99.2, 36.698, 0.5,
                               -3, -1234.5, 12.005])
def test_vietnamese_numbers_in_formulas_match_python(x, tmp_path):
    import xlsxwriter

    path = tmp_path / "n.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_number(0, 0, x)
    ws.write_formula(0, 1, "=" + vn_number("A1"))
    ws.write_formula(0, 2, "=" + vn_number("A1", 2, fixed=True))
    wb.close()
    soffice(path, outdir=tmp_path, target="csv:Text - txt - csv (StarCalc):44,34,76,1")
    row = next(csv.reader((tmp_path / "n.csv").open(encoding="utf-8")))
    assert row[1:] == [fmt_number(x), fmt_number(x, 2, fixed=True)]


def test_formulas_fit_excel(corpus):
    """Excel refuses a formula longer than 8,192 characters."""
    wb = openpyxl.load_workbook(corpus["nghi_duong"])
    longest = max(len(str(c.value)) for ws in wb for row in ws.iter_rows() for c in row
                  if isinstance(c.value, str) and c.value.startswith("="))
    assert longest < 8192


def test_blank_template_says_what_is_missing(corpus, form):
    book = pc.CalamineWorkbook.from_path(str(corpus["mau_trong"]))
    (errors, _), verdicts = _sheet(book.get_sheet_by_name(L.SHEET_CHECK).to_python())
    required = [f for f in (*form.metadata, *form.indicators) if f.required]
    assert errors == len(required)
    assert verdicts["tthc-tiep-nhan"] == "CHƯA ĐỦ SỐ LIỆU"



def test_failing_inputs_are_marked_live_with_the_annotated_copys_colours(corpus, form):
    from toolkit.check.annotate import FILL

    wb = openpyxl.load_workbook(corpus["tiep_nhan_sai"])
    ws = wb[L.SHEET_DATA]
    cell = read_submission(corpus["tiep_nhan_sai"], form).loc("HS_TIEP_NHAN").cell
    rules = [r for cf in ws.conditional_formatting if cell in str(cf.sqref) for r in cf.rules]
    colours = {r.dxf.fill.bgColor.rgb[-6:]: r.formula[0] for r in rules}
    assert colours.keys() == {FILL["error"].fgColor.rgb[-6:], FILL["warning"].fgColor.rgb[-6:]}
    assert f"'{L.SHEET_CHECK}'!" in colours[FILL["error"].fgColor.rgb[-6:]]
    docs = wb["Văn bản"]
    symbol = [r for cf in docs.conditional_formatting if str(cf.sqref).startswith("C") for r in cf.rules]
    assert symbol and all(r.dxf.fill.bgColor.rgb.endswith(FILL["error"].fgColor.rgb[-6:]) for r in symbol)


def test_kiem_tra_texts_name_columns_and_sheets_as_the_workbook_does(blank, built):
    """Every «…» the Kiểm tra sheet's texts quote (what each check checks, the notes) is a sheet name, or a row
    label, column header or listed value of the workbook, exactly (a required label's "(*)" aside); every check's
    text is a sentence: it ends with a full stop and has no formula signs (=, ≤, ×) left."""
    import re

    for path in (blank, *(p for p, _ in built.values())):
        wb = openpyxl.load_workbook(path)
        sheets = set(wb.sheetnames)
        cells = set(COLUMNS)  # the Kiểm tra sheet's own headers, not its texts
        listed = set()  # the values of the drop-down lists (sheet Danh mục)
        for ws in wb.worksheets:
            if ws.title != L.SHEET_CHECK:
                texts = {re.sub(r"\s*\(\*\)$", "", c.value.strip()) for row in ws.iter_rows() for c in row
                         if isinstance(c.value, str)}
                (listed if ws.sheet_state == "hidden" or ws.title == "Danh mục" else cells).update(texts)
        ws = wb[L.SHEET_CHECK]
        checks_text = [ws.cell(r, 2).value for r in range(HEADER_ROW + 2, ws.max_row + 1)]
        checks_text = [t for t in checks_text if isinstance(t, str) and t.strip()]
        notes = [c.value for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and "«" in c.value and c.column != 2 and not c.value.startswith("=")]
        assert len(checks_text) > 60 and notes
        # "cột «…»" names a column header, "sheet «…»" a sheet, any other «…» either
        quoted = {(w.casefold(), q) for t in checks_text + notes
                  for w, q in re.findall(r"(\w*)\s*«([^»]+)»", t) if not q.startswith("baocao ")}
        missing = {(w, q) for w, q in quoted
                   if q not in ({"cột": cells, "sheet": sheets}.get(w) or cells | sheets | listed)}
        assert not missing, (path.name, sorted(missing))
        for t in checks_text:
            assert t.rstrip().endswith(".") and not re.search(r"[=≤≥×]| : ", t), t
