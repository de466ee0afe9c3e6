"""Deterministic synthetic unit workbooks for the demo and the benchmark (clearly labelled demo data).

Every figure comes from a random generator seeded by unit, period and year, and
satisfies the TTHC identities of the form (tiếp nhận = trong kỳ + kỳ trước, ...);
percentages are the ratio of their counts rounded half-up. File names start with
DU_LIEU_MAU_ and the workbook says "Dữ liệu mô phỏng" (người lập, địa danh, a note).

Speed: `build()` takes about 60 ms a workbook (data validation, defined names, the
check sheet), i.e. more than 3 minutes for 3,321 files. `Patcher` therefore builds
one workbook per period with `build()`, using sentinel numbers and strings, and
writes each unit's file by replacing the sentinels in the XML parts of that zip
(a few ms a file). The result is the same workbook `build()` would write for the
unit's data (a test compares the two read back).
"""
from __future__ import annotations

import os
import random
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from toolkit.atomic import atomic_path
from toolkit.form import Form, Unit, load_form
from toolkit.vnformat import ratio_percent
from toolkit.workbook import build

DEMO_NOTE = "Dữ liệu mô phỏng, không phải số liệu thật"
PREFIX = "DU_LIEU_MAU_"
TOPICAL_MONTHS = (1, 6)  # a topical report (no months in the definition) is given a half-year of data
_SENTINEL = 7_000_000_000
_NUM = re.compile(rb"<v>(7000\d{4}(?:\d\d)?)</v>")  # a sentinel; a percentage's (stored / 100) has 8 digits
_STR = re.compile("§([A-Z_]+)§".encode())


def window(form: Form, period: str, year: int) -> tuple[date, date]:
    """The data window by the usual 15th-to-14th convention (see DOMAIN.md): Quý I runs 15/12 – 14/3."""
    first, last = form.period(period).months or TOPICAL_MONTHS
    start = date(year - 1, 12, 15) if first == 1 else date(year, first - 1, 15)
    return start, date(year, last, 14)


def file_name(unit: Unit, period: str, year: int, copy: int = 0) -> str:
    return f"{PREFIX}{unit.code}_{period}_{year}" + (f"_lan{copy + 1}" if copy else "") + ".xlsx"


