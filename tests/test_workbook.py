import csv
import zipfile

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


def test_row_checks_are_shared_and_read_back_as_the_formula_of_each_row(built, form):
    """Each row check is stored once per run of its column; openpyxl, translating the shared formula to each
    cell as Excel does, reads exactly the formula the generator makes for that row."""
    from xlsxwriter.utility import xl_col_to_name

    from toolkit.definition import ROW_CHECKS
    from toolkit.excel import formulas as X
    from toolkit.excel.check_sheet import HELPER_COL

    path, _ = built["nghi_duong_6t_2026"]
    wb = openpyxl.load_workbook(path)
    hs = wb.defined_names["HS_QUA_HAN"].attr_text.replace("$", "").replace("'", "")
    with zipfile.ZipFile(path) as zf:
        sheet_xml = {ws.title: zf.read(f"xl/worksheets/sheet{i}.xml") for i, ws in enumerate(wb.worksheets, 1)}
    for list_id in dict.fromkeys(list_id for _, list_id, _, _ in ROW_CHECKS):
        lst = form.list(list_id)
        ws = wb[lst.sheet]
        letters = {c.code: xl_col_to_name(i) for i, c in enumerate(lst.columns)}
        top = L.LIST_HEADER_ROW + 2
        first = {code: f"{letter}{top}" for code, letter in letters.items()}
        cids = [cid for cid, lid, _, _ in ROW_CHECKS if lid == list_id]
        for k, cid in enumerate(cids):
            col = HELPER_COL + 1 + k
            assert ws.cell(top - 1, col).value == cid
            rows = [r for r in range(top, ws.max_row + 1) if ws.cell(r, col).value]
            assert len(rows) >= lst.blank_rows
            for r in rows:
                here = {code: f"{letter}{r}" for code, letter in letters.items()}
                want = X.row_formula(cid, here, first, form, "DM_LOAI_VAN_BAN_KY_HIEU", "DM_LOAI_VAN_BAN", hs)
                assert ws.cell(r, col).value == "=" + want, (lst.sheet, cid, r)
        # one text per check column (two where the first row differs), the other cells referring to it
        assert sheet_xml[lst.sheet].count(b'<f t="shared" ref=') == len(cids)
        assert sheet_xml[lst.sheet].count(b"<f>") <= len(cids)


def test_only_row_translations_are_shared(tmp_path):
    """A column of formulas is shared only where each is the first one moved down (a reference-like text inside a
    string is no reference, an absolute row stays); a different first formula, whole-row and relative
    whole-column ranges are written whole; LibreOffice and openpyxl read each cell's own formula."""
    import xlsxwriter

    from toolkit.excel.formula_sheet import FormulaSheet

    formulas = ['"A"&A1',  # a first row of its own
                'A2*2&"A1"', 'A3*2&"A1"', 'A4*2&"A1"',  # a run: the text inside the quotes is not a reference
                "SUM($A$1:A5)", "SUM($A$1:A6)",  # a run with an absolute start
                "SUM(1:1)", "SUM(2:2)",  # whole-row ranges: never shared
                "A9+A1", "A10+A1",  # not translations: A1 stays
                "COUNT(A:A)+0*A11", "COUNT(A:A)+0*A12"]  # a relative whole column: never shared
    path = tmp_path / "shared.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S", FormulaSheet)
    for r in range(len(formulas)):
        ws.write_number(r, 0, r + 1)
    ws.write_column(0, 1, formulas, [""] * len(formulas))
    wb.close()
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count('t="shared" ref=') == 2 and 'ref="B2:B4"' in xml and 'ref="B5:B6"' in xml
    assert [c.value for c in openpyxl.load_workbook(path)["S"]["B"]] == ["=" + f for f in formulas]
    out = soffice_convert(path, "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path)
    values = [r[1] for r in csv.reader(out.open(encoding="utf-8"))]
    assert values == ["A1", "4A1", "6A1", "8A1", "15", "21", "1", "2", "10", "11", "12", "12"]
