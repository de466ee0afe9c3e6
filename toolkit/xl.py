"""The name Excel's buttons call: `RunPython "import toolkit.xl; toolkit.xl.kiem_tra()"` in every .xlsm a unit holds.

The handlers live in toolkit.excel.buttons; this module keeps the workbooks already handed out working.
"""
from toolkit.excel import bao_cao_tong_hop, cong_van_don_doc, kiem_tra, kiem_tra_cai_dat, tao_bao_cao, tong_hop

__all__ = ["bao_cao_tong_hop", "cong_van_don_doc", "kiem_tra", "kiem_tra_cai_dat", "tao_bao_cao", "tong_hop"]
