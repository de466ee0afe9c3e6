import json
from datetime import date

import openpyxl
import pytest
from conftest import run_cli

from toolkit.check.checker import check_submission, ratio_check
from toolkit.definition import layout as L
from toolkit.definition.findings import Report
from toolkit.definition.rulebook import checks
from toolkit.definition.rules import Rule, evaluate, parse
from toolkit.errors import BaocaoError
from toolkit.intake.reader import read_submission


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
        ["error", "vb-loai-ky-hieu"], ["warning", "thieu-so-lieu-thanh-phan"],
        ["warning", "thieu-so-lieu-thanh-phan"], ["warning", "ty-le-khong-khop"]]
    error = report.errors[0]
    assert error.message.startswith("Quyết định số 53/KH-UBND")
    rounding = next(w for w in report.warnings if w.code == "ty-le-khong-khop")
    assert "36,69%" in rounding.message and "36,70%" in rounding.message
    # the seed states the parts it has and leaves the others blank: said, never silenced
    assert [w.message for w in report.warnings if w.code == "thieu-so-lieu-thanh-phan"] == [
        "Hồ sơ tiếp nhận trong kỳ để trống; nếu đủ thì phải là 6.451",
        "Giải quyết trước hạn và đúng hạn, Giải quyết quá hạn để trống; nếu đủ thì tổng phải là 6.395"]


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


@pytest.mark.parametrize("missing, values, verdict, need", [
    ("unknown", {"A": 60, "B": 10}, "blank", 50),  # C blank: it would have to be 50
    ("unknown", {"A": 5, "B": 10}, "fail", None),  # the given part is already above the total
    ("unknown", {"A": 10, "B": 10}, "ok", None),  # a blank part is 0
    ("unknown", {"A": 60}, "skip", None),  # no part entered: not enough data
    ("unknown", {"B": 10, "C": 5}, "skip", None),  # no total
    ("unknown", {}, "skip", None),
    ("skip", {"A": 60, "B": 10}, "skip", None),  # the definition asks to wait for every value
    ("unknown", {"A": 60, "B": 10, "C": 50}, "ok", None),
    ("unknown", {"A": 61, "B": 10, "C": 50}, "fail", None),
])
def test_a_blank_value_is_unknown_and_at_least_zero(missing, values, verdict, need):
    rule = Rule("r", "compare", "error", "", missing=missing, tree=parse("A == B + C"))
    out = evaluate(rule, lambda n: values.get(n.code))
    assert (out.verdict, out.need) == (verdict, need)


@pytest.mark.parametrize("expr, values, verdict, at_least", [
    ("A + B <= T", {"A": 30, "T": 20}, "fail", False),  # parts already above: blank B cannot help
    ("A + B <= T", {"A": 10, "T": 20}, "ok", False),
    ("A <= B + C", {"A": 30, "B": 20}, "blank", True),  # C would have to be at least 10
])
def test_blank_parts_of_inequalities(expr, values, verdict, at_least):
    out = evaluate(Rule("r", "compare", "error", "", tree=parse(expr)), lambda n: values.get(n.code))
    assert out.verdict == verdict and (out.at_least == at_least or verdict != "blank")


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


def test_every_check_has_one_row(form):
    ids = [c.id for c in checks(form)]
    assert len(set(ids)) == len(ids)
    assert all(c.text and c.text.lstrip("«")[0].isupper() and "==" not in c.text and "SUM(" not in c.text
               for c in checks(form))


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
