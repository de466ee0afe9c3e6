"""The city report's sections: definition/sentences.yaml › thanh_pho rendered over one `Consolidation`.

The wording lives in the definition; this module gives its Jinja templates the city's
figures as the city workbook holds them: sums of the counted units (COUNT_RULE), each
ratio with the counts and units it is computed on (the rows under the workbook's total
row), the units that reach the city's targets and the highest and lowest units.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from toolkit.city.consolidation import Consolidation, UnitRow
from toolkit.errors import BaocaoError
from toolkit.reports import breakdown, join, lower_first, num, qty, upper_first
from toolkit.vnformat import fmt_number, fmt_percent

NAMED_AT_MOST = 5  # a count of units is followed by their names up to this many


def pct(x: float) -> str:
    """A city rate as the report prints it: two decimals ("90,92%"), a whole number whole ("100%")."""
    return fmt_percent(x, fixed=True)


def amount(res: Consolidation, code: str, x: float) -> str:
    """A total as prose writes it: a count with leading zero ("05"), money with decimals ("1.234,5")."""
    return fmt_number(x) if res.form.indicator(code).type in ("money", "decimal") else num(x)


def names(rows: list[UnitRow]) -> str:
    return ", ".join(r.unit.name for r in rows)


class _Figures:
    """What a template reads: n.X (the total), so.X (the total with its phrase), tl.X, dat.X, xep.X."""

    def __init__(self, res: Consolidation, make):
        self.res, self.make = res, make

    def __getitem__(self, code: str) -> Any:
        if code.startswith("_"):
            raise AttributeError(code)
        self.res.form.indicator(code)  # an unknown code is the definition's mistake: say so, do not print
        return self.make(self.res, code)

    __getattr__ = __getitem__


def _total(res: Consolidation, code: str) -> Any:
    return res.totals.get(code)


def _phrased(res: Consolidation, code: str) -> str:
    value = res.totals.get(code)
    if value is None:
        return ""
    ind = res.form.indicator(code)
    return ind.phrase.format(n=amount(res, code, value)) if ind.phrase else qty_of(res, code, value)


def qty_of(res: Consolidation, code: str, value: float) -> str:
    return f"{amount(res, code, value)} {res.form.indicator(code).unit}".strip()


def _ratio(res: Consolidation, code: str) -> dict | None:
    """tl.X: .tu .mau (the counts of the units reporting both, each with its unit), .ty_le, .don_vi, .thieu (the
    base named when a counted unit lacks one of the counts). None for a rate that does not add up (units: mean):
    `ty_le` states it over units."""
    if res.form.indicator(code).units != "ratio":
        return None
    base = res.ratio_base(code)
    if base is None or base.rate is None:
        return None
    num_code, den_code = res.form.indicator(code).ratio
    held = [r for r in res.held if code in r.held]
    short = base.units + len(held) < res.counted
    said = [f"tính trên {num(base.units)} đơn vị có đủ hai số liệu" if short else "",
            f"không tính số liệu bất thường của {names(held)}" if held else ""]
    return {"tu": amount(res, num_code, base.num), "mau": amount(res, den_code, base.den), "ty_le": pct(base.rate),
            "don_vi": num(base.units), "phan": fraction(res, code, base.num, base.den),
            "thieu": f" ({'; '.join(x for x in said if x)})" if any(said) else ""}


def fraction(res: Consolidation, code: str, top: float, bottom: float) -> str:
    """ "3.740/5.777 hồ sơ", or with two units "1.319.915 tài khoản/2.393.798 người": every count with its unit."""
    num_code, den_code = res.form.indicator(code).ratio
    up, down = res.form.indicator(num_code).unit, res.form.indicator(den_code).unit
    if up == down:
        return f"{amount(res, num_code, top)}/{amount(res, den_code, bottom)} {up}".strip()
    return f"{qty_of(res, num_code, top)}/{qty_of(res, den_code, bottom)}"


def over_units(res: Consolidation, code: str) -> str:
    """A figure that does not add up, said over units: "bình quân các đơn vị đạt 15,38%; 87/106 đơn vị đạt
    100%" (a percentage), "bình quân mỗi đơn vị 378 thủ tục" (a count)."""
    got = res.over_units(code)
    if got is None:
        return ""
    ind = res.form.indicator(code)
    word = "bình quân" if got.kind == "mean" else "trung vị"
    if ind.type != "percent":
        return f"{word} mỗi đơn vị {fmt_number(round(got.value, 1))} {ind.unit} (tính trên {num(got.units)} đơn vị)"
    full = (f"{num(got.full)}/{num(got.units)} đơn vị đạt 100%" if got.full
            else f"chưa có đơn vị nào trong {num(got.units)} đơn vị đạt 100%")
    held = [r for r in res.held if code in r.held]
    return f"{word} các đơn vị đạt {pct(got.value)}; {full}" + (
        f" (không tính số liệu bất thường của {names(held)})" if held else "")


