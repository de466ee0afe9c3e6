import zipfile
from datetime import date

import openpyxl
import pytest
from conftest import run_cli

from toolkit.definition import layout as L
from toolkit.demo import sample_files
from toolkit.errors import BaocaoError
from toolkit.intake.reader import read_submission

SAMPLES = [f.stem for f in sample_files()]


def test_there_are_two_samples():
    assert SAMPLES == ["nghi_duong_6t_2026", "nguyen_luong_bang_q1_2026"]


@pytest.mark.parametrize("stem", SAMPLES)
def test_sample_reads_back_exactly_with_cells(built, form, stem):
    path, data = built[stem]
    sub = read_submission(path)
    assert sub.problems == []
    wb = openpyxl.load_workbook(path)
    expected = data["so_lieu"]
    got = {k: v.value for k, v in sub.values.items() if v.value is not None}
    assert got == expected
    for code, value in sub.values.items():
        sheet, cell = value.loc.sheet, value.loc.cell
        row = wb[sheet][cell].row
        assert wb[sheet].cell(row, 1).value == code  # the cell is on the row of its code
        stored = expected.get(code)
        if stored is not None and form.field(code).type == "percent":
            stored = pytest.approx(stored / 100)  # a percent cell holds the fraction, shown as 99,20%
        assert wb[sheet][cell].value == stored
    for code, value in data["thong_tin"].items():
        assert sub.get(code) == (value.date() if hasattr(value, "date") and not isinstance(value, date)
                                 else value), code
    for list_id, rows in data.get("danh_sach", {}).items():
        read = sub.lists[list_id]
        assert len(read) == len(rows), list_id
        for want, row in zip(rows, read):
            for col, value in want.items():
                assert row.get(col) == (value if value != "" else None), (list_id, row.number, col)


def _set(path, tmp_path, edits, name="edited.xlsx"):
    wb = openpyxl.load_workbook(path)
    for sheet, cell, value in edits:
        wb[sheet][cell] = value
    out = tmp_path / name
    wb.save(out)
    return out


def _row_of(path, code):
    ws = openpyxl.load_workbook(path)[L.SHEET_DATA]
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == code)


def test_vietnamese_number_text_is_read_right_or_reported(blank, tmp_path):
    rows = {c: _row_of(blank, c) for c in ("HS_TIEP_NHAN", "TL_HS_DUNG_HAN", "HS_DA_GQ", "NS_THU_TH",
                                            "HS_RUT", "HS_TU_CHOI")}
    path = _set(blank, tmp_path, [
        (L.SHEET_DATA, f"E{rows['HS_TIEP_NHAN']}", "5.892"),
        (L.SHEET_DATA, f"E{rows['TL_HS_DUNG_HAN']}", "99,2%"),
        (L.SHEET_DATA, f"E{rows['NS_THU_TH']}", "99.385,5"),
        (L.SHEET_DATA, f"E{rows['HS_DA_GQ']}", "1,234"),
        (L.SHEET_DATA, f"E{rows['HS_RUT']}", "hai mươi"),
        (L.SHEET_DATA, f"E{rows['HS_TU_CHOI']}", "13%"),
    ])
    sub = read_submission(path)
    assert sub.get("HS_TIEP_NHAN") == 5892
    assert sub.get("TL_HS_DUNG_HAN") == 99.2
    assert sub.get("NS_THU_TH") == 99385.5
    assert sub.get("HS_DA_GQ") is None and sub.get("HS_RUT") is None and sub.get("HS_TU_CHOI") is None
    problems = {p.loc.cell: p.message for p in sub.problems}
    assert "không rõ nghĩa" in problems[f"E{rows['HS_DA_GQ']}"]
    assert "không phải là số" in problems[f"E{rows['HS_RUT']}"]
    assert "không phải tỷ lệ phần trăm" in problems[f"E{rows['HS_TU_CHOI']}"]
    assert sub.values["HS_TIEP_NHAN"].raw == "5.892"


