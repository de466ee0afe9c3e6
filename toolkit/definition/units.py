"""The communes, wards and special zones (xã, phường, đặc khu) of a province.

They come from the `vietnam-provinces` package, which carries the 34 provinces and
3,321 units of the arrangement in force since 01/7/2025, so a city admin of another
province changes one line of form.yaml (`province:`). A local override file
(don_vi_sua.csv beside the definition) corrects or adds units the package does not
have right yet; each of its rows says why.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from vietnam_provinces import Province, Ward

from toolkit.errors import BaocaoError
from toolkit.vnformat import label_key, nfc

OVERRIDE_COLUMNS = ("tinh", "ma_dvhc", "ten", "loai", "thay_ma", "ghi_chu")
_PREFIXES = ("thành phố ", "tỉnh ")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str


def _short(name: str) -> str:
    key = label_key(name)
    for prefix in _PREFIXES:
        key = key.removeprefix(prefix)
    return key


def find_province(name_or_code: str | int) -> Province:
    """The province named ("Hải Phòng", "Thành phố Hải Phòng", "Thanh Hoá") or numbered (31)."""
    wanted = str(name_or_code).strip()
    for p in Province.iter_all():
        if wanted.isdigit() and int(wanted) == int(p.code) or _short(wanted) == _short(p.name):
            return p
    names = ", ".join(nfc(p.name) for p in Province.iter_all())
    raise BaocaoError(f"tỉnh, thành phố «{name_or_code}» không có trong danh mục 34 tỉnh, thành phố: {names}")


def _kind(division_type: str) -> str:
    text = nfc(str(division_type))
    return text[:1].upper() + text[1:]


def package_units(province: Province) -> list[Unit]:
    """The province's units as the package has them."""
    return [Unit(f"{int(w.code):05d}", nfc(w.name), _kind(w.division_type.value))
            for w in Ward.iter_by_province(province.code)]


def _override_rows(path: Path, province: Province) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in OVERRIDE_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise BaocaoError(f"{path.name}: thiếu cột {', '.join(missing)} "
                                  f"(cần đủ các cột {', '.join(OVERRIDE_COLUMNS)})")
            rows = [{k: nfc((v or "").strip()) for k, v in r.items() if k} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BaocaoError(f"Không đọc được tệp {path.name}: {exc}") from None
    return [r for r in rows if r["tinh"] and _short(r["tinh"]) == _short(province.name)]


def province_units(province: str | int, override: Path | None = None) -> tuple[str, tuple[Unit, ...]]:
    """The official province name and its units in code order, the override file applied.

    An override row with `thay_ma` replaces the package's unit of that code (a code or
    a name the package has differently); a row without it adds a unit the package lacks.
    """
    prov = find_province(province)
    units = {u.code: u for u in package_units(prov)}
    rows = _override_rows(override, prov) if override and override.exists() else []
    for n, r in enumerate(rows, start=2):
        where = f"{override.name} dòng {n}"
        if not (r["ma_dvhc"].isdigit() and len(r["ma_dvhc"]) == 5 and r["ten"] and r["loai"]):
            raise BaocaoError(f"{where}: cần mã 5 chữ số, tên và loại đơn vị")
        if r["thay_ma"] and r["thay_ma"] not in units:
            raise BaocaoError(f"{where}: {nfc(prov.name)} không có đơn vị mã {r['thay_ma']} để thay")
        if not r["thay_ma"] and r["ma_dvhc"] in units:
            raise BaocaoError(f"{where}: mã {r['ma_dvhc']} đã có ({units[r['ma_dvhc']].name}); "
                              "muốn sửa thì ghi mã đó vào cột thay_ma")
        units.pop(r["thay_ma"], None)
        units[r["ma_dvhc"]] = Unit(r["ma_dvhc"], r["ten"], _kind(r["loai"]))
    return nfc(prov.name), tuple(sorted(units.values(), key=lambda u: u.code))


def all_provinces(override: Path | None = None) -> list[tuple[str, tuple[Unit, ...]]]:
    """Every province with its units (the national consolidation's 3,321 units), the override applied."""
    return [province_units(int(p.code), override) for p in Province.iter_all()]
