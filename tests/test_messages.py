"""Messages a user reads, worded for the case at hand (issue: careless and hostile input, round 4, «Messages»)."""
import urllib.parse
from datetime import datetime

import pytest
from conftest import ROOT

from toolkit.city.anomalies import history
from toolkit.city.store import Stored
from toolkit.intake import read_submission

NOW = 5892


def _stored(form, unit, period, year, value):
    return Stored(0, unit.code, unit.name, form.period(period).label, year, 1, "x.xlsx", "h", datetime(year, 1, 1),
                  0, 0, [], {"HS_TIEP_NHAN": (value, "Số liệu!E7")})


def _why(form, earlier: dict[int, float], now=NOW) -> list[str]:
    unit = form.units[3]
    found = history(form, unit.code, unit.name, "6T", 2026, {"HS_TIEP_NHAN": (now, "Số liệu!E7")},
                    [_stored(form, unit, "6T", year, v) for year, v in earlier.items()])
    return [a.why for a in found if a.code == "HS_TIEP_NHAN"]


def test_history_sentences_for_zero_negative_and_about_the_same(form):
    assert _why(form, {2025: 0}) == ["5.892 hồ sơ, trong khi 6 tháng đầu năm 2025 là 0"]
    assert _why(form, {2025: -6433}) == ["5.892 hồ sơ, trong khi 6 tháng đầu năm 2025 là -6.433"]
    assert _why(form, {2025: 600}, now=-6433) == ["-6.433 hồ sơ, trong khi 6 tháng đầu năm 2025 là 600"]
    # the last half-year as high as this one, the two before it far lower: never «gấp 1 lần»
    assert _why(form, {2023: 600, 2024: 650, 2025: 5900}) == [
        "5.892 hồ sơ, xấp xỉ 6 tháng đầu năm 2025 (5.900); ba kỳ gần nhất 600–5.900"]
    assert _why(form, {2023: 600, 2024: 650, 2025: 620}) == [
        "5.892 hồ sơ, gấp 9,5 lần 6 tháng đầu năm 2025 (620); ba kỳ gần nhất 600–650"]
    assert _why(form, {2023: 60000, 2024: 65000, 2025: -62000}) == [
        "5.892 hồ sơ, trong khi 6 tháng đầu năm 2025 là -62.000; ba kỳ gần nhất từ -62.000 đến 65.000"]


def test_a_key_typed_on_the_upload_page_for_another_units_file_is_called_the_typed_key(form, tmp_path):
    pytest.importorskip("fastapi")
    from toolkit.server.upload import nop_file

    seed = ROOT / "workbooks" / "nghi_duong_6t_2026.xlsx"
    other = next(u for u in form.units if u.code != read_submission(seed, form).unit_code)
    said = nop_file(seed.read_bytes(), "phieu_cua_xa.xlsx", other.code, tmp_path / "kho.sqlite", tmp_path, form)
    assert said.receipt is None and said.refusal.startswith(f"khóa bạn nhập là của {other.name} (mã {other.code}) "
                                                            "nhưng tệp đã chọn ghi mã đơn vị «")
    assert "khóa trong tệp này" not in said.refusal and f"hãy chọn tệp của {other.name}" in said.refusal


def test_a_source_link_to_a_file_whose_name_holds_a_hash_opens_that_file(form, tmp_path):
    import openpyxl

    from toolkit import synthetic as S
    from toolkit.city.consolidation import consolidate
    from toolkit.city.workbook import write_city_workbook

    unit = form.units[0]
    (made,) = S.generate(tmp_path / "phieu", "6T", 2026, [unit], form=form, anomalies={unit.code: "thu-ngan-sach"})
    odd = made.with_name("@a#'Số liệu'!A1 100%.xlsx")
    made.rename(odd)
    res = consolidate(tmp_path / "phieu", "6T", 2026, form=form)
    assert res.anomalies and all(a.unit == unit.code for a in res.anomalies)
    ws = openpyxl.load_workbook(write_city_workbook(res, tmp_path / "tong_hop.xlsx"))["Bất thường"]
    links = [ws.cell(r, 9) for r in range(4, 4 + len(res.anomalies))]
    for cell in links:  # the whole file name in the target (as Excel escapes it), the cell in the location
        assert cell.hyperlink.target.replace("\\", "/") == "phieu/@a%23'Số%20liệu'!A1%20100%25.xlsx"
        assert urllib.parse.unquote(cell.hyperlink.target.replace("\\", "/")) == "phieu/" + odd.name
        assert cell.hyperlink.location.startswith("'Số liệu'!") and cell.value.startswith(odd.name + "!")


@pytest.mark.parametrize("number, said", [
    (-1, "Số liệu từ ngày: ô chứa số âm (-1), không phải ngày (Excel hiện «########»)"),
    (-2.5, "Số liệu từ ngày: ô chứa số âm (-2,5), không phải ngày (Excel hiện «########»)"),
    (60, "Số liệu từ ngày: ô chứa ngày 29/02/1900, một ngày không có thật (lịch của Excel coi năm 1900 là năm nhuận)"),
    (59, "Khoảng số liệu 28/02/1900 – "), (61, "Khoảng số liệu 01/3/1900 – "),
    (0.5, "Số liệu từ ngày: ô chứa giờ (12:00), không phải ngày")])
def test_a_date_cell_is_said_as_excel_shows_it(number, said, form, tmp_path):
    import openpyxl

    from toolkit.check import check_file

    seed = ROOT / "workbooks" / "nghi_duong_6t_2026.xlsx"
    loc = read_submission(seed, form).loc("TU_NGAY")
    wb = openpyxl.load_workbook(seed)
    wb[loc.sheet][loc.cell].value = number
    wb[loc.sheet][loc.cell].number_format = "dd/mm/yyyy"
    wb.save(tmp_path / "phieu.xlsx")
    messages = [f.message for f in check_file(tmp_path / "phieu.xlsx", form).findings if f.where == str(loc)]
    assert any(m.startswith(said) for m in messages), messages
    assert not any("giờ (00:00)" in m for m in messages)
