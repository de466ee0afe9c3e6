import csv
import json
from datetime import date

import openpyxl
import pytest

from conftest import run_cli, soffice
from toolkit import layout as L
from toolkit.checker import check_submission, ratio_check, sheet_rules, sheet_verdicts
from toolkit.errors import BaocaoError
from toolkit.findings import Report
from toolkit.reader import read_submission
from toolkit.rules import Rule, evaluate, parse
from toolkit.rules_excel import COLUMNS


def _report(path, previous=None):
    return Report(check_submission(read_submission(path), previous=previous))


def test_nghi_duong_flags_the_seed_mistakes_and_nothing_else(built):
    report = _report(built["nghi_duong_6t_2026"][0])
    assert report.flatten(["code", "where"]) == [
        ["vb-loai-ky-hieu", "Văn bản!C15"],  # Kế hoạch số 55/QĐ-UBND
        ["vb-loai-ky-hieu", "Văn bản!C27"],  # Nghị quyết số 20/NQHĐND (symbol lacks its hyphen)
        ["vb-ngay-sau-bao-cao", "Văn bản!D31"],  # Quyết định số 1159/QĐ-UBND ngày 26/12/2026
    ]
    messages = [f.message for f in report.findings]
    assert messages[0].startswith("Kế hoạch số 55/QĐ-UBND ngày 26/01/2026")
    assert messages[2].startswith("Quyết định số 1159/QĐ-UBND ngày 26/12/2026")


def test_nguyen_luong_bang_flags_53_kh_and_the_rounding(built):
    report = _report(built["nguyen_luong_bang_q1_2026"][0])
    assert sorted(report.flatten(["severity", "code"])) == [
        ["error", "vb-loai-ky-hieu"], ["warning", "ty-le-khong-khop"]]
    error = report.errors[0]
    assert error.message.startswith("Quyết định số 53/KH-UBND")
    assert "36,69%" in report.warnings[0].message and "36,70%" in report.warnings[0].message


@pytest.mark.parametrize("reported, num, den, expected", [
    (99.2, 5792, 5839, "ok"),  # seed 000: 99,195...% written 99,2%
    (96.14, 324, 337, "ok"),
    (36.70, 99385, 270819, "ok"),
    (36.69, 99385, 270819, "warning"),  # truncated, not rounded half-up
    (98.85, 6395, 6469, "warning"),
    (29, 29, 379, "error"),  # seed 001: a ratio label holding a count
])
def test_ratio_tolerance_is_round_half_up(reported, num, den, expected):
    assert ratio_check(reported, num, den) == expected


def test_expressions_are_parsed_never_evaluated():
    with pytest.raises(BaocaoError):
        parse("__import__('os').system('true') == 1")
    with pytest.raises(BaocaoError):
        parse("HS_TIEP_NHAN + ")
    tree = parse("HS_TIEP_NHAN == (HS_TRONG_KY + HS_KY_TRUOC) * 1")
    values = {"HS_TIEP_NHAN": 5892, "HS_TRONG_KY": 5805, "HS_KY_TRUOC": 87}
    rule = Rule("r", "compare", "error", "", tree=tree)
    assert evaluate(rule, lambda n: values.get(n.code)).verdict == "ok"


@pytest.mark.parametrize("missing, values, verdict", [
    ("skip_any", {"A": 5, "B": 5}, "skip"),
    ("skip_all", {"A": 5, "B": 5}, "ok"),
    ("skip_all", {}, "skip"),
    ("zero", {}, "ok"),
    ("zero", {"A": 6, "B": 5}, "fail"),
])
def test_missing_value_strategies(missing, values, verdict):
    rule = Rule("r", "compare", "error", "", missing=missing, tree=parse("A == B + C"))
    assert evaluate(rule, lambda n: values.get(n.code)).verdict == verdict


@pytest.mark.parametrize("kind, values, verdict", [
    ("pair", {"A": 1}, "fail"), ("pair", {"A": 1, "B": 2}, "ok"), ("pair", {"B": 2}, "ok"),
    ("exclusive", {"A": 1, "B": 2}, "fail"), ("exclusive", {"A": 1}, "ok"),
])
def test_pairs(kind, values, verdict):
    rule = Rule("r", kind, "error", "", fields=("A", "B"))
    assert evaluate(rule, lambda n: values.get(n.code)).verdict == verdict


def _edit(src, out, values=None, meta=None, lists=None):
    """Copy `src` with indicator values (by code), metadata and list cells changed."""
    wb = openpyxl.load_workbook(src)
    for sheet, changes in ((L.SHEET_DATA, values or {}), (L.SHEET_META, meta or {})):
        ws = wb[sheet]
        rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
        col = 5 if sheet == L.SHEET_DATA else 3
        for code, value in changes.items():
            ws.cell(rows[code], col).value = value
    for (sheet, cell), value in (lists or {}).items():
        wb[sheet][cell] = value
    wb.save(out)
    return out