def unit_values(form: Form, unit_code: str, period: str, year: int, broken: bool = False) -> dict[str, Any]:
    """Every numeric indicator of one unit, consistent with the form's identities."""
    rnd = random.Random(f"{unit_code}/{period}/{year}")
    first, last = form.period(period).months or TOPICAL_MONTHS
    months = last - first + 1
    r = rnd.randint
    v: dict[str, Any] = {}
    v["VB_QD"], v["VB_KH"], v["VB_CV"], v["VB_TB"], v["VB_TTR"], v["VB_KHAC"] = (
        r(2, 12) * months // 3, r(1, 6), r(3, 20), r(0, 5), r(0, 3), r(0, 4))
    v["VB_TONG"] = sum(v[k] for k in ("VB_QD", "VB_KH", "VB_CV", "VB_TB", "VB_TTR", "VB_KHAC"))
    parts = [r(5, 20), r(3, 10), r(2, 8), r(1, 6), r(0, 1)]
    for k, n in zip(("KH_NV_HOAN_THANH", "KH_NV_THUONG_XUYEN", "KH_NV_DANG_TH", "KH_NV_CHUA_DEN_HAN",
                     "KH_NV_QUA_HAN"), parts):
        v[k] = n
    v["KH_NV_TONG"] = sum(parts)
    parts = [r(5, 30), r(0, 2), r(0, 8), r(0, 1)]
    for k, n in zip(("NV_TP_HT_DUNG_HAN", "NV_TP_HT_QUA_HAN", "NV_TP_DANG_TH", "NV_TP_QUA_HAN"), parts):
        v[k] = n
    v["NV_TP_TONG"] = sum(parts)
    v["KT_CUOC"] = r(0, 3)
    v["KT_LUOT"], v["KT_DON_VI"] = v["KT_CUOC"] * r(1, 3), v["KT_CUOC"] * r(1, 4)
    for k, hi in (("TT_TIN_CONG_TTDT", 80), ("TT_TIN_PHAT_THANH", 80), ("TT_TIN_MXH", 120), ("TT_TO_ROI", 800),
                  ("TT_LUOT_TIEP_CAN", 9000), ("TT_PANO", 20), ("TT_HOI_NGHI", 6)):
        v[k] = r(0, hi)
    v["TC_VBQPPL"], v["TC_VB_KIEM_TRA"] = r(0, 2), r(0, 10)
    v["TC_VB_RA_SOAT"], v["TC_SAI_SOT"] = r(0, 15), r(0, min(2, v["TC_VB_KIEM_TRA"]))
    v["DVC_TOAN_TRINH"], v["DVC_MOT_PHAN"] = r(180, 240), r(120, 180)
    v["TTHC_TONG"] = v["DVC_TOAN_TRINH"] + v["DVC_MOT_PHAN"]
    v["TTHC_CONG_KHAI"] = v["TTHC_TONG"]
    # TTHC: the Biểu 06/VPCP/KSTT identities, built from the parts up.
    trong_ky = r(300, 2800) * months // 3
    v["HS_TRONG_KY"], v["HS_KY_TRUOC"] = trong_ky, r(0, 60)
    v["HS_TIEP_NHAN"] = trong_ky + v["HS_KY_TRUOC"]
    v["HS_TRUC_TUYEN"] = round(trong_ky * rnd.uniform(0.80, 0.999))
    v["HS_BUU_CHINH"] = r(0, min(15, trong_ky - v["HS_TRUC_TUYEN"]))
    v["HS_TRUC_TIEP"] = trong_ky - v["HS_TRUC_TUYEN"] - v["HS_BUU_CHINH"]
    dang = r(0, min(80, v["HS_TIEP_NHAN"] // 10))
    v["HS_DANG_GQ"], v["HS_DANG_QUA_HAN"] = dang, r(0, min(2, dang))
    v["HS_CHO_BO_SUNG"] = r(0, dang - v["HS_DANG_QUA_HAN"])
    v["HS_DANG_TRONG_HAN"] = dang - v["HS_DANG_QUA_HAN"] - v["HS_CHO_BO_SUNG"]
    da_gq = v["HS_TIEP_NHAN"] - dang
    v["HS_DA_GQ"], v["HS_QUA_HAN"], v["HS_TU_CHOI"], v["HS_RUT"] = da_gq, r(1, 6), r(0, 20), r(0, 12)
    on_time = da_gq - v["HS_QUA_HAN"] - v["HS_TU_CHOI"] - v["HS_RUT"]
    v["HS_TRUOC_HAN"] = round(on_time * rnd.uniform(0.85, 0.99))
    v["HS_DUNG_HAN"] = on_time - v["HS_TRUOC_HAN"]
    v["HS_TRUOC_DUNG_HAN"] = on_time
    v["HS_PHI_DIA_GIOI"] = r(0, 30)
    v["PAKN_NHAN"] = r(0, 3)
    v["PAKN_DA_XU_LY"] = r(0, v["PAKN_NHAN"])
    v["TL_HAI_LONG"] = round(rnd.uniform(95, 100), 1)
    v["HS_SO_HOA"] = round(trong_ky * rnd.uniform(0.6, 0.95))
    v["HS_KQ_DIEN_TU"] = round(trong_ky * rnd.uniform(0.6, 0.95))
    v["HS_TAI_SU_DUNG"] = r(0, v["HS_SO_HOA"] // 4)
    for k, lo, hi in (("BM_PHONG_CM", 3, 4), ("BM_DVSN", 1, 3), ("BM_TRUONG_CL", 3, 12), ("BM_NHAN_LUC_YTE", 5, 20),
                      ("BM_THON_TDP", 8, 40)):
        v[k] = r(lo, hi)
    v["CC_BIEN_CHE"], v["VC_BIEN_CHE"] = r(30, 45), r(10, 30)
    v["CC_CO_MAT"], v["VC_CO_MAT"] = v["CC_BIEN_CHE"] - r(0, 4), v["VC_BIEN_CHE"] - r(0, 3)
    for k, hi in (("HD_LAO_DONG", 10), ("CV_TINH_GIAN", 2), ("CV_TUYEN_DUNG", 3), ("CV_TIEP_NHAN", 2),
                  ("CV_BO_NHIEM", 2), ("CV_DIEU_DONG", 3), ("CV_KY_LUAT", 1), ("CV_LOP_BOI_DUONG", 4),
                  ("CV_LUOT_DI_HOC", 20), ("CV_KIEM_TRA", 2)):
        v[k] = r(0, hi)
    v["NS_THU_KH"] = float(r(20_000, 300_000))
    v["NS_THU_TH"] = round(v["NS_THU_KH"] * rnd.uniform(0.2, 0.6) * months / 6, 1)
    v["DTC_GN_KH"] = float(r(10_000, 150_000))
    v["DTC_GN_TH"] = round(v["DTC_GN_KH"] * rnd.uniform(0.05, 0.5) * months / 6, 1)
    v["DVSN_TU_CHU"], v["DVSN_NN_BAO_DAM"] = r(0, 2), r(3, 15)
    v["DVC_PHAT_SINH"] = r(15, 60)
    v["HS_TOAN_TRINH"] = round(v["HS_TRUC_TUYEN"] * rnd.uniform(0.1, 0.3))
    v["HS_MOT_PHAN"] = r(trong_ky // 2, trong_ky) - v["HS_TOAN_TRINH"] // 2
    v["HS_DVCTT_TONG"] = v["HS_TOAN_TRINH"] + v["HS_MOT_PHAN"]
    v["HS_TOAN_TRINH_TT"] = round(v["HS_TOAN_TRINH"] * rnd.uniform(0.9, 1))
    v["HS_MOT_PHAN_TT"] = round(v["HS_MOT_PHAN"] * rnd.uniform(0.9, 1))
    v["TTHC_NVTC"] = r(60, 90)
    v["TTHC_TICH_HOP_TT"], v["TTHC_PHAT_SINH_PHI"] = r(50, v["TTHC_NVTC"]), r(5, 20)
    v["HS_CO_PHI"] = r(200, 2500) * months // 3
    v["HS_THANH_TOAN_TT"] = round(v["HS_CO_PHI"] * rnd.uniform(0.9, 1))
    v["TL_KY_SO"], v["TL_CQ_INTERNET"] = round(rnd.uniform(92, 100), 1), 100
    v["SU_CO_ATTT"], v["TO_CNS"], v["CNS_TAP_HUAN"] = 0, r(8, 40), r(1, 12)
    v["DAN_SO"] = r(15_000, 80_000)
    v["VNEID_TAI_KHOAN"] = round(v["DAN_SO"] * rnd.uniform(0.5, 0.85))
    v["HO_TONG"] = v["DAN_SO"] // 4
    v["HO_HP_SMART"] = round(v["HO_TONG"] * rnd.uniform(0.2, 0.7))
    for ind in form.indicators:  # every percentage is the ratio of its own counts
        if ind.ratio:
            v[ind.code] = ratio_percent(v[ind.ratio[0]], v[ind.ratio[1]])
    if broken:  # tiếp nhận no longer equals trong kỳ + kỳ trước
        v["HS_TIEP_NHAN"] += 7
    return {k: v[k] for k in (i.code for i in form.indicators) if k in v}


def unit_data(form: Form, unit: Unit, period: str, year: int, broken: bool = False) -> dict[str, Any]:
    """A data dict for `workbook.build()` (same shape as toolkit/samples/*.yaml)."""
    p = form.period(period)
    start, end = window(form, p.code, year)
    values = unit_values(form, unit.code, p.code, year, broken)
    return {
        "thong_tin": {"MA_DVHC": unit.code, "TEN_DON_VI": unit.name, "KY_BAO_CAO": p.label,
                      "NAM_BAO_CAO": year, "TU_NGAY": start, "DEN_NGAY": end,
                      "DIA_DANH": f"{unit.name} (dữ liệu mô phỏng)", "NGUOI_LAP": DEMO_NOTE},
        "so_lieu": values,
        "ghi_chu": {"HS_TIEP_NHAN": DEMO_NOTE},
        "danh_sach": {"ho_so_qua_han": [{"linh_vuc": "Đất đai", "so_ho_so": values["HS_QUA_HAN"],
                                         "nguyen_nhan": DEMO_NOTE}]},
    }


class Patcher:
    """One `build()` per period and year; each unit's workbook is that zip with its own values."""

    def __init__(self, form: Form, period: str, year: int, workdir: Path):
        self.form = form
        self.period, self.year = form.period(period).code, year
        sample = unit_data(form, form.units[0], period, year)
        self.codes = list(sample["so_lieu"]) + ["HO_SO_QUA_HAN"]
        fake = dict(sample)
        fake["thong_tin"] = {**sample["thong_tin"], "MA_DVHC": "§MA_DVHC§", "TEN_DON_VI": "§TEN_DON_VI§",
                             "DIA_DANH": "§DIA_DANH§"}
        self.percent = {c for c in self.codes[:-1] if form.field(c).type == "percent"}
        fake["so_lieu"] = {c: _SENTINEL + (100 * i if c in self.percent else i) for i, c in enumerate(self.codes[:-1])}
        fake["danh_sach"] = {"ho_so_qua_han": [{"linh_vuc": "Đất đai", "so_ho_so": _SENTINEL + len(self.codes) - 1,
                                                "nguyen_nhan": DEMO_NOTE}]}
        template = build(form, Path(workdir) / f".template_{self.period}_{year}.xlsx", fake)
        with zipfile.ZipFile(template) as zf:
            self.members = [(info, zf.read(info)) for info in zf.infolist()]
        template.unlink()

    def write(self, out: Path, data: dict[str, Any]) -> Path:
        nums = {str(_SENTINEL + i).encode(): _xml_number(data["so_lieu"][c] if c != "HO_SO_QUA_HAN"
                                                         else data["danh_sach"]["ho_so_qua_han"][0]["so_ho_so"])
                for i, c in enumerate(self.codes) if c not in self.percent}
        # a percent cell holds the fraction: the sentinel and the value both / 100
        nums.update({str((_SENTINEL + 100 * i) // 100).encode(): _xml_number(data["so_lieu"][c] / 100)
                     for i, c in enumerate(self.codes) if c in self.percent})
        info = data["thong_tin"]
        strs = {k.encode(): escape(str(info[k])).encode() for k in ("MA_DVHC", "TEN_DON_VI", "DIA_DANH")}
        with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for zinfo, body in self.members:
                if zinfo.filename.startswith("xl/worksheets/") or zinfo.filename == "xl/sharedStrings.xml":
                    # cached results of the check formulas may look like sentinels: only sentinels change
                    body = _NUM.sub(lambda m: b"<v>" + nums.get(m.group(1), m.group(1)) + b"</v>", body)
                    body = _STR.sub(lambda m: strs[m.group(1)], body)
                zf.writestr(zinfo, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
        return out


def _xml_number(x: Any) -> bytes:
    return (str(x) if isinstance(x, int) else repr(float(x))).encode()


def received_at(form: Form, period: str, year: int, unit_code: str, late: bool) -> datetime:
    """A deterministic time received: a few days after the window, or after the deadline when late."""
    end = window(form, period, year)[1]
    rnd = random.Random(f"nhan/{unit_code}/{period}/{year}")
    days = form.deadline_days + rnd.randint(2, 9) if late else rnd.randint(1, form.deadline_days)
    return datetime.combine(end + timedelta(days=days), time(8 + rnd.randint(0, 8), rnd.randint(0, 59)))


def generate(folder: Path | str, period: str, year: int, units: list[Unit] | None = None,
             missing: set[str] = frozenset(), late: set[str] = frozenset(), broken: set[str] = frozenset(),
             form: Form | None = None, fast: bool = True) -> list[Path]:
    """Write one synthetic workbook per unit (skipping `missing`); file mtime = time received."""
    form = form or load_form()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    units = list(form.units if units is None else units)
    code = form.period(period).code
    patcher = Patcher(form, code, year, folder) if fast else None
    paths = []
    for unit in units:
        if unit.code in missing:
            continue
        data = unit_data(form, unit, code, year, broken=unit.code in broken)
        out = folder / file_name(unit, code, year)
        patcher.write(out, data) if patcher else build(form, out, data)
        stamp = received_at(form, code, year, unit.code, unit.code in late).timestamp()
        os.utime(out, (stamp, stamp))
        paths.append(out)
    return paths
