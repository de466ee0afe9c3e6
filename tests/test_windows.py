"""Windows and typed ratios (issue 17 item 3): a group or a figure counted over its own window, typed on sheet
Số liệu riêng, is printed as the seeds print it; a rate typed as the officer writes it is printed as typed; a rate
is never printed beside counts of another window; window dates are checked at their cell.

Every case is a real workbook built from a sample's data, read back, checked and rendered to Word."""
from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import pytest
from test_reports import document_text

from toolkit.check.checker import check_submission, sheet_verdicts
from toolkit.excel.workbook import build
from toolkit.intake.datafile import load_data
from toolkit.intake.reader import read_submission
from toolkit.reports.render import render_report

SAMPLES = Path(__file__).resolve().parents[1] / "toolkit" / "samples"
ND = "nghi_duong_6t_2026"


@pytest.fixture(scope="module")
def nghi_duong(form):
    return load_data(SAMPLES / f"{ND}.yaml", form)


def _workbook(form, data, tmp_path: Path, edit) -> Path:
    data = copy.deepcopy(data)
    edit(data)
    return build(form, tmp_path / "phieu.xlsx", data)


def _report(path: Path, loai: str, tmp_path: Path) -> str:
    doc = render_report(read_submission(path), loai, tmp_path / f"{loai}.docx", draft=True)[0]
    return document_text(doc).split("PHỤ LỤC: LỖI, CẢNH BÁO")[0]


def _rows(data) -> list:
    return data["danh_sach"].setdefault("so_lieu_rieng", [])


def test_every_ratio_a_report_states_has_a_cell_to_type_it(form):
    for kind in form.reports.values():
        for code in kind.ratios:
            ratio = form.ratios[code]
            assert ratio.typed, (kind.code, code)
            typed = form.indicator(ratio.typed)
            assert typed.type == "percent" and tuple(typed.ratio) == tuple(ratio.of), code


def test_windows_typed_for_groups_are_printed_as_the_seeds_phrase_them(form, nghi_duong, tmp_path):
    def edit(d):
        d["so_lieu"].update(KH_NV_TONG=30, KH_NV_HOAN_THANH=24, KH_NV_DANG_TH=6, NV_TP_TONG=12, NV_TP_HT_DUNG_HAN=12,
                            TTHC_TONG=379)
        _rows(d).extend([
            {"chi_tieu": "Nhóm CD.2: Nhiệm vụ trong Kế hoạch CCHC năm", "den_ngay": date(2026, 5, 31)},
            {"chi_tieu": "Nhóm CD.3: Nhiệm vụ UBND thành phố, Chủ tịch UBND thành phố giao",
             "tu_ngay": date(2026, 1, 1), "den_ngay": date(2026, 5, 31)},
            {"chi_tieu": "Nhóm TTHC.2: Tình hình tiếp nhận, giải quyết hồ sơ TTHC (Biểu 06/VPCP/KSTT)",
             "tu_ngay": date(2026, 1, 1)}])

    path = _workbook(form, nghi_duong, tmp_path, edit)
    assert not [f for f in check_submission(read_submission(path), form) if f.code.startswith("thoi-gian")]
    text = _report(path, "cchc-cds", tmp_path)
    # the plan's size is a level: stated at its date, with the plan's year; no seed of the type states its rate
    assert ("Tính đến ngày 31/5/2026, Kế hoạch cải cách hành chính năm 2026 của Ủy ban nhân dân xã có 30 nhiệm vụ, "
            "trong đó: 24 nhiệm vụ đã hoàn thành; 06 nhiệm vụ đang thực hiện") in text
    assert ("Từ ngày 01/01/2026 đến ngày 31/5/2026, Ủy ban nhân dân thành phố, Chủ tịch Ủy ban nhân dân thành phố "
            "giao 12 nhiệm vụ") in text
    # the TTHC block's own window leads it ("đến nay", seed 002), its sentences need no window of their own
    assert "Kết quả giải quyết thủ tục hành chính từ ngày 01/01/2026 đến nay:" in text
    assert "Từ ngày 01/01/2026 đến nay, tổng số hồ sơ" not in text
    # beside it, a level of the workbook's window is stated at its last day
    assert "- Tính đến ngày 14/6/2026, số thủ tục hành chính thuộc thẩm quyền giải quyết là 379 thủ tục." in text
    # the sample's own windows (seed 000): news from 01/01/2026, one legal document 01/01 – 04/6/2026
    sample = _report(build(form, tmp_path / "mau.xlsx", nghi_duong), "cchc-cds", tmp_path)
    assert "Từ ngày 01/01/2026 đến thời điểm báo cáo đã cập nhật trên 450 tin bài" in sample
    assert "Kết quả giải quyết thủ tục hành chính từ ngày 15/12/2025 đến hết ngày 14/6/2026:" in sample


