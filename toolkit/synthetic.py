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

import math
import os
import random
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from toolkit.atomic import atomic_path
from toolkit.definition import BinOp, Form, Num, Ref, Unit, load_form, load_rules
from toolkit.excel import build
from toolkit.vnformat import CITY_TZ, ratio_percent

DEMO_NOTE = "Dữ liệu mô phỏng, không phải số liệu thật"
PREFIX = "DU_LIEU_MAU_"
TOPICAL_MONTHS = (1, 6)  # a topical report (no months in the definition) is given a half-year of data
_SENTINEL = 7_000_000_000
_NUM = re.compile(rb"<v>(7000\d{4}(?:\d\d)?)</v>")  # a sentinel; a percentage's (stored / 100) has 8 digits
_STR = re.compile("§([A-Z_]+)§".encode())


def window(form: Form, period: str, year: int) -> tuple[date, date]:
    """The data window by the city's closing day (form.yaml closing_day, see DOMAIN.md): Quý I runs 15/12 – 14/3."""
    first, last = form.period(period).months or TOPICAL_MONTHS
    day = form.closing_day
    start = date(year - 1, 12, day + 1) if first == 1 else date(year, first - 1, day + 1)
    return start, date(year, last, day)


def file_name(unit: Unit, period: str, year: int, copy: int = 0) -> str:
    return f"{PREFIX}{unit.code}_{period}_{year}" + (f"_lan{copy + 1}" if copy else "") + ".xlsx"


