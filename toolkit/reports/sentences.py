"""The sentences unit reports write from the figures: the Jinja templates of definition/sentences.yaml.

The wording lives in the definition, where a city admin reads and changes it; this
module only gives the templates the figures of one submission, formatted the
Vietnamese way (toolkit.vnformat), and splits what they write into sentences.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jinja2
import yaml

from toolkit.definition import Form
from toolkit.errors import BaocaoError
from toolkit.intake import Submission
from toolkit.reports.windows import STOCKS, Window
from toolkit.vnformat import fmt_count, fmt_money, fmt_number


def num(n: int | float) -> str:
    """A count in prose: 05, 5.892; zero stays "0" as the seeds write it ("0 hồ sơ")."""
    if n == 0:
        return "0"
    return fmt_count(int(n)) if float(n).is_integer() else fmt_number(n)


def qty(n: int | float | None, unit: str) -> str:
    return "" if n is None else f"{num(n)} {unit}".strip()


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def join(parts: Iterable[str | None], sep: str = "; ") -> str:
    return sep.join(p for p in parts if p)


def breakdown(total: Any, parts: list, none: list = ()) -> str:
    """What a total is made of, as the seeds write it, for the non-zero parts:
    several -> ", trong đó: 5.805 hồ sơ trong kỳ; 87 hồ sơ từ kỳ trước";
    one that is not the whole -> " (trong đó 25 hồ sơ từ kỳ trước chuyển sang)" (a part [số, lời, lời khi một
    mình] has its own words when it stands alone); none, or one that is the whole -> nothing.
    `none` [[số, "không có hồ sơ quá hạn"], …]: what a zero part says in words, said when that part is 0 ("; không
    có …" after the parts, ", không có …" when there is no list of parts)."""
    shown = [p for p in parts if p[0]]
    zeros = [text for v, text in none if v == 0]
    if len(shown) > 1:
        return ", trong đó: " + "; ".join([p[1] for p in shown] + zeros)
    alone = f" (trong đó {shown[0][-1]})" if shown and shown[0][0] != total else ""
    return alone + "".join(f", {text}" for text in zeros)


def group_codes(form: Form, section: str, number: int) -> tuple[str, ...]:
    """Indicator codes of one group of indicators.yaml, in its order."""
    sec = next(x for x in form.sections if x.id == section)
    return tuple(f.code for f in sec.groups[number - 1].indicators)


_STATED = re.compile(r"\b(?:n|so|pt|ten|ghi_chu)\.([A-Z][A-Z0-9_]*)")
_RATIO = re.compile(r"\btl\.([A-Z][A-Z0-9_]*)")
_GROUP = re.compile(r"\bnhom\(\s*['\"](\w+)['\"]\s*,\s*(\d+)\s*\)")


def stated_by(form: Form, names: set[str]) -> tuple[set[str], bool]:
    """The indicator codes the sentence groups `names` (`cau.<group>`) can state, and whether they state the
    rows of sheet Hồ sơ quá hạn: read from the wording in sentences.yaml, so an edit there moves them too."""
    raw = _raw(form)
    codes, overdue = set(), False
    for name in names:
        if name in raw["theo_nhom"]:
            codes |= set(group_codes(form, *raw["theo_nhom"][name]))
        text = "\n".join(raw["cau"].get(name) or ())
        codes |= set(_STATED.findall(text))
        codes |= {c for r in _RATIO.findall(text) if r in form.ratios for c in form.ratios[r].of}
        codes |= {c for section, number in _GROUP.findall(text) for c in group_codes(form, section, int(number))}
        overdue = overdue or "qua_han" in text
    return codes, overdue


def _raw(form: Form) -> dict:
    """sentences.yaml of `form`, parsed."""
    path = Path(form.source) / "sentences.yaml"
    try:
        return _parsed(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BaocaoError("không đọc được tệp câu văn sentences.yaml", path=str(path), detail=str(exc)) from None


@lru_cache(maxsize=4)
def _parsed(text: str) -> dict:
    """One sentences.yaml text parsed once: a batch of 114 reports asks what each states 114 times."""
    return yaml.safe_load(text)


def _templates(path: Path) -> tuple[dict[str, tuple[str, ...]], jinja2.Template, dict[str, list[jinja2.Template]],
                                   dict[str, list[str]]]:
    try:
        return _compiled(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaocaoError(f"không đọc được tệp câu văn {path.name} ({exc.strerror})") from None


@lru_cache(maxsize=4)
def _compiled(text: str) -> tuple[dict[str, tuple[str, ...]], jinja2.Template, dict[str, list[jinja2.Template]],
                                  dict[str, list[str]]]:
    """The templates of one sentences.yaml text, compiled once per text (a batch of 114 reports pays once)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(thuong=lower_first, hoa_dau=upper_first)
    env.globals.update(dem=qty, so_dem=num, tien=fmt_money, trong_do=breakdown, noi=join)
    try:
        raw = yaml.safe_load(text)
        groups = {name: tuple(ref) for name, ref in raw["theo_nhom"].items()}
        one = env.from_string(raw["chi_tieu"])
        sentences = {name: [env.from_string(t) for t in items] for name, items in raw["cau"].items()}
        sources = {name: [str(t) for t in items] for name, items in raw["cau"].items()}
    except (yaml.YAMLError, KeyError, TypeError, jinja2.TemplateSyntaxError) as exc:
        raise BaocaoError("tệp câu văn sentences.yaml sai cú pháp (YAML hoặc mẫu Jinja); xem lại phần vừa sửa",
                          detail=str(exc)) from None
    return groups, one, sentences, sources


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def blocks_of(form: Form) -> dict[str, tuple[str, ...]]:
    """Group of sentences -> the blocks of sheet Nội dung it is printed with (sentences.yaml `cua_muc`)."""
    return {name: tuple(codes) for name, codes in (_raw(form).get("cua_muc") or {}).items()}


_QUOTED = re.compile(r"['\"]([A-Z][A-Z0-9_]*)['\"]")


_READS: dict[tuple[int, str], tuple[Form, tuple[str, ...]]] = {}


def _reads(form: Form, source: str) -> tuple[str, ...]:
    """The indicator codes one template can state, in the order it names them: n.X, so.X, pt.X, ten.X, the
    counts and typed cell of tl.X, the codes of nhom(…) and codes written as strings ('CC_BIEN_CHE' of a loop).
    Read once per form and template: a batch of 114 reports asks 114 times."""
    key = (id(form), source)
    cached = _READS.get(key)
    if cached is None or cached[0] is not form:
        cached = _READS[key] = (form, _read(form, source))
    return cached[1]


def _read(form: Form, source: str) -> tuple[str, ...]:
    codes = [*_STATED.findall(source), *(c for r in _RATIO.findall(source) if r in form.ratios
                                         for c in (*form.ratios[r].of, form.ratios[r].typed) if c),
             *(c for section, number in _GROUP.findall(source) for c in group_codes(form, section, int(number))),
             *_QUOTED.findall(source)]
    return tuple(c for c in dict.fromkeys(codes) if form.field(c) is not None)


# Names that keep their capital inside a sentence ("…, Ủy ban nhân dân thành phố giao", "…, Kế hoạch cải cách …").
_PROPER = ("Ủy ban", "Kế hoạch", "Chủ tịch", "Hội đồng", "Trung tâm")


def _in_window(sentence: str, phrase: str, period: str = "") -> str:
    """"Từ ngày 01/01/2026 đến nay, tin bài …": the window leads; "Trong kỳ" or the period ("6 tháng đầu năm
    2026, …") gives way to it."""
    for lead in ("Trong kỳ, ", "Trong kỳ ", *((f"{upper_first(period)}, ",) if period else ())):
        sentence = sentence.removeprefix(lead)
    # an abbreviation keeps its capitals ("TTHC …", "DVCTT …"), and so does a name
    keep = (len(sentence) > 1 and sentence[1].isupper()) or sentence.startswith(_PROPER)
    return f"{upper_first(phrase)}, {sentence if keep else lower_first(sentence)}"


def sentences(sub: Submission, form: Form, values: dict[str, Any], windows: dict[str, Any] | None = None,
              views: Any = None, base: dict[str, Any] | None = None, workbook: Any = None) -> dict[str, list[str]]:
    """`cau.<group>` of a report: each template of sentences.yaml rendered over `values` (n, so, pt, tl, …).

    `windows` (code -> toolkit.reports.windows.Window) are the figures counted over another window than
    the `workbook`'s; a template whose figures span two windows is written once per window, each time over
    `views(window)` (the values of that window's figures only, None: the workbook's), and a sentence outside
    its group's `base` window (the workbook's, or the one a lead line already states) starts with its window."""
    groups, one, templates, sources = _templates(Path(form.source) / "sentences.yaml")
    windows, base = windows or {}, base or {}
    helpers = {"nhom": lambda section, number: group_codes(form, section, number)}

    def led(lines: list[str], window: Any, name: str, codes: list[str]) -> list[str]:
        if window == base.get(name) or (window or workbook) is None:
            return lines
        said = window or workbook
        if all(form.indicator(c).periods in STOCKS for c in codes):
            # a level is stated at its window's last day ("tính đến ngày …"), never over a span: the plan's size
            # is no flow "từ ngày … đến nay"
            said = Window(None, said.end)
        period = values["ky"]["ten"]
        return [_in_window(x, said.phrase(), period) for x in lines] if said.phrase() else lines

    try:
        out: dict[str, list[str]] = {}
        for name, items in templates.items():
            out[name] = []
            for template, source in zip(items, sources[name]):
                filled = [c for c in _reads(form, source) if values["n"].get(c) is not None]
                spans = list(dict.fromkeys(windows.get(c) for c in filled)) or [None]
                for window in spans:
                    shown = values if len(spans) == 1 else views(window)
                    out[name] += led(_lines(template.render({**shown, **helpers})), window, name,
                                     [c for c in filled if windows.get(c) == window])
        for name, (section, number) in groups.items():
            out[name] = [s for c in group_codes(form, section, int(number)) if values["n"][c] is not None
                         for s in led(_lines(one.render({**values, **helpers}, c=c)), windows.get(c), name, [c])]
    except jinja2.UndefinedError as exc:
        raise BaocaoError("tệp câu văn sentences.yaml dùng một tên không có trong số liệu (xem đầu tệp đó)",
                          path=str(sub.path), detail=str(exc.message)) from None
    return out