def test_cross_period_and_cqtt_and_register(built, tmp_path):
    nd = built["nghi_duong_6t_2026"][0]
    prev = _edit(nd, tmp_path / "prev.xlsx", values={"HS_DANG_GQ": 80})
    report = _report(nd, previous=read_submission(prev))
    assert ["ky-truoc-khong-khop", "Số liệu!" + read_submission(nd).loc("HS_KY_TRUOC").cell] in \
        report.flatten(["code", "where"])
    sub = read_submission(nd)
    tthc_row = next(r for r in sub.lists["cqtt"] if "thủ tục hành chính" in r.get("tieu_chi_thanh_phan"))
    score_cell = tthc_row.cells["diem_tu_cham"].loc.cell
    dated = [r for r in sub.lists["van_ban"] if isinstance(r.get("ngay"), date)]
    first = dated[0]
    dup_row = next(r for r in dated if r.get("ngay").year == first.get("ngay").year
                   and r.get("ngay") != first.get("ngay")).cells["ngay"].loc
    edited = _edit(nd, tmp_path / "cqtt.xlsx", lists={
        ("Chính quyền thân thiện", score_cell): 5,
        ("Văn bản", "B" + dup_row.cell[1:]): first.get("so"),
        ("Văn bản", "C" + dup_row.cell[1:]): first.get("ky_hieu"),
        ("Văn bản", "A" + dup_row.cell[1:]): first.get("loai"),
    })
    codes = [f[0] for f in _report(edited).flatten(["code"])]
    assert "cqtt-tthc-qua-han" in codes  # 05 overdue files yet the "100% đúng hạn" criterion scores full
    assert "vb-trung-so-khac-ngay" in codes


def test_every_sheet_rule_has_a_formula(form):
    rules = sheet_rules(form)
    assert len({r.id for r in rules}) == len(rules)
    assert all(r.formula.startswith("=IF(") for r in rules)


BROKEN = {
    "tiep_nhan": {"values": {"HS_TIEP_NHAN": 5000}},
    "ty_le_sai": {"values": {"TL_HS_DUNG_HAN": 98}},
    "ty_le_lam_tron": {"values": {"TL_HS_DUNG_HAN": 99.19}},
    "am_va_co_mat": {"values": {"HS_RUT": -1, "CC_CO_MAT": 45}},
    "thieu_bat_buoc": {"values": {"HS_DA_GQ": None}, "meta": {"NAM_BAO_CAO": None}},
    "ngay_ky_som": {"meta": {"NGAY_BAO_CAO": date(2026, 6, 1)}},
    "nguoi_ky_khong_chuc_vu": {"meta": {"CHUC_VU_KY": None}},
    "qua_han_le": {"values": {"HS_QUA_HAN": 7}},
}


def test_libreoffice_verdicts_equal_python_rule_by_rule(built, tmp_path, form):
    cases = {stem: path for stem, (path, _) in built.items()}
    nd = built["nghi_duong_6t_2026"][0]
    for name, edit in BROKEN.items():
        cases[name] = _edit(nd, tmp_path / f"{name}.xlsx", **edit)
    cases["ns_khong_ke_hoach"] = _edit(built["nguyen_luong_bang_q1_2026"][0], tmp_path / "ns.xlsx",
                                       values={"NS_THU_KH": None})
    outdir = tmp_path / "lo"
    sheet_no = 1 + [L.SHEET_GUIDE, L.SHEET_META, L.SHEET_DATA, *[lst.sheet for lst in form.lists],
                    L.SHEET_CHECK].index(L.SHEET_CHECK)
    soffice(*cases.values(), outdir=outdir,
            target=f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet_no}")
    seen_fail = set()
    for name, path in cases.items():
        rows = list(csv.reader((outdir / f"{path.stem}-{L.SHEET_CHECK}.csv").open(encoding="utf-8")))
        head = rows.index(list(COLUMNS))
        body = rows[head + 1:]
        body = body[:next(i for i, r in enumerate(body) if not r or not r[0])]  # rules end at the blank row
        excel = {r[0]: r[COLUMNS.index("Kết quả")] for r in body}
        python = sheet_verdicts(read_submission(path), form)
        assert excel == python, (name, {k: (excel.get(k), v) for k, v in python.items() if excel.get(k) != v})
        seen_fail |= {k for k, v in python.items() if v in ("LỖI", "CẢNH BÁO")}
    # the broken copies really exercise failures, not only "OK"
    assert {"tthc-tiep-nhan", "tthc-can-doi", "ty-le-tl-hs-dung-han", "so-am", "cc-co-mat", "bat-buoc-hs-da-gq",
            "bat-buoc-nam-bao-cao", "ky-den-ngay-ky", "nguoi-ky-chuc-vu", "tthc-qua-han-linh-vuc", "ns-cap",
            "ty-le-tl-thu-ns"} <= seen_fail


def test_cli_exit_codes_json_and_annotated_copy(built, blank, tmp_path):
    nd = built["nghi_duong_6t_2026"][0]
    before = nd.read_bytes()
    out = tmp_path / "ghi chú.xlsx"
    result = run_cli("kiem-tra", str(nd), "--json", "--ghi-ra", str(out))
    assert result.returncode == 1, result.stderr
    [report] = json.loads(result.stdout)
    assert report["exit_code"] == 1 and report["valid"] is False and report["refusal"] is None
    assert {"code", "severity", "file", "sheet", "cell", "message"} <= set(report["findings"][0])
    assert {p["severity"] for p in report["findings"]} == {"error"}
    assert nd.read_bytes() == before
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Lỗi phát hiện"
    links = [c.hyperlink.location for c in wb["Lỗi phát hiện"]["B"][1:] if c.hyperlink]
    assert "'Văn bản'!C15" in links
    assert wb["Văn bản"]["C15"].comment is not None
    assert wb["Văn bản"]["C15"].fill.fgColor.rgb.endswith("FFC7CE")
    clean = _edit(nd, tmp_path / "sach.xlsx", lists={("Văn bản", "C15"): "KH-UBND", ("Văn bản", "C27"): "NQ-HĐND",
                                                     ("Văn bản", "D31"): date(2025, 12, 26)})
    ok = run_cli("kiem-tra", str(clean))
    assert ok.returncode == 0, ok.stdout
    assert "0 lỗi" in ok.stdout
    refused = run_cli("kiem-tra", str(clean), str(tmp_path / "khong_co.xlsx"))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