def test_inserted_rows_and_moved_list_columns_do_not_break_reading(built, tmp_path):
    path, data = built["nghi_duong_6t_2026"]
    wb = openpyxl.load_workbook(path)
    ws = wb[L.SHEET_DATA]
    ws.insert_rows(8, amount=3)
    ws["C8"] = "Dòng người dùng chèn thêm"
    lst = wb["Hồ sơ quá hạn"]
    for r in range(L.LIST_HEADER_ROW + 1, lst.max_row + 1):  # swap columns A and C, headers included
        a, c = lst.cell(r, 1).value, lst.cell(r, 3).value
        lst.cell(r, 1).value, lst.cell(r, 3).value = c, a
    wb.save(tmp_path / "moved.xlsx")
    sub = read_submission(tmp_path / "moved.xlsx")
    assert {k: v.value for k, v in sub.values.items() if v.value is not None} == data["so_lieu"]
    assert sub.values["HS_TIEP_NHAN"].loc.cell == f"E{_row_of(path, 'HS_TIEP_NHAN') + 3}"
    rows = sub.lists["ho_so_qua_han"]
    assert [(r.get("linh_vuc"), r.get("so_ho_so")) for r in rows] == \
        [(r["linh_vuc"], r["so_ho_so"]) for r in data["danh_sach"]["ho_so_qua_han"]]
    assert rows[0].cells["linh_vuc"].loc.cell.startswith("C")


def _ods(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    return path


def _refusals(blank, tmp_path):
    other_form = _set(blank, tmp_path, [(L.SHEET_LISTS, "B1", "MAU-KHAC")], "other_form.xlsx")
    other_version = _set(blank, tmp_path, [(L.SHEET_LISTS, "B2", "0.9")], "other_version.xlsx")
    wb = openpyxl.load_workbook(blank)
    del wb[L.SHEET_DATA]
    wb.save(tmp_path / "no_data_sheet.xlsx")
    wb = openpyxl.load_workbook(blank)
    wb[L.SHEET_META].title = "Thong tin"
    wb.save(tmp_path / "renamed_sheet.xlsx")
    plain = openpyxl.Workbook()
    plain.save(tmp_path / "plain.xlsx")
    (tmp_path / "text.xlsx").write_text("MA_DVHC;HS_TIEP_NHAN\n11713;5892\n", encoding="utf-8")
    (tmp_path / "empty.xlsx").write_bytes(b"")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (tmp_path / "half.xlsx").write_bytes(blank.read_bytes()[: blank.stat().st_size // 2])
    return {
        "other_form": (other_form, "MAU-KHAC"),
        "other_version": (other_version, "phiên bản 0.9"),
        "no_data_sheet": (tmp_path / "no_data_sheet.xlsx", "thiếu sheet «Số liệu»"),
        "renamed_sheet": (tmp_path / "renamed_sheet.xlsx", "thiếu sheet «Thông tin chung»"),
        "plain": (tmp_path / "plain.xlsx", "thiếu sheet «Danh mục»"),
        "text": (tmp_path / "text.xlsx", "không phải tệp Excel"),
        "empty": (tmp_path / "empty.xlsx", "tệp rỗng"),
        "xls": (tmp_path / "old.xls", "Excel 97-2003"),
        "ods": (_ods(tmp_path / "calc.ods"), "OpenDocument"),
        "truncated": (tmp_path / "half.xlsx", "tệp hỏng"),
        "missing": (tmp_path / "khong_co.xlsx", "không tìm thấy tệp"),
        "folder": (tmp_path, "không phải là tệp"),
    }


REFUSALS = ["other_form", "other_version", "no_data_sheet", "renamed_sheet", "plain", "text", "empty", "xls",
            "ods", "truncated", "missing", "folder"]


@pytest.mark.parametrize("case", REFUSALS)
def test_refusal_is_vietnamese_and_names_the_file(blank, tmp_path, case):
    path, expected = _refusals(blank, tmp_path)[case]
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(BaocaoError) as err:
        read_submission(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)
    if before is not None:
        assert path.read_bytes() == before  # the input is never modified


@pytest.mark.parametrize("case", ["other_version", "text", "xls", "missing"])
def test_cli_exits_2_without_traceback(blank, tmp_path, case):
    path, expected = _refusals(blank, tmp_path)[case]
    result = run_cli("doc", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr and result.stderr.startswith("Lỗi:")
