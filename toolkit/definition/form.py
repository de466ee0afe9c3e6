"""The form definition: typed view of the YAML files in toolkit/definition/.

Everything else (workbook, reader, checker, consolidation, reports) is derived
from the `Form` returned by `load_form()`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from toolkit.definition.units import Unit, all_provinces, province_units
from toolkit.errors import BaocaoError
from toolkit.vnformat import label_key, nfc

TYPES = ("count", "decimal", "percent", "money", "date", "text", "choice")
NUMERIC = ("count", "decimal", "percent", "money")
UNIT_AGGS = ("sum", "ratio", "mean", "median", "none")
OVER_UNITS = ("mean", "median")  # stated per unit ("bình quân các đơn vị"), never as a city total
PERIOD_AGGS = ("sum", "latest", "first", "ratio", "none")

DEFAULT_PROVINCE = "Hải Phòng"
NATIONAL = "Toàn quốc"
OVERRIDE_FILE = "don_vi_sua.csv"  # beside the definition: units the package does not have right yet

# Names Excel would parse as a reference rather than as a defined name.
_A1 = re.compile(r"^\$?[A-Za-z]{1,3}\$?[0-9]+$")
_R1C1 = re.compile(r"^[Rr][0-9]*([Cc][0-9]*)?$|^[Cc][0-9]*$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Field:
    """One value: an indicator, a metadata field or a list column."""

    code: str
    label: str
    type: str = "count"
    unit: str = ""
    min: float | None = None
    max: float | None = None
    required: bool = False
    note: str = ""
    choices: str | None = None
    units: str = "sum"
    periods: str = "sum"
    ratio: tuple[str, str] | None = None
    section: str = ""
    stt: str = ""
    phrase: str = ""  # how a report states a count: "{n} quyết định" (default "{n} <unit>")
    suggest: str | None = None  # a text cell whose dropdown offers this choice list; several may be written
    typical: tuple[float, float] | None = None  # a unit of middle size: a quarter's flow, or a stock

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC


@dataclass(frozen=True)
class Group:
    label: str
    stt: str
    indicators: tuple[Field, ...]


@dataclass(frozen=True)
class Section:
    id: str
    stt: str
    label: str
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class ListDef:
    id: str
    sheet: str
    table: str
    label: str
    blank_rows: int
    columns: tuple[Field, ...]

    def column(self, code: str) -> Field:
        return next(c for c in self.columns if c.code == code)


@dataclass(frozen=True)
class Choice:
    code: str
    label: str
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ReportDef:
    """A report type (form.yaml `reports`): the template that writes it and what it carries."""

    code: str
    label: str  # short name an officer picks in sheet Báo cáo
    title: str
    template: str
    periods: tuple[str, ...] | None = None  # labels of the periods accepted (form.yaml names codes); None = any
    blocks: tuple[str, ...] = ()  # muc_noi_dung codes its template prints
    ratios: tuple[str, ...] = ()  # codes of the `ratios` it states
    city: bool = False  # the synthesis of many units, not one unit's report
    options: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class RatioDef:
    """A ratio officers write (form.yaml `ratios`): numerator ÷ denominator, rounded half-up."""

    code: str
    label: str
    of: tuple[str, str]
    decimals: int = 2
    typed: str | None = None  # the indicator holding the officer's typed value, printed when present


@dataclass(frozen=True)
class Period:
    """A report period: one row of the `ky_bao_cao` table in form.yaml."""

    code: str
    label: str
    months: tuple[int, int] | None  # first and last calendar month; None for a topical report
    rollup: tuple[str, ...] = ()  # the shorter periods it adds up (6T = Q1 + Q2)
    previous: tuple[tuple[str, int], ...] = ()  # (period, year offset) holding the previous figures, best first


@dataclass
class Form:
    form_id: str
    version: str
    title: str
    deadline_days: int
    closing_day: int  # the day of a period's last month its figures close on (form.yaml closing_day)
    metadata: tuple[Field, ...]
    sections: tuple[Section, ...]
    lists: tuple[ListDef, ...]
    choices: dict[str, tuple[Choice, ...]]
    cqtt_criteria: tuple[Choice, ...]
    cqtt_levels: tuple[dict, ...]
    units: tuple[Unit, ...]
    province: str = ""
    city_report: dict = field(default_factory=dict)
    rules: tuple[dict, ...] = ()
    rule_knobs: dict = field(default_factory=dict)
    plausibility: dict = field(default_factory=dict)  # rules.yaml `plausibility`: history and peers
    source: Path | None = None
    reports: dict[str, ReportDef] = field(default_factory=dict)
    ratios: dict[str, RatioDef] = field(default_factory=dict)

    @property
    def indicators(self) -> tuple[Field, ...]:
        return tuple(i for s in self.sections for g in s.groups for i in g.indicators)

    def indicator(self, code: str) -> Field:
        return self._by_code[code]

    def field(self, code: str) -> Field | None:
        """The indicator or metadata field with this code."""
        return self._by_code.get(code) or self._meta_by_code.get(code)

    def list(self, list_id: str) -> ListDef:
        return next(lst for lst in self.lists if lst.id == list_id)

    def choice_labels(self, name: str) -> list[str]:
        return [c.label for c in self.choices[name]]

    def choice_by_label(self, name: str, label: str) -> Choice | None:
        """The choice whose label matches, ignoring case, spacing, NFC/NFD and tone placement."""
        return self._choice_keys[name].get(label_key(label))

    def report_tags(self, raw: Any) -> tuple[set[str], list[str]]:
        """Report type codes named in a "Dùng cho báo cáo" cell (codes or labels), and the unknown names."""
        keys = {label_key(r.code): r.code for r in self.reports.values()}
        keys.update({label_key(r.label): r.code for r in self.reports.values()})
        found, unknown = set(), []
        for whole in re.split(r"[;\n]+", str(raw or "")):
            # a label may hold commas ("CCHC 6 tháng, 9 tháng, năm"): whole first, then comma-separated codes
            for part in [whole] if label_key(whole) in keys else whole.split(","):
                if part.strip():
                    code = keys.get(label_key(part))
                    found.add(code) if code else unknown.append(part.strip())
        return found, unknown

    def indicator_code(self, label: Any) -> str | None:
        """The indicator a "Chỉ tiêu" cell of sheet Số liệu riêng names, by its label in the dropdown (None for
        a group)."""
        choice = self.choice_by_label("chi_tieu", label or "")
        return choice.code if choice and "codes" not in choice.extra else None

    def figure_codes(self, label: Any) -> tuple[str, ...]:
        """The indicators a "Chỉ tiêu" cell names: the one indicator, or every indicator of a group."""
        choice = self.choice_by_label("chi_tieu", label or "")
        return () if choice is None else tuple(choice.extra.get("codes", (choice.code,)))

    def unit_by_code(self, code: str) -> Unit | None:
        return self._units.get(code)

    def for_province(self, province: str | int) -> "Form":
        """The same form for another province's units (the package's list and its rows of the override file)."""
        return self._with_units(*province_units(province, self._override))

    def national(self) -> "Form":
        """The same form for the units of all 34 provinces (a national consolidation)."""
        units = sorted((u for _, us in all_provinces(self._override) for u in us), key=lambda u: u.code)
        return self._with_units(NATIONAL, tuple(units))

    @property
    def _override(self) -> Path | None:
        return self.source / OVERRIDE_FILE if self.source else None

    def _with_units(self, province: str, units: tuple[Unit, ...]) -> "Form":
        choices = {**self.choices, "don_vi_ma": tuple(Choice(u.code, u.code) for u in units),
                   "don_vi_ten": tuple(Choice(u.code, u.name) for u in units)}
        return replace(self, province=province, units=units, choices=choices)

    @property
    def periods(self) -> tuple[Period, ...]:
        return tuple(self._periods.values())

    def period(self, ky) -> Period:
        """The period given by its code ("6T") or its label ("6 tháng đầu năm", any case or tone placement)."""
        wanted = label_key(ky)
        for p in self._periods.values():
            if wanted in (p.code.casefold(), label_key(p.label)):
                return p
        names = ", ".join(f"{p.code} ({p.label})" for p in self._periods.values())
        raise BaocaoError(f"kỳ báo cáo «{ky}» không có trong danh mục; chọn một trong: {names}")

    def __post_init__(self) -> None:
        self._by_code = {i.code: i for i in self.indicators}
        self._meta_by_code = {m.code: m for m in self.metadata}
        self._units = {u.code: u for u in self.units}
        self._choice_keys = {name: {label_key(c.label): c for c in items} for name, items in self.choices.items()}
        self._periods = {c.code: _period(c) for c in self.choices.get("ky_bao_cao", ())}


def _period(c: Choice) -> Period:
    months = c.extra.get("months")
    return Period(c.code, c.label, tuple(months) if months else None, tuple(c.extra.get("rollup", ())),
                  tuple((str(code), int(offset)) for code, offset in c.extra.get("previous", ())))


_FIELD_KEYS = {"code", "label", "type", "unit", "min", "max", "required", "note", "choices", "units",
               "periods", "ratio", "phrase", "suggest", "typical"}
_REPORT_KEYS = {"code", "label", "title", "template", "periods", "blocks", "ratios", "city", "options"}
_RATIO_KEYS = {"code", "label", "of", "decimals", "typed"}


_CHOICE_KEYS = {"code", "label", "abbr", "signature", "months", "rollup", "previous", "recalls"}


def _unknown_keys(raw: dict, where: str) -> list[str]:
    """A stray key is usually a label with an unquoted comma cut in two by YAML."""
    return [f"{where} › {raw.get('code', '?')}: khóa lạ '{k}' (nhãn có dấu phẩy phải đặt trong ngoặc kép)"
            for k in raw if k not in _FIELD_KEYS]


def _field(raw: dict, where: str, section: str = "", stt: str = "") -> Field:
    kind = raw.get("type", "count")
    ratio = tuple(raw["ratio"]) if raw.get("ratio") else None
    lo, hi = raw.get("min"), raw.get("max")
    if kind in NUMERIC and lo is None:
        lo = 0
    if kind == "percent" and hi is None:
        hi = 100
    default_agg = "ratio" if ratio else ("none" if kind not in NUMERIC else "sum")
    return Field(
        code=str(raw.get("code", "")),
        label=nfc(str(raw.get("label", ""))),
        type=kind,
        unit=nfc(str(raw.get("unit", ""))),
        min=lo,
        max=hi,
        required=bool(raw.get("required", False)),
        note=nfc(str(raw.get("note", ""))),
        choices=raw.get("choices"),
        units=raw.get("units", default_agg),
        periods=raw.get("periods", default_agg),
        ratio=ratio,
        section=section,
        stt=stt,
        phrase=nfc(str(raw.get("phrase", ""))),
        suggest=raw.get("suggest"),
        typical=tuple(float(x) for x in raw["typical"]) if raw.get("typical") else None,
    )


def _read_yaml(path: Path) -> dict:
    try:
        # libyaml's safe loader when PyYAML has it: 5x faster, same safe subset
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BaocaoError(f"Không đọc được tệp định nghĩa {path.name} (sai cú pháp YAML hoặc không mở được)",
                          detail=str(exc)) from None


def load_form_from(folder: Path) -> Form:
    """Load and self-check the definition in `folder`; raise on any problem."""
    base = _read_yaml(folder / "form.yaml")
    ind = _read_yaml(folder / "indicators.yaml")
    rules_path = folder / "rules.yaml"
    rules_doc = _read_yaml(rules_path) if rules_path.exists() else {}
    rules = rules_doc.get("rules", [])

    stray: list[str] = []
    for s in ind.get("sections", []):
        for g in s.get("groups", []):
            for r in g.get("indicators", []):
                stray += _unknown_keys(r, "indicators.yaml")
                if "units" not in r and (r.get("periods") == "latest" or r.get("type") == "percent"):
                    # summing a stock or a rate over units is the mistake that prints 40.106 thủ tục for a city
                    stray.append(f"indicators.yaml › {r.get('code', '?')}: chỉ tiêu tồn cuối kỳ hoặc tỷ lệ phải ghi "
                                 "rõ cách tổng hợp theo đơn vị (units: sum, ratio, mean, median hoặc none)")
    for m in base.get("metadata", []):
        stray += _unknown_keys(m, "form.yaml › metadata")
    for lst in base.get("lists", []):
        for c in lst.get("columns", []):
            stray += _unknown_keys(c, f"form.yaml › lists › {lst.get('id')}")
    for name, items in (base.get("choices") or {}).items():
        for c in items if isinstance(items, list) else []:
            stray += [f"form.yaml › choices › {name} › {c.get('code')}: khóa lạ '{k}' (nhãn có dấu phẩy "
                      "phải đặt trong ngoặc kép)" for k in c if k not in _CHOICE_KEYS]

    sections = []
    for s in ind.get("sections", []):
        groups = []
        for gi, g in enumerate(s.get("groups", []), start=1):
            fields = tuple(_field(r, "indicators.yaml", s["id"], f"{gi}.{ii}")
                           for ii, r in enumerate(g.get("indicators", []), start=1))
            groups.append(Group(nfc(g["label"]), str(gi), fields))
        sections.append(Section(s["id"], str(s["stt"]), nfc(s["label"]), tuple(groups)))

    criteria = tuple(Choice(c["code"], nfc(c["label"]), {"max": c["max"]})
                     for c in base.get("cqtt", {}).get("criteria", []))
    province, units = province_units(base.get("province", DEFAULT_PROVINCE), folder / OVERRIDE_FILE)
    choices: dict[str, tuple[Choice, ...]] = {
        "don_vi_ma": tuple(Choice(u.code, u.code) for u in units),
        "don_vi_ten": tuple(Choice(u.code, u.name) for u in units),
    }
    # a report type names its periods by code (Q1, 6T); a submission carries the label
    period_labels = {str(c["code"]): nfc(str(c["label"])) for c in (base.get("choices") or {}).get("ky_bao_cao", [])}
    reports = {str(r["code"]): ReportDef(
        code=str(r["code"]), label=nfc(str(r.get("label", r["code"]))), title=nfc(str(r.get("title", ""))),
        template=str(r.get("template", "")),
        periods=tuple(period_labels.get(str(x), str(x)) for x in r["periods"]) if r.get("periods") else None,
        blocks=tuple(r.get("blocks") or ()), ratios=tuple(r.get("ratios") or ()), city=bool(r.get("city")),
        options=dict(r.get("options") or {})) for r in base.get("reports", [])}
    ratios = {str(r["code"]): RatioDef(str(r["code"]), nfc(str(r.get("label", ""))), tuple(r.get("of") or ()),
                                       int(r.get("decimals", 2)), r.get("typed"))
              for r in base.get("ratios", [])}
    stray += [f"form.yaml › reports › {r.get('code')}: khóa lạ '{k}'" for r in base.get("reports", [])
              for k in r if k not in _REPORT_KEYS]
    stray += [f"form.yaml › ratios › {r.get('code')}: khóa lạ '{k}'" for r in base.get("ratios", [])
              for k in r if k not in _RATIO_KEYS]
    # a whole group is offered before its indicators, for a row of Số liệu riêng that gives the group a window
    indicator_choices = tuple(c for s in sections for g in s.groups
                              for c in (Choice(f"{s.id}.{g.stt}", f"Nhóm {s.id}.{g.stt}: {g.label}",
                                               {"codes": tuple(f.code for f in g.indicators)}),
                                        *(Choice(f.code, f"{f.code}: {f.label}") for f in g.indicators)))
    levels = tuple(Choice(str(lv["code"]), nfc(str(lv["label"])), {k: v for k, v in lv.items() if k not in ("code", "label")})
                   for lv in base.get("cqtt", {}).get("levels", []))
    derived = {"cqtt.criteria": criteria, "cqtt.levels": levels, "indicators": indicator_choices,
               # a commune workbook feeds unit reports only; the city synthesis is not chosen there
               "reports": tuple(Choice(r.code, r.label) for r in reports.values() if not r.city)}
    for name, items in (base.get("choices") or {}).items():
        if isinstance(items, dict) and items.get("from") in derived:
            choices[name] = derived[items["from"]]
            continue
        choices[name] = tuple(
            Choice(str(c["code"]), nfc(str(c["label"])),
                   {k: v for k, v in c.items() if k not in ("code", "label")})
            for c in items)

    lists = tuple(
        ListDef(lst["id"], nfc(lst["sheet"]), lst["table"], nfc(lst["label"]),
                int(lst.get("blank_rows", 20)),
                tuple(_field(c, "form.yaml") for c in lst["columns"]))
        for lst in base.get("lists", []))

    form = Form(
        form_id=str(base["form_id"]),
        version=str(base["version"]),
        title=nfc(base.get("title", "")),
        deadline_days=int(base.get("deadline_days", 5)),
        closing_day=int(base.get("closing_day", 31)),
        metadata=tuple(_field(m, "form.yaml") for m in base.get("metadata", [])),
        sections=tuple(sections),
        lists=lists,
        choices=choices,
        cqtt_criteria=criteria,
        cqtt_levels=tuple(base.get("cqtt", {}).get("levels", [])),
        units=units,
        province=province,
        city_report=dict(base.get("city_report") or {}),
        rules=tuple(rules),
        rule_knobs=dict(rules_doc.get("documents") or {}),
        plausibility=dict(rules_doc.get("plausibility") or {}),
        source=folder,
        reports=reports,
        ratios=ratios,
    )
    problems = stray + self_check(form)
    if problems:
        raise BaocaoError("Định nghĩa biểu mẫu có lỗi:\n" + "\n".join(f"- {p}" for p in problems))
    return form


def self_check(form: Form) -> list[str]:
    """Every problem of the definition, each naming the file and the entry."""
    out: list[str] = []
    seen: dict[str, str] = {}

    def code_ok(code: str, where: str) -> None:
        if not _CODE.match(code):
            out.append(f"{where}: mã '{code}' phải gồm chữ in hoa, số và dấu gạch dưới, bắt đầu bằng chữ")
        elif _A1.match(code) or _R1C1.match(code):
            out.append(f"{where}: mã '{code}' trùng dạng địa chỉ ô Excel, không dùng làm tên được")
        if code in seen:
            out.append(f"{where}: mã '{code}' bị trùng (đã có ở {seen[code]})")
        seen[code] = where

    def field_ok(f: Field, where: str) -> None:
        if f.type not in TYPES:
            out.append(f"{where}: kiểu '{f.type}' không hợp lệ (chỉ nhận {', '.join(TYPES)})")
        if f.units not in UNIT_AGGS:
            out.append(f"{where}: cách tổng hợp theo đơn vị '{f.units}' không hợp lệ")
        if f.periods not in PERIOD_AGGS:
            out.append(f"{where}: cách tổng hợp theo kỳ '{f.periods}' không hợp lệ")
        if f.type == "choice" and f.choices not in form.choices:
            out.append(f"{where}: danh mục '{f.choices}' không tồn tại")
        if f.suggest and (f.type != "text" or f.suggest not in form.choices):
            out.append(f"{where}: suggest '{f.suggest}' cần một ô văn bản và một danh mục có trong choices")
        if f.min is not None and f.max is not None and f.min > f.max:
            out.append(f"{where}: giới hạn dưới lớn hơn giới hạn trên")
        if not f.label:
            out.append(f"{where}: thiếu nhãn tiếng Việt")

    for f in form.metadata:
        where = f"form.yaml › metadata › {f.code}"
        code_ok(f.code, where)
        field_ok(f, where)
    for f in form.indicators:
        where = f"indicators.yaml › {f.code}"
        code_ok(f.code, where)
        field_ok(f, where)
    codes = {i.code for i in form.indicators}
    for f in form.indicators:
        if f.ratio:
            for ref in f.ratio:
                if ref not in codes:
                    out.append(f"indicators.yaml › {f.code}: tỷ lệ tham chiếu mã không tồn tại '{ref}'")
        if f.units == "ratio" and not f.ratio:
            out.append(f"indicators.yaml › {f.code}: tổng hợp 'ratio' cần khai báo ratio: [tử số, mẫu số]")
        if f.units == "ratio" and f.ratio and any(ref in codes and form.indicator(ref).units != "sum"
                                                  for ref in f.ratio):
            out.append(f"indicators.yaml › {f.code}: tỷ lệ tính lại từ tử số và mẫu số (units: ratio) cần hai chỉ "
                       "tiêu cộng được (units: sum); tử số hoặc mẫu số không cộng được thì dùng units: mean")
        if f.units in OVER_UNITS and not f.numeric:
            out.append(f"indicators.yaml › {f.code}: units: {f.units} chỉ dùng cho chỉ tiêu là số")
    for lst in form.lists:
        cols = set()
        for c in lst.columns:
            where = f"form.yaml › lists › {lst.id} › {c.code}"
            field_ok(c, where)
            if c.code in cols:
                out.append(f"{where}: cột bị trùng")
            cols.add(c.code)
    for name, items in form.choices.items():
        labels = [c.label.casefold() for c in items]
        for dup in sorted({x for x in labels if labels.count(x) > 1}):
            out.append(f"form.yaml › choices › {name}: nhãn '{dup}' bị trùng")
    blocks = {c.code for c in form.choices.get("muc_noi_dung", ())}
    for r in form.reports.values():
        where = f"form.yaml › reports › {r.code}"
        if not r.title or not r.template:
            out.append(f"{where}: thiếu tên (title) hoặc tệp mẫu (template)")
        out += [f"{where}: mục nội dung '{b}' không có trong danh mục muc_noi_dung" for b in r.blocks
                if b not in blocks]
        out += [f"{where}: tỷ lệ '{x}' không có trong ratios" for x in r.ratios if x not in form.ratios]
        labels = {c.label for c in form.choices.get("ky_bao_cao", ())}
        out += [f"{where}: kỳ '{x}' không có trong ky_bao_cao" for x in r.periods or () if x not in labels]
    for x in form.ratios.values():
        where = f"form.yaml › ratios › {x.code}"
        if len(x.of) != 2 or any(c not in codes for c in x.of):
            out.append(f"{where}: 'of' phải là [tử số, mẫu số] gồm hai mã chỉ tiêu có trong indicators.yaml")
        if x.typed and x.typed not in codes:
            out.append(f"{where}: chỉ tiêu tỷ lệ gõ tay '{x.typed}' không có")
    out += _periods_check(form)
    if not 1 <= form.closing_day <= 31 or form.deadline_days < 0:
        out.append("form.yaml › closing_day phải từ 1 đến 31 và deadline_days không âm")
    total = sum(c.extra["max"] for c in form.cqtt_criteria)
    if form.cqtt_criteria and total != 100:
        out.append(f"form.yaml › cqtt › criteria: tổng điểm tối đa là {total}, phải bằng 100")
    return out


def _periods_check(form: Form) -> list[str]:
    out = []
    codes = {p.code for p in form.periods}
    for p in form.periods:
        where = f"form.yaml › choices › ky_bao_cao › {p.code}"
        if p.months and not (len(p.months) == 2 and 1 <= p.months[0] <= p.months[1] <= 12):
            out.append(f"{where}: months phải là [tháng đầu, tháng cuối] trong khoảng 1-12")
        for ref in (*p.rollup, *(code for code, _ in p.previous)):
            if ref not in codes:
                out.append(f"{where}: tham chiếu kỳ không có trong danh mục '{ref}'")
    return out


@lru_cache(maxsize=1)
def load_form() -> Form:
    """The bundled form definition (cached: it is read once per process)."""
    folder = Path(str(resources.files("toolkit") / "definition"))
    return load_form_from(folder)
