import csv

import openpyxl
from conftest import ROOT, soffice_convert

from toolkit.definition import layout as L
from toolkit.demo import TEMPLATE_NAME
from toolkit.excel.workbook import build
from toolkit.regenerate import committed_workbooks


def test_committed_workbooks_are_what_the_generator_writes_today(tmp_path, form):
    from toolkit.intake.datafile import load_data

    for target, data_file in committed_workbooks(ROOT).items():
        fresh = build(form, tmp_path / target.name, load_data(data_file, form) if data_file else None)
        assert target.exists(), f"{target} is not committed; run python -m toolkit.regenerate"
        assert target.read_bytes() == fresh.read_bytes(), \
            f"{target.name} differs from the generator's output; run python -m toolkit.regenerate"


def test_generation_is_reproducible(tmp_path, form):
    a = build(form, tmp_path / "a.xlsx")
    b = build(form, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()


def test_sheets_stamp_and_hidden_lists(blank):
    wb = openpyxl.load_workbook(blank)
    assert wb.sheetnames == [L.SHEET_GUIDE, L.SHEET_META, L.SHEET_DATA, "Văn bản", "Hồ sơ quá hạn",
                             "Chính quyền thân thiện", "Nội dung", "Báo cáo", "Số liệu riêng", L.SHEET_CHECK,
                             L.SHEET_LISTS]
    lists = wb[L.SHEET_LISTS]
    assert lists.sheet_state == "hidden"
    assert (lists["A1"].value, lists["B1"].value) == (L.STAMP_FORM, "BAOCAO-CCHC-XA")
    assert (lists["A2"].value, lists["B2"].value) == (L.STAMP_VERSION, "1.0")
    assert wb.custom_doc_props["baocao_form_id"].value == "BAOCAO-CCHC-XA"


def _validated_cells(ws):
    cells = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            for row in ws.iter_rows(min_row=rng.min_row, max_row=rng.max_row, min_col=rng.min_col,
                                    max_col=rng.max_col):
                for c in row:
                    cells[c.coordinate] = dv
    return cells


def test_every_input_cell_is_validated_unlocked_and_named(blank, form):
    wb = openpyxl.load_workbook(blank)
    ws = wb[L.SHEET_DATA]
    assert ws.protection.sheet
    validated = _validated_cells(ws)
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    for ind in form.indicators:
        cell = ws.cell(rows[ind.code], 5)
        dv = validated[cell.coordinate]
        assert not cell.protection.locked, ind.code
        assert ws.cell(rows[ind.code], 3).protection.locked, ind.code
        assert dv.error and dv.prompt and dv.errorTitle == "Giá trị không hợp lệ"
        expected = {"count": "whole", "percent": "decimal", "money": "decimal", "decimal": "decimal",
                    "date": "date"}[ind.type]
        assert dv.type == expected, ind.code
        if ind.type == "percent":  # the cell holds the fraction: 100% is 1
            assert (dv.formula1, dv.formula2) == ("0.0", "1.0") or ind.max != 100
            assert cell.number_format.endswith("%")
        name = wb.defined_names[ind.code]
        assert name.attr_text == f"'{L.SHEET_DATA}'!$E${rows[ind.code]}"
    meta = wb[L.SHEET_META]
    mvalid = _validated_cells(meta)
    for r in range(L.HEADER_ROW + 2, L.HEADER_ROW + 2 + len(form.metadata)):
        assert f"C{r}" in mvalid and not meta[f"C{r}"].protection.locked
    assert mvalid[f"C{L.HEADER_ROW + 2}"].type == "list"


def test_lists_are_excel_tables_with_dropdowns(blank, form):
    wb = openpyxl.load_workbook(blank)
    for lst in form.lists:
        ws = wb[lst.sheet]
        assert lst.table in ws.tables
        table = ws.tables[lst.table]
        assert [c.name for c in table.tableColumns] == [c.label for c in lst.columns]
        validated = _validated_cells(ws)
        first_data_row = L.LIST_HEADER_ROW + 2
        for ci, col in enumerate(lst.columns, start=1):
            dv = validated[ws.cell(first_data_row, ci).coordinate]
            if col.type == "choice":
                assert dv.type == "list" and dv.formula1.startswith("DM_"), col.code


def test_template_opens_in_libreoffice(tmp_path):
    template = ROOT / "workbooks" / TEMPLATE_NAME
    pdf = soffice_convert(template, "pdf", tmp_path)
    assert pdf.stat().st_size > 10_000
    data = soffice_convert(template, 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,'
                           'false,3', tmp_path)
    # sheet 3 is Số liệu: LibreOffice sees the codes and Vietnamese labels where Excel would
    rows = list(csv.reader(data.open(encoding="utf-8")))
    codes = [r[0] for r in rows if r]
    assert "HS_TIEP_NHAN" in codes and "CC_BIEN_CHE" in codes
    assert any("Tổng số hồ sơ tiếp nhận" in c for r in rows for c in r)
