"""Names and positions shared by the workbook writer and the reader.

The reader never relies on positions: it finds sheets by name, indicator rows by
the code in the code column and list columns by header text. The positions here
are only where the writer puts things.
"""

SHEET_GUIDE = "Hướng dẫn"
SHEET_META = "Thông tin chung"
SHEET_DATA = "Số liệu"
SHEET_CHECK = "Kiểm tra"
SHEET_LISTS = "Danh mục"

HEAD_CODE = "Mã"
HEAD_VALUE = "Giá trị"
HEAD_NOTE = "Ghi chú"
# The unit's word to the city on a figure flagged «bất thường» (a real but unusual value), beside it in its row:
# where the Kiểm tra sheet's link lands. Never printed in the unit's reports (a note may be quoted there).
HEAD_EXPLAIN = "Giải trình"

STAMP_FORM = "Mã biểu mẫu"
STAMP_VERSION = "Phiên bản"

# Rows above the first data row on Thông tin chung and Số liệu: title, subtitle, header.
HEADER_ROW = 3  # 0-based row index of the column headers
LIST_HEADER_ROW = 2  # 0-based row of the Excel Table header on list sheets

META_COLUMNS = (HEAD_CODE, "Nội dung", HEAD_VALUE, "Hướng dẫn nhập")
DATA_COLUMNS = (HEAD_CODE, "STT", "Chỉ tiêu", "Đơn vị tính", HEAD_VALUE, HEAD_NOTE, HEAD_EXPLAIN)

LIST_MAX_ROWS = 2000  # rows of a list table the Kiểm tra formulas look at
DATA_MAX_ROW = 1000  # last Số liệu row the Kiểm tra formulas look at


def list_ranges(form) -> dict[tuple[str, str], str]:
    """(list id, column code) -> absolute Excel range of that table column, for SUM() in formulas."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    out = {}
    for lst in form.lists:
        for ci, col in enumerate(lst.columns):
            top = xl_rowcol_to_cell(LIST_HEADER_ROW + 1, ci, True, True)
            bottom = xl_rowcol_to_cell(LIST_HEADER_ROW + LIST_MAX_ROWS, ci, True, True)
            out[(lst.id, col.code)] = f"'{lst.sheet}'!{top}:{bottom}"
    return out


def data_value_range() -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    col = DATA_COLUMNS.index(HEAD_VALUE)
    return (f"'{SHEET_DATA}'!{xl_rowcol_to_cell(HEADER_ROW + 1, col, True, True)}:"
            f"{xl_rowcol_to_cell(DATA_MAX_ROW, col, True, True)}")


def explain_cell(value_cell: str) -> str:
    """The «Giải trình» cell of the Số liệu row whose value is at `value_cell` (A1, "$E$57" or "E57")."""
    from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

    row, _ = xl_cell_to_rowcol(value_cell.replace("$", ""))
    return xl_rowcol_to_cell(row, DATA_COLUMNS.index(HEAD_EXPLAIN))
