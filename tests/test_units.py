"""Units from the vietnam-provinces package: Hải Phòng's 114 as the city keeps them, any province by one line."""
import csv
import shutil
from pathlib import Path

import pytest
import yaml

from toolkit.definition.form import load_form_from
from toolkit.definition.units import all_provinces, find_province, package_units, province_units
from toolkit.errors import BaocaoError

TODAY = Path(__file__).parent / "expected" / "don_vi_hai_phong.csv"  # the hand-kept list the package replaced


def _today():
    with TODAY.open(encoding="utf-8", newline="") as fh:
        return [(r["ma_dvhc"], r["ten"], r["loai"]) for r in csv.DictReader(fh)]


def test_hai_phong_114_equal_the_hand_kept_list(form):
    assert form.province == "Thành phố Hải Phòng"
    assert [(u.code, u.name, u.kind) for u in form.units] == _today()


def test_override_file_holds_only_what_the_package_has_otherwise(form):
    """The package (2025.10.1) has 5 other codes and 2 older tone placements; nothing else differs.

    When a new release of the package agrees with QĐ 19/2025/QĐ-TTg this test fails and
    the matching rows of don_vi_sua.csv can go.
    """
    package = {(u.code, u.name, u.kind) for u in package_units(find_province("Hải Phòng"))}
    today = set(_today())
    assert len(package) == 114
    assert sorted(c for c, _, _ in today - package) == ["10507", "10792", "10837", "10891", "11329",
                                                       "11533", "11560"]
    with (form.source / "don_vi_sua.csv").open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 7


def test_the_package_carries_the_2025_arrangement():
    provinces = all_provinces()
    assert len(provinces) == 34
    units = [u for _, us in provinces for u in us]
    assert len(units) == 3321 == len({u.code for u in units})
    assert {u.kind for u in units} == {"Xã", "Phường", "Đặc khu"}
    sizes = dict((name, len(us)) for name, us in provinces)
    assert sizes["Thành phố Hà Nội"] == 126 and sizes["Thành phố Hồ Chí Minh"] == 168


@pytest.mark.parametrize("name", ["Hải Phòng", "thành phố hải phòng", "31", " Hải Phòng "])
def test_province_by_name_or_number(name):
    assert province_units(name)[0] == "Thành phố Hải Phòng"


def test_both_tone_placements_find_a_province():
    assert find_province("Thanh Hoá").name == find_province("Thanh Hóa").name == "Thanh Hóa"
    assert find_province("Khánh Hoà").name == "Khánh Hòa"


def _definition(tmp_path, form, province=None, override=None):
    folder = tmp_path / "definition"
    shutil.copytree(form.source, folder)
    if province:
        path = folder / "form.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["province"] = province
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    if override is not None:
        (folder / "don_vi_sua.csv").write_text(override, encoding="utf-8")
    return folder


def test_another_province_is_one_line_of_the_definition(tmp_path, form):
    hn = load_form_from(_definition(tmp_path, form, province="Hà Nội"))
    assert hn.province == "Thành phố Hà Nội" and len(hn.units) == 126
    assert hn.unit_by_code("00070").name == "Phường Hoàn Kiếm"
    assert [c.label for c in hn.choices["don_vi_ten"]] == [u.name for u in hn.units]
    assert form.for_province("Hà Nội").units == hn.units


def test_override_adds_a_unit_the_package_lacks(tmp_path, form):
    rows = "tinh,ma_dvhc,ten,loai,thay_ma,ghi_chu\nHải Phòng,99999,Xã Thử Nghiệm,xã,,chưa có trong gói\n"
    f = load_form_from(_definition(tmp_path, form, override=rows))
    assert len(f.units) == 115 and f.unit_by_code("99999").kind == "Xã"
    assert f.unit_by_code("10510").name == "Phường Thành Đông"  # the package's code, no longer corrected


@pytest.mark.parametrize("rows, message", [
    ("tinh,ma_dvhc,ten,loai,thay_ma,ghi_chu\nHải Phòng,10510,Phường X,Phường,,\n", "mã 10510 đã có"),
    ("tinh,ma_dvhc,ten,loai,thay_ma,ghi_chu\nHải Phòng,12345,Phường X,Phường,00001,\n",
     "không có đơn vị mã 00001 để thay"),
    ("tinh,ma_dvhc,ten\nHải Phòng,12345,Phường X\n", "thiếu cột loai, thay_ma, ghi_chu"),
    ("tinh,ma_dvhc,ten,loai,thay_ma,ghi_chu\nHải Phòng,123,Phường X,Phường,,\n", "dòng 2: cần mã 5 chữ số"),
])
def test_override_mistakes_are_named(tmp_path, form, rows, message):
    with pytest.raises(BaocaoError, match=message):
        load_form_from(_definition(tmp_path, form, override=rows))


def test_unknown_province_lists_the_34(tmp_path, form):
    with pytest.raises(BaocaoError, match="«Hà Tây» không có trong danh mục 34 tỉnh, thành phố: Thành phố Hà Nội"):
        load_form_from(_definition(tmp_path, form, province="Hà Tây"))


def test_national_form_has_every_unit_once(form):
    nation = form.national()
    assert len(nation.units) == 3321 and nation.unit_by_code("10507").name == "Phường Thành Đông"
    assert len(nation.choices["don_vi_ma"]) == 3321