def test_a_rate_typed_with_one_decimal_is_printed_as_typed(form, nghi_duong, tmp_path):
    def edit(d):
        d["so_lieu"].update(KH_NV_TONG=27, KH_NV_HOAN_THANH=22, KH_NV_DANG_TH=5, TL_KH_NV_HOAN_THANH=81.5)

    path = _workbook(form, nghi_duong, tmp_path, edit)
    verdicts = sheet_verdicts(read_submission(path), form)
    assert verdicts["ty-le-tl-kh-nv-hoan-thanh"] == "ĐẠT"  # 22/27 = 81,48% rounds to 81,5
    text = _report(path, "cchc-cds", tmp_path)
    assert "đã hoàn thành 22/27 nhiệm vụ, đạt 81,5%" in text and "81,48" not in text


def test_a_rate_is_never_printed_beside_counts_of_another_window(form, nghi_duong, tmp_path):
    """The sơ kết's 92,48% (from 01/7/2025) typed for the CCHC report too: the half-year's counts keep their
    own rate, the typed one comes alone with its window."""
    def edit(d):
        row = next(r for r in _rows(d) if r["chi_tieu"].startswith("TL_HS_TRUC_TUYEN"))
        row.update(bao_cao="so-ket-2-cap; cchc-cds", tu_ngay=date(2025, 7, 1))

    path = _workbook(form, nghi_duong, tmp_path, edit)
    assert not [f for f in check_submission(read_submission(path), form) if f.code == "ty-le-khong-khop"]
    for loai in ("cchc-cds", "so-ket-2-cap"):
        text = _report(path, loai, tmp_path)
        for line in text.splitlines():
            assert not ("92,48%" in line and re.search(r"5\.805|5\.892", line)), (loai, line)
        assert re.search(r"(từ ngày 01/7/2025 đến nay\)?:?,? .*|Từ ngày 01/7/2025 đến nay, .*)92,48%", text), loai
    cds = _report(path, "cchc-cds", tmp_path)
    assert "Từ ngày 01/7/2025 đến nay, tỷ lệ hồ sơ nộp trực tuyến đạt 92,48%." in cds
    assert "5.805/5.805 hồ sơ" in cds  # the half-year's counts are still stated, with their own rate


def test_a_typed_rate_against_the_counts_of_its_own_window_stays_a_finding(form, nghi_duong, tmp_path):
    def edit(d):
        row = next(r for r in _rows(d) if r["chi_tieu"].startswith("TL_HS_TRUC_TUYEN"))
        row.update(bao_cao="cchc-cds")  # no window of its own: the half-year's, whose counts give 100%

    sub = read_submission(_workbook(form, nghi_duong, tmp_path, edit))
    found = [f for f in check_submission(sub, form) if f.code == "ty-le-khong-khop"]
    assert [(f.severity, f.sheet) for f in found] == [("error", "Số liệu riêng")]
    assert "ghi 92,48% nhưng 5.805/5.805" in found[0].message


def test_own_counts_of_the_same_window_keep_the_form_s_rules(form, nghi_duong, tmp_path):
    """The sơ kết's 10.893 typed for the CCHC report without a window: the half-year's parts (5.805 + 87) no longer
    add up, in the report as on the sheet, so it is a finding at the own cell; with the sơ kết's window it is not."""
    def edit(d):
        next(r for r in _rows(d) if r["chi_tieu"].startswith("HS_TIEP_NHAN")).update(bao_cao="cchc-cds")

    sub = read_submission(_workbook(form, nghi_duong, tmp_path, edit))
    found = [f for f in check_submission(sub, form) if f.code == "tthc-tiep-nhan"]
    assert [(f.severity, f.sheet) for f in found] == [("error", "Số liệu riêng")]
    assert "10.893" in found[0].message
    assert not [f for f in check_submission(read_submission(build(form, tmp_path / "mau.xlsx", nghi_duong)), form)
                if f.sheet == "Số liệu riêng"]


