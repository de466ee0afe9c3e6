import shutil

import pytest
import yaml

from toolkit.definition.form import load_form_from
from toolkit.errors import BaocaoError

REQUIRED_CODES = """HS_TIEP_NHAN HS_TRONG_KY HS_KY_TRUOC HS_TRUC_TUYEN HS_TRUC_TIEP HS_BUU_CHINH HS_DA_GQ
HS_TRUOC_HAN HS_DUNG_HAN HS_QUA_HAN HS_TU_CHOI HS_RUT HS_DANG_GQ HS_DANG_TRONG_HAN HS_DANG_QUA_HAN
HS_CHO_BO_SUNG TTHC_TONG VB_TONG VB_QD VB_KH VB_CV VB_TB VB_TTR VB_KHAC NV_TP_TONG NV_TP_HT_DUNG_HAN
NV_TP_HT_QUA_HAN NV_TP_DANG_TH NV_TP_QUA_HAN CC_BIEN_CHE CC_CO_MAT VC_BIEN_CHE VC_CO_MAT""".split()


def test_catalog_has_the_agreed_codes(form):
    codes = {i.code for i in form.indicators}
    assert set(REQUIRED_CODES) <= codes


def test_every_indicator_is_complete(form):
    for i in form.indicators:
        assert i.label and i.unit and i.type and i.section and i.stt, i.code
        if i.type == "percent":
            assert i.max is not None and i.min == 0, i.code
    assert form.indicator("CC_BIEN_CHE").periods == "latest"
    assert form.indicator("HS_KY_TRUOC").periods == "first"
    assert form.indicator("TL_HS_DUNG_HAN").units == "ratio"
    assert form.indicator("TL_HS_DUNG_HAN").ratio == ("HS_TRUOC_DUNG_HAN", "HS_DA_GQ")


def test_units_list_has_114_units(form):
    assert len(form.units) == 114
    assert form.unit_by_code("11713").name == "Xã Nghi Dương"
    assert {u.kind for u in form.units} == {"Phường", "Xã", "Đặc khu"}


def _broken_copy(tmp_path, form, edit):
    folder = tmp_path / "definition"
    shutil.copytree(form.source, folder)
    path = folder / "indicators.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["sections"][0]["groups"][0]["indicators"].append(
        {"code": "VB_QD", "label": "Trùng", "unit": "văn bản"}), "mã 'VB_QD' bị trùng"),
    (lambda d: d["sections"][0]["groups"][0]["indicators"].append(
        {"code": "TL_X", "label": "Tỷ lệ", "unit": "%", "type": "percent", "ratio": ["VB_QD", "KHONG_CO"]}),
     "tham chiếu mã không tồn tại 'KHONG_CO'"),
    (lambda d: d["sections"][0]["groups"][0]["indicators"].append(
        {"code": "VB1", "label": "Ô Excel", "unit": "văn bản"}), "trùng dạng địa chỉ ô Excel"),
    (lambda d: d["sections"][0]["groups"][0]["indicators"].append(
        {"code": "VB_Y", "label": "Kiểu lạ", "unit": "x", "type": "so"}), "kiểu 'so' không hợp lệ"),
    (lambda d: d["sections"][0]["groups"][0]["indicators"].append(
        {"code": "VB_Z", "label": "Chỉ đạo", "điều hành": None, "unit": "x"}), "khóa lạ 'điều hành'"),
])
def test_self_check_names_file_and_entry(tmp_path, form, edit, expected):
    with pytest.raises(BaocaoError) as err:
        load_form_from(_broken_copy(tmp_path, form, edit))
    assert "indicators.yaml ›" in str(err.value)
    assert expected in str(err.value)


def test_periods_are_one_table(form):
    six = form.period("6 tháng đầu năm")
    assert form.period("6t") is six and six.code == "6T" and six.months == (1, 6)
    assert six.rollup == ("Q1", "Q2") and six.previous[0] == ("NAM", -1)
    assert form.period("Quý I").previous == (("Q4", -1), ("NAM", -1))
    assert form.period("CD").months is None
    assert [p.label for p in form.periods] == form.choice_labels("ky_bao_cao")
    with pytest.raises(BaocaoError, match="«Q5» không có trong danh mục"):
        form.period("Q5")


def test_period_table_refers_only_to_its_own_periods(tmp_path, form):
    folder = tmp_path / "definition"
    shutil.copytree(form.source, folder)
    path = folder / "form.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["choices"]["ky_bao_cao"][4]["rollup"] = ["Q1", "Q7"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(BaocaoError, match="ky_bao_cao › 6T: tham chiếu kỳ không có trong danh mục 'Q7'"):
        load_form_from(folder)
