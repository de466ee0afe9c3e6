"""Excel: everything written into or run inside Excel. The intake workbook (layout, validation, the live Kiểm tra
sheet whose formulas come from the rulebook), the macro-enabled .xlsm with its buttons, and the xlwings handlers of
those buttons, which edit a workbook only through its protection door. Takes the form and checked reports; gives
workbooks and the edits a button makes."""
from toolkit import exports

__getattr__, __all__ = exports(__name__, {
    "workbook": ("build",),
    "xlsm": ("NAME_RECEIPT", "NAME_STATUS", "build_all", "build_intake", "build_units"),
    "sheet_edit": ("Put", "apply"),
    "buttons": ("buttons", "bao_cao_tong_hop", "cong_van_don_doc", "kiem_tra", "kiem_tra_cai_dat", "tao_bao_cao",
                "tong_hop"),
})