def test_invalid_window_dates_are_findings_at_their_cell(form, nghi_duong, tmp_path):
    def edit(d):
        _rows(d).extend([
            {"chi_tieu": "Nhóm CD.2: Nhiệm vụ trong Kế hoạch CCHC năm", "tu_ngay": date(2026, 5, 31),
             "den_ngay": date(2026, 1, 1)},
            {"chi_tieu": "KH_NV_TONG: Tổng số nhiệm vụ trong Kế hoạch CCHC năm", "den_ngay": date(2026, 9, 30)},
            # a group has a window, never a value
            {"chi_tieu": "Nhóm CD.4: Kiểm tra CCHC, công vụ", "gia_tri": 3, "den_ngay": date(2026, 5, 31)},
            # another window is allowed for a value of its own (the sơ kết since 01/7/2025)
            {"chi_tieu": "HS_DA_GQ: Tổng số hồ sơ đã giải quyết", "bao_cao": "so-ket-2-cap", "gia_tri": 10800,
             "tu_ngay": date(2025, 7, 1)}])

    sub = read_submission(_workbook(form, nghi_duong, tmp_path, edit))
    found = [(f.code, f.where, f.message) for f in check_submission(sub, form) if f.code.startswith("thoi-gian")]
    first = len(nghi_duong["danh_sach"]["so_lieu_rieng"]) + 4  # title, hint, header, then the rows
    assert found == [
        ("thoi-gian-nguoc", f"Số liệu riêng!F{first}",
         "Nhóm CD.2: Nhiệm vụ trong Kế hoạch CCHC năm: «Từ ngày» 31/5/2026 sau «Đến ngày» 01/01/2026"),
        ("thoi-gian-ngoai-ky", f"Số liệu riêng!F{first + 1}",
         ("KH_NV_TONG: Tổng số nhiệm vụ trong Kế hoạch CCHC năm: ngày 30/9/2026 nằm ngoài kỳ báo cáo (01/01/2026 – "
          "30/6/2026); số liệu của sheet Số liệu được tính trong kỳ"))]
    verdicts = sheet_verdicts(sub, form)
    assert verdicts["thoi-gian-nguoc"] == verdicts["thoi-gian-ngoai-ky"] == "LỖI"
    group = [f for f in check_submission(sub, form) if f.code == "so-lieu-rieng-sai"]
    assert [(f.where, f.message) for f in group] == [
        (f"Số liệu riêng!C{first + 2}", "Số liệu riêng của «Nhóm CD.4: Kiểm tra CCHC, công vụ» là 3: một nhóm chỉ "
                                        "tiêu chỉ ghi khoảng thời gian (Từ ngày, Đến ngày), không ghi Giá trị")]


def test_a_window_nobody_could_mean_is_a_finding_at_its_cell(form, nghi_duong, tmp_path):
    """A report's own figure may count from 01/01 five years before the report's year to the report's date."""
    windows = [(date(1900, 1, 2), date(1900, 12, 31)), (date(2025, 7, 1), date(2099, 12, 31)),
               (date(2020, 12, 31), None), (date(2021, 1, 1), date(2026, 6, 18)), (None, date(2026, 6, 19))]

    def edit(d):
        d["thong_tin"].update(NGAY_BAO_CAO=date(2026, 6, 18))
        _rows(d).extend({"chi_tieu": "HS_TIEP_NHAN: Tổng số hồ sơ tiếp nhận", "gia_tri": 10893, "tu_ngay": start,
                         "den_ngay": end, "bao_cao": "so-ket-2-cap"} for start, end in windows)

    path = _workbook(form, nghi_duong, tmp_path, edit)
    sub = read_submission(path)
    found = [(f.where, f.message) for f in check_submission(sub, form) if f.code == "thoi-gian-khong-hop-ly"]
    first = len(nghi_duong["danh_sach"]["so_lieu_rieng"]) + 4
    label = "HS_TIEP_NHAN: Tổng số hồ sơ tiếp nhận"
    tail = "nằm ngoài khoảng thời gian của số liệu riêng (01/01/2021 – 18/6/2026: từ đầu năm 2021 đến ngày ký báo cáo)"
    assert found == [(f"Số liệu riêng!F{first}", f"{label}: ngày 02/01/1900 {tail}"),
                     (f"Số liệu riêng!F{first + 1}", f"{label}: ngày 31/12/2099 {tail}"),
                     (f"Số liệu riêng!F{first + 2}", f"{label}: ngày 31/12/2020 {tail}"),
                     (f"Số liệu riêng!F{first + 4}", f"{label}: ngày 19/6/2026 {tail}")]
    assert sheet_verdicts(sub, form)["thoi-gian-khong-hop-ly"] == "LỖI"
