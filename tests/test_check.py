"""The check verb: one call from a file or a grid of cells to a Report, used by every front end."""
import json
import re

import python_calamine as pc
from conftest import ROOT

from toolkit.check.verb import check_file, check_grid


def _grid(path):
    book = pc.CalamineWorkbook.from_path(str(path))
    return {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}


def test_check_file_gives_findings_valid_and_exit_code(built, form):
    report = check_file(built["nghi_duong_6t_2026"][0], form)
    assert report.submission.get("HS_TIEP_NHAN") == 5892 and not report.refusal
    assert not report.valid and report.exit_code == 1
    assert ["vb-loai-ky-hieu", "Văn bản!C15"] in report.flatten(["code", "where"])
    payload = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    assert payload["exit_code"] == 1 and payload["errors"] == len(report.errors) and payload["refusal"] is None
    assert len(payload["findings"]) == len(report.findings)


def test_a_file_that_cannot_be_read_is_a_refusal_in_the_report(tmp_path, form):
    bad = tmp_path / "khong_phai.xlsx"
    bad.write_text("chữ", encoding="utf-8")
    report = check_file(bad, form)
    assert report.refusal.startswith(str(bad)) and "không phải tệp Excel" in report.refusal
    assert report.exit_code == 2 and not report.valid and report.findings == [] and report.submission is None
    assert report.as_dict()["refusal"] == report.refusal


def test_check_grid_gives_the_same_report_as_the_file(built, form):
    path = built["nghi_duong_6t_2026"][0]
    from_file = check_file(path, form)
    from_grid = check_grid(_grid(path), form, name=str(path))
    assert from_grid.flatten(["code", "cell", "message"]) == from_file.flatten(["code", "cell", "message"])
    grid = _grid(path)
    del grid["Số liệu"]
    refused = check_grid(grid, form, name="phieu.xlsx")
    assert refused.exit_code == 2 and "thiếu sheet «Số liệu»" in refused.refusal


def test_previous_period_may_be_a_file_or_a_lookup(built, form):
    nd, nlb = built["nghi_duong_6t_2026"][0], built["nguyen_luong_bang_q1_2026"][0]
    by_path = check_file(nd, form, previous=nlb).flatten(["code"])
    by_lookup = check_file(nd, form, previous=lambda sub: check_file(nlb, form).submission).flatten(["code"])
    assert ["ky-truoc-khong-khop"] in by_path and by_path == by_lookup


def test_only_the_check_verb_calls_the_checker():
    callers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "toolkit").rglob("*.py")
               if re.search(r"\bcheck_submission\(", p.read_text(encoding="utf-8"))]
    assert sorted(callers) == ["toolkit/check/checker.py", "toolkit/check/verb.py"]