def _terms(node) -> list[str] | None:
    """The codes of a plain sum (A + B + C), or None for any other expression."""
    if isinstance(node, Ref):
        return [node.code]
    if isinstance(node, BinOp) and node.op == "+":
        left, right = _terms(node.left), _terms(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _scaled(node) -> tuple[list[str], float] | None:
    """A plain sum or a number times one (3 * NS_THU_KH, 0.2 * (A + B)) as (codes, factor)."""
    if isinstance(node, BinOp) and node.op == "*" and isinstance(node.left, Num):
        terms = _terms(node.right)
        return (terms, node.left.value) if terms is not None else None
    terms = _terms(node)
    return (terms, 1.0) if terms is not None else None


def shapes(form: Form) -> tuple[list[tuple[str, list[str]]], list[tuple[list[str], list[str], float]]]:
    """The rules of the definition the figures must obey: identities (total, parts) and bounds
    (lhs <= factor * rhs), the plausibility bounds included."""
    numeric = {i.code for i in form.indicators if i.numeric}
    identities, bounds = [], []
    for rule in load_rules(form):
        if rule.kind != "compare":
            continue
        left, right, op = _scaled(rule.tree.left), _scaled(rule.tree.right), rule.tree.op
        if left is None or right is None or not set(left[0] + right[0]) <= numeric:
            continue
        if op == "==" and left[1] == right[1] == 1 and (len(left[0]) == 1 or len(right[0]) == 1):
            identities.append((left[0][0], right[0]) if len(left[0]) == 1 else (right[0][0], left[0]))
        elif op in ("<=", "<") and left[1] == 1:
            bounds.append((left[0], right[0], right[1]))
        elif op in (">=", ">") and right[1] == 1:
            bounds.append((right[0], left[0], left[1]))
    return identities, bounds


def _unit_rnd(unit_code: str, *what: Any) -> random.Random:
    """The unit's own draw of something: the same in every period, so that its history is steady."""
    return random.Random("/".join(map(str, (unit_code, *what))))


def _size(unit_code: str) -> float:
    """How big the unit is against a middle one (about 20.000 inhabitants): from half to twice."""
    return math.exp(_unit_rnd(unit_code, "size").uniform(math.log(0.5), math.log(2.0)))


def _draw(ind, unit_code: str, year: int, rnd: random.Random, scale: float, least: float = 1) -> int | float:
    """A figure of an indicator nobody splits: the unit's own level (its `typical` range, or a wide one
    without), its size, a flow's months, and a little noise of the period (a stock is steady in a year)."""
    lo = ind.min if ind.min is not None else 0
    own = _unit_rnd(unit_code, ind.code)
    if ind.type == "percent":
        base = own.uniform(max(lo, 88.0), ind.max if ind.max is not None else 100.0)
        return round(min(max(base + rnd.uniform(-1, 1), lo), ind.max if ind.max is not None else 100.0), 1)
    flow = ind.periods == "sum"
    low, high = ind.typical or (min(least, 20), 2000 if flow else 200)
    level = own.uniform(low, high) if low <= 0 else math.exp(own.uniform(math.log(low), math.log(high)))
    size = _size(unit_code)
    if flow:
        x = level * size * scale * rnd.uniform(0.92, 1.08)
    else:
        x = level * math.sqrt(size) * _unit_rnd(unit_code, ind.code, year).uniform(0.97, 1.03)
    if ind.typical is None and ind.type == "money":
        x *= 100
    x = max(x, least if not (ind.typical and ind.typical[0] <= 0) else 0)
    if ind.max is not None:
        x = min(x, ind.max)
    x = max(x, lo)
    return round(x, 1) if ind.type in ("money", "decimal") else round(x)


def _split(total: int | float, n: int, rnd: random.Random, whole: bool) -> list[int | float]:
    """`total` in n shares, the first the main one (80-99 %), as forms list the main part first;
    whole shares are at least 1 when the total allows it. `rnd` is the unit's own: the same shares
    in every period."""
    if n == 1:
        return [total]
    floor = 1 if whole and total >= n else 0
    total -= floor * n
    main = rnd.uniform(0.80, 0.99)
    weights = [main] + [rnd.random() + 1e-6 for _ in range(n - 1)]
    rest = sum(weights[1:])
    shares = [total * main] + [total * (1 - main) * w / rest for w in weights[1:]]
    if not whole:
        shares = [round(x, 1) for x in shares]
        shares[0] = round(total - sum(shares[1:]), 1)
        return shares
    parts = [int(x) for x in shares]
    parts[0] += int(total) - sum(parts)
    return [floor + p for p in parts]


# Planted anomalies the demo names (toolkit.demo), each passing every sum of the form:
ANOMALIES = {
    "tinh-gian": "tinh giản gần hết biên chế trong một kỳ",
    "thu-ngan-sach": "thu ngân sách gấp 8 lần kế hoạch",
    "ho-so-gap-10": "mọi số hồ sơ TTHC gấp 10 lần (gõ thừa một chữ số 0)",
}


def _plant(v: dict[str, Any], form: Form, kind: str) -> None:
    if kind == "tinh-gian":
        v["CV_TINH_GIAN"] = int(0.8 * ((v.get("CC_BIEN_CHE") or 0) + (v.get("VC_BIEN_CHE") or 0)))
    elif kind == "thu-ngan-sach":
        v["NS_THU_TH"] = round(8.02 * v["NS_THU_KH"], 1)
    elif kind == "ho-so-gap-10":
        for ind in form.indicators:
            if ind.unit == "hồ sơ" and isinstance(v.get(ind.code), int):
                v[ind.code] *= 10


def unit_values(form: Form, unit_code: str, period: str, year: int, broken: bool = False,
                anomaly: str = "") -> dict[str, Any]:
    """Every numeric indicator of one unit, drawn from the definition and obeying its rules.

    The unit has a size and a level of its own for every indicator, the same in every period: a
    flow is that level times the months of the period, a stock (biên chế, the year's plan) is the
    same in every period of a year, so the unit's history is steady and its plan one. The identities
    of rules.yaml (total == part + part ...) are met by splitting each total into its parts, top
    down; bounds (a <= k * b, the plausibility bounds too) by drawing the smaller side again below
    the larger; a flow against a yearly plan (thu ngân sách / kế hoạch) is the plan's share of the
    months elapsed; each percentage that declares `ratio` is the ratio of its counts. A new indicator
    or rule in the definition is generated with no change here. `anomaly` plants one of ANOMALIES.
    """
    rnd = random.Random(f"{unit_code}/{period}/{year}")
    first, last = form.period(period).months or TOPICAL_MONTHS
    scale = (last - first + 1) / 3
    identities, bounds = shapes(form)
    inds = {i.code: i for i in form.indicators}
    in_parts = {p for _, parts in identities for p in parts}
    totals = {t for t, _ in identities}
    # a total is at least 20 so that each of its parts can be more than nothing
    v: dict[str, Any] = {i.code: _draw(i, unit_code, year, rnd, scale, 20 if i.code in totals else 1)
                         for i in form.indicators if i.numeric and not i.ratio and i.code not in in_parts}
    pending = list(identities)
    while pending:
        ready = [(t, parts) for t, parts in pending if t in v]
        if not ready:  # parts of totals nobody set: give the first open total a value of its own
            ready = [pending[0]]
            v[ready[0][0]] = _draw(inds[ready[0][0]], unit_code, year, rnd, scale, 20)
        for total, parts in ready:
            pending.remove((total, parts))
            free = [p for p in parts if p not in v]
            rest = v[total] - sum(v[p] for p in parts if p in v)
            if free:
                whole = all(inds[p].type == "count" for p in free)
                v.update(zip(free, _split(max(rest, 0), len(free), _unit_rnd(unit_code, "split", total), whole)))
    fixed = totals | in_parts
    for ind in form.indicators:  # a flow against a plan of the year: the share of the months elapsed
        if ind.ratio and inds[ind.ratio[0]].periods == "sum" and inds[ind.ratio[1]].periods == "latest":
            num, den = ind.ratio
            if num not in fixed and v.get(den):
                pace = _unit_rnd(unit_code, "pace", num).uniform(0.45, 0.9)
                x = v[den] * (last - first + 1) / 12 * pace * rnd.uniform(0.95, 1.05)
                v[num] = int(x) if inds[num].type == "count" else round(x, 1)
    for lhs, rhs, factor in bounds:  # a free smaller side is drawn again below the larger
        limit = factor * sum(v.get(c) or 0 for c in rhs)
        if sum(v.get(c) or 0 for c in lhs) > limit and not set(lhs) & fixed:
            whole = all(inds[c].type == "count" for c in lhs)
            target = limit * _unit_rnd(unit_code, "bound", *lhs).uniform(0.5, 1.0)
            target = int(target) if whole else round(target, 1)
            v.update(zip(lhs, _split(target, len(lhs), _unit_rnd(unit_code, "split", *lhs), whole)))
    if anomaly:
        _plant(v, form, anomaly)
    for ind in form.indicators:  # every percentage is the ratio of its own counts, within its bounds
        if ind.ratio and v.get(ind.ratio[0]) is not None and v.get(ind.ratio[1]):
            num, den = ind.ratio
            top = ind.max if ind.max is not None else 100
            if ratio_percent(v[num], v[den]) > top and num not in fixed:
                x = v[den] * top / 100 * _unit_rnd(unit_code, "ratio", num).uniform(0.3, 0.99)
                v[num] = int(x) if inds[num].type == "count" else round(x, 1)
            v[ind.code] = ratio_percent(v[num], v[den])
    if broken and identities:  # the first identity no longer holds
        v[identities[0][0]] += 7
    return {k: v[k] for k in (i.code for i in form.indicators) if k in v}


def unit_data(form: Form, unit: Unit, period: str, year: int, broken: bool = False,
              anomaly: str = "") -> dict[str, Any]:
    """A data dict for `workbook.build()` (same shape as toolkit/samples/*.yaml)."""
    p = form.period(period)
    start, end = window(form, p.code, year)
    values = unit_values(form, unit.code, p.code, year, broken, anomaly)
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

    def fits(self, data: dict[str, Any]) -> bool:
        """Whether `data` fills the same cells as the template (a ratio over 0 leaves its cell blank)."""
        return set(data["so_lieu"]) == set(self.codes[:-1])

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
    # office hours in the city, whatever the clock of the machine that generates
    return datetime.combine(end + timedelta(days=days), time(8 + rnd.randint(0, 8), rnd.randint(0, 59)),
                            tzinfo=CITY_TZ)


def generate(folder: Path | str, period: str, year: int, units: list[Unit] | None = None,
             missing: set[str] = frozenset(), late: set[str] = frozenset(), broken: set[str] = frozenset(),
             form: Form | None = None, fast: bool = True, anomalies: dict[str, str] | None = None) -> list[Path]:
    """Write one synthetic workbook per unit (skipping `missing`); file mtime = time received;
    `anomalies`: unit code -> a kind of ANOMALIES planted in its figures."""
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
        data = unit_data(form, unit, code, year, broken=unit.code in broken,
                         anomaly=(anomalies or {}).get(unit.code, ""))
        out = folder / file_name(unit, code, year)
        patcher.write(out, data) if patcher and patcher.fits(data) else build(form, out, data)
        stamp = received_at(form, code, year, unit.code, unit.code in late).timestamp()
        os.utime(out, (stamp, stamp))
        paths.append(out)
    return paths