def _target(res: Consolidation, code: str) -> dict | None:
    """dat.X: the units reaching the city's target for X: .so, .khong (none does), .muc ("100%"), .ten
    (names when few)."""
    target = res.form.city_report.get("targets", {}).get(code)
    if target is None or res.ratio_base(code) is None:
        return None
    met = res.meeting(code)
    return {"so": num(len(met)), "khong": not met, "muc": fmt_percent(target), "ten": names(met) if 0 < len(met) <= NAMED_AT_MOST
            else ""}


def ranking(res: Consolidation, code: str) -> str:
    """xep.X: "cao nhất là A (99,80%); thấp nhất là B, C (đồng hạng, 95,12%)", and the units left unranked."""
    ranks = res.ranks(code)
    if not ranks:
        return ""
    rows = {r.unit.code: r for r in res.rows}
    best, worst = min(ranks.values()), max(ranks.values())
    top = [rows[c] for c, k in sorted(ranks.items(), key=lambda kv: kv[0]) if k == best]
    bottom = [rows[c] for c, k in sorted(ranks.items(), key=lambda kv: kv[0]) if k == worst]

    def group(units: list[UnitRow]) -> str:
        value = pct(units[0].value(code))
        if len(units) > NAMED_AT_MOST:
            return f"{num(len(units))} đơn vị đồng hạng ({value})"
        return f"{names(units)} ({'đồng hạng, ' if len(units) > 1 else ''}{value})"

    text = (f"các đơn vị đều đạt {pct(top[0].value(code))}" if best == worst
            else f"cao nhất là {group(top)}; thấp nhất là {group(bottom)}")
    unranked = [r for r in res.rows if r.counted and r.unit.code not in ranks and not r.held]
    if unranked:
        text += (f"; không xếp hạng {names(unranked)} (chưa có số liệu)" if len(unranked) <= NAMED_AT_MOST
                 else f"; {num(len(unranked))} đơn vị chưa có số liệu không xếp hạng")
    held = [r for r in res.held if r.value(code) is not None]
    if held:
        text += f"; không xếp hạng {names(held)} (số liệu bất thường chưa được xử lý, nêu tại mục I)"
    if res.received > res.counted:
        text += "; các đơn vị có lỗi nêu tại mục I không xếp hạng"
    return text


def _sentence(res: Consolidation):
    """ty_le("TL_X", "Lời"): "Lời là X/Y hồ sơ, đạt Z%." over the units reporting both counts (each count with
    the unit indicators.yaml gives it); a rate that does not add up across units (units: mean | median): "Về lời,
    bình quân các đơn vị đạt Z%; N/M đơn vị đạt 100%."."""
    def ty_le(code: str, words: str) -> str:
        if res.form.indicator(code).units in ("mean", "median"):
            said = over_units(res, code)
            return f"Về {lower_first(words)}, {said}." if said else ""
        r = _ratio(res, code)
        if r is None:
            return ""
        return f"{words} là {r['phan']}, đạt {r['ty_le']}{r['thieu']}."
    return ty_le


@lru_cache(maxsize=4)
def _compiled(text: str) -> list[tuple[str, list[jinja2.Template]]]:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(thuong=lower_first, hoa_dau=upper_first)
    env.globals.update(dem=qty, so_dem=num, trong_do=breakdown, noi=join)
    try:
        raw = yaml.safe_load(text)["thanh_pho"]
        return [(str(m["muc"]), [env.from_string(t) for t in m["cau"]]) for m in raw]
    except (yaml.YAMLError, KeyError, TypeError, jinja2.TemplateSyntaxError) as exc:
        raise BaocaoError("tệp câu văn sentences.yaml (phần thanh_pho) sai cú pháp (YAML hoặc mẫu Jinja); xem lại "
                          "phần vừa sửa", detail=str(exc)) from None


def city_sections(res: Consolidation) -> list[dict[str, Any]]:
    """The report's sections: {"ten": heading, "cau": sentences}; a section with no figure still says so."""
    path = Path(res.form.source) / "sentences.yaml"
    try:
        sections = _compiled(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaocaoError(f"không đọc được tệp câu văn {path.name} ({exc.strerror})") from None
    values = {"n": _Figures(res, _total), "so": _Figures(res, _phrased), "tl": _Figures(res, _ratio),
              "dat": _Figures(res, _target), "xep": _Figures(res, ranking), "ty_le": _sentence(res),
              "don_vi": num(res.counted)}
    out = []
    for heading, templates in sections:
        try:
            said = [" ".join(line.split()) for t in templates for line in t.render(values).splitlines()
                    if line.strip()]
        except (jinja2.UndefinedError, KeyError) as exc:
            raise BaocaoError("tệp câu văn sentences.yaml (phần thanh_pho) dùng một tên không có trong số liệu",
                              detail=str(exc)) from None
        out.append({"ten": heading, "cau": said or ["Các đơn vị chưa có số liệu của mục này."]})
    return out
