"""Anomalies (bất thường): figures that pass every sum of the form yet are hard to believe.

Three sources, one list for the city workbook's «Bất thường» sheet:
- the form's own logic: the plausibility rules of rules.yaml, already warnings of each workbook;
- the unit's history (the store): its value against its own earlier periods, a modified z-score
  on the median and MAD of their logs with enough of them, a ratio to the last one otherwise,
  and a cumulative figure below an earlier period of the same year that it contains;
- its peers: the units of the same kind (xã, phường, đặc khu) of one consolidation, per
  inhabitant where the form has the population, a robust z-score on the log scale.
What is compared and every threshold are rules.yaml's `plausibility`; each anomaly says, in the
officer's words, what it was compared with and why it stands out.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from toolkit.city.store import Store, Stored
from toolkit.definition import EXPLAIN_JOIN, WARNING, Finding, Form, explain_note, flagged, load_rules
from toolkit.errors import BaocaoError
from toolkit.vnformat import fmt_number, period_year

Z_SCALE = 0.6745  # the MAD of a normal distribution in standard deviations (Iglewicz and Hoaglin)
RECENT = 8  # earlier periods a history looks at, the most recent first
KIND_VI = {"logic": "Logic của biểu mẫu", "history": "So với các kỳ trước", "peers": "So với đơn vị cùng loại"}
HISTORY_CODE = "bat-thuong-lich-su"
_COUNT_WORDS = {1: "kỳ trước đó", 2: "hai kỳ gần nhất", 3: "ba kỳ gần nhất"}


@dataclass(frozen=True)
class Anomaly:
    unit: str
    unit_name: str
    kind: str  # logic | history | peers
    code: str  # the indicator
    label: str
    value: Any
    compared: str  # what the value was compared with, with the figures
    why: str  # the sentence an officer reads: "6.451 hồ sơ, gấp 9,8 lần ... (658); ba kỳ gần nhất 620–700"
    source: str = ""  # file!Sheet!Cell of the value
    explanation: str = ""  # the unit's «Giải trình» of the figure: why it is true (it settles nothing by itself)


@dataclass(frozen=True)
class Acceptance:
    """An anomaly settled without a resubmission: this unit's figure `code`, at this value, is accepted as true
    `by` the city officer (who), for `reason`. Without a reason of its own an acceptance of an explained figure
    quotes the unit's explanation: accepting a «Giải trình» is copying three cells. A resubmitted figure of
    another value is not covered: it is checked again."""

    unit: str
    code: str
    value: Any
    by: str = "Sở Nội vụ"
    reason: str = ""

    def covers(self, a: Anomaly) -> bool:
        return (a.unit, a.code) == (self.unit, self.code) and _number(a.value) and _number(self.value) \
            and math.isclose(a.value, self.value, rel_tol=1e-9, abs_tol=1e-6)

    def said(self, a: Anomaly) -> str:
        """Who accepted it and why, as the report and the sheets quote it: "Sở Nội vụ chấp nhận: …", "Sở Nội vụ
        chấp nhận giải trình của đơn vị: “…”"."""
        if self.reason:
            return f"{self.by} chấp nhận: {self.reason}"
        if a.explanation:
            return f"{self.by} chấp nhận giải trình của đơn vị: “{a.explanation}”"
        return f"{self.by} chấp nhận"


def hold(res, accepted: Iterable[Acceptance] = ()) -> list[tuple[Anomaly, str]]:
    """Hold out of the city's figures every anomaly not settled (consolidation.HOLD_RULE): its figure, its
    indicator group (a total and its parts come from the same units) and the rates computed from them, on the
    unit's row (`UnitRow.held`: code -> why). Returns the settled ones with who accepted them."""
    form = res.form
    group_of = {i.code: tuple(x.code for x in g.indicators) for s in form.sections for g in s.groups
                for i in g.indicators}
    rows = {r.unit.code: r for r in res.rows}
    accepted = list(accepted)
    settled = []
    for row in res.rows:
        row.held = {}
    for a in res.anomalies:
        by = next((x.said(a) for x in accepted if x.covers(a)), None)
        if by is not None:
            settled.append((a, by))
            continue
        row = rows.get(a.unit)
        if row is None:
            continue
        why = f"{a.label.lower()} bất thường: {a.why.removeprefix('Bất thường: ')}"
        for code in group_of.get(a.code, (a.code,)):
            row.held.setdefault(code, why)
        for ind in form.indicators:  # a rate elsewhere computed from a held figure
            if ind.ratio and any(part in row.held for part in ind.ratio):
                row.held.setdefault(ind.code, why)
    return settled


def settings(form: Form) -> dict:
    """rules.yaml `plausibility`, its indicators checked against the form."""
    s = form.plausibility
    known = {f.code for f in form.indicators}
    unknown = [c for c in (*s.get("indicators", []), *s.get("peers", {}).get("indicators", [])) if c not in known]
    if unknown or ("peers" in s and s["peers"].get("per_capita", "DAN_SO") not in known):
        raise BaocaoError(f"rules.yaml › plausibility: mã không có trong biểu mẫu: {', '.join(unknown)}")
    return s


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _shown(v: float, unit: str) -> str:
    return f"{fmt_number(round(v, 2))} {unit}".strip()


def _against(x: float, ref: float, name: str, ref_text: str) -> str:
    """x against a reference `name` whose value reads `ref_text`: "gấp 9,8 lần 6 tháng đầu năm 2025 (658)",
    "chỉ bằng 10% so với …", "xấp xỉ …". A zero or a negative on either side is stated, never divided by."""
    if ref <= 0 or x < 0:
        return f"trong khi {name} là {ref_text}"
    r = x / ref
    if round(r, 1) == 1:  # "gấp 1 lần", "chỉ bằng 100%" say nothing
        return f"xấp xỉ {name} ({ref_text})"
    if r > 1:
        return f"gấp {fmt_number(round(r, 1))} lần {name} ({ref_text})"
    return f"chỉ bằng {fmt_number(round(100 * r))}% so với {name} ({ref_text})"


def _span(low: float, high: float) -> str:
    low, high = fmt_number(round(low, 2)), fmt_number(round(high, 2))
    return f"từ {low} đến {high}" if low.startswith("-") else f"{low}–{high}"


def log_centre(refs: list[float]) -> tuple[float, float]:
    """(median, MAD) of the logs of refs: what a robust z-score measures against, computed once per group."""
    logs = [math.log1p(max(r, 0)) for r in refs]
    med = statistics.median(logs)
    return med, statistics.median(abs(v - med) for v in logs)


def z_score(x: float, centre: tuple[float, float], floor: float) -> float:
    """Modified z-score of log x against `log_centre` of its references."""
    med, mad = centre
    return Z_SCALE * (math.log1p(max(x, 0)) - med) / max(mad, floor)


def robust_z(x: float, refs: list[float], floor: float) -> tuple[float, float]:
    """(modified z-score of log x among the logs of refs, their median back on the value scale)."""
    centre = log_centre(refs)
    return z_score(x, centre, floor), math.expm1(centre[0])


def _months(form: Form, label: str) -> tuple[int, int] | None:
    try:
        return form.period(label).months
    except BaocaoError:
        return None


def history(form: Form, unit: str, unit_name: str, period: str, year: int, values: dict[str, tuple[Any, str]],
            earlier: Iterable[Stored]) -> list[Anomaly]:
    """The unit's figures of (period, year) against its own earlier periods (stored versions)."""
    s = settings(form)
    h, least = s.get("history"), float(s.get("min_value", 0))
    months = _months(form, period)
    if not h or not months:
        return []
    label = form.period(period).label
    past = sorted(((st, _months(form, st.period)) for st in earlier if st.year and _months(form, st.period)),
                  key=lambda p: (p[0].year, p[1][1], p[1][0]), reverse=True)
    past = [(st, m) for st, m in past if (st.year, m[1]) < (year, months[1])]
    out = []
    for code in s.get("indicators", []):
        ind = form.indicator(code)
        x, cell = values.get(code, (None, ""))
        if not _number(x):
            continue
        flow = ind.periods == "sum"
        seen = [(st, m, st.values.get(code, (None,))[0]) for st, m in past]
        seen = [(st, m, v) for st, m, v in seen if _number(v)]
        said = _history_one(form, code, x, flow, seen, year, months, label, h, least)
        if said:
            out.append(Anomaly(unit, unit_name, "history", code, ind.label, x, said[0],
                               f"{_shown(x, ind.unit)}, {said[1]}", cell))
    return out


def _history_one(form: Form, code: str, x: float, flow: bool, seen: list, year: int, months: tuple[int, int],
                 label: str, h: dict, least: float) -> tuple[str, str] | None:
    """(compared with, why) when one value stands out from its earlier periods `seen` [(stored, months, value)]."""
    ind = form.indicator(code)
    quarters = (months[1] - months[0] + 1) / 3
    inside = next(((st, v) for st, m, v in seen if flow and st.year == year and m != months
                   and months[0] <= m[0] and m[1] <= months[1] and v > x and v >= least), None)
    if inside:  # 6 tháng = Quý I + Quý II: never below Quý I
        st, v = inside
        where = period_year(st.period, st.year)
        return (f"{where}: {_shown(v, ind.unit)}",
                f"thấp hơn {where} ({fmt_number(v)}) dù {label.lower()} cộng dồn cả kỳ đó")
    same = [(st, v) for st, m, v in seen if st.period == label][:RECENT]
    enough = h.get("min_earlier", 3)
    if len(same) >= enough or (same and len(seen) < enough):
        refs, now, per = same, x, ""  # the same period type; with few periods, the last of that type
    elif flow:  # other period lengths: compared per quarter
        refs = [(st, v / ((m[1] - m[0] + 1) / 3)) for st, m, v in seen][:RECENT]
        now, per = x / quarters, " (bình quân một quý)"
    else:  # a stock (biên chế, the year's plan) is what it is at any period's end
        refs, now, per = [(st, v) for st, _, v in seen][:RECENT], x, ""
    if not refs or max(now, max(v for _, v in refs)) < least:
        return None
    last_st, last_v = refs[0]
    name, shown = f"{period_year(last_st.period, last_st.year)}{per}", fmt_number(round(last_v, 2))
    last = f"{name} ({shown})"
    if len(refs) >= enough:
        z, _ = robust_z(now, [v for _, v in refs], float(h.get("mad_floor", 0.15)))
        if abs(z) <= float(h.get("z", 3.5)):
            return None
        recent = sorted(v for _, v in refs[:3])
        span = _span(recent[0], recent[-1])
        return (f"{last}; {_COUNT_WORDS[len(recent)]}{per} {span}",
                f"{_against(now, last_v, name, shown)}; {_COUNT_WORDS[len(recent)]} {span}")
    ratio = float(h.get("ratio", 3))
    if last_v > 0 and 1 / ratio < now / last_v < ratio:
        return None
    return last, _against(now, last_v, name, shown)


def history_findings(form: Form, store: Store, sub) -> list[Finding]:
    """Warnings of a submission's history, located at its cells (kiem-tra --kho, the server's Nộp)."""
    if not sub.unit_code or not sub.period or not sub.year:
        return []
    values = {c: (v.value, str(v.loc)) for c, v in sub.values.items()}
    found = history(form, sub.unit_code, sub.unit_name or "", sub.period, sub.year, values,
                    store.history(sub.unit_code))
    return [Finding(HISTORY_CODE, WARNING, str(sub.path), sub.loc(a.code).sheet if sub.loc(a.code) else "",
                    sub.loc(a.code).cell if sub.loc(a.code) else "", f"Bất thường so với các kỳ trước: {a.why}"
                    + explain_note(a.code in sub.explanations), HISTORY_CODE, {a.code: a.value}) for a in found]


def peers(form: Form, rows: list) -> list[Anomaly]:
    """Each unit against the units of its kind in one consolidation (`rows`: UnitRow with values)."""
    s = settings(form)
    p, least = s.get("peers"), float(s.get("min_value", 0))
    if not p:
        return []
    pop_code = p.get("per_capita", "DAN_SO")
    out = []
    for code in p.get("indicators", s.get("indicators", [])):
        ind = form.indicator(code)
        per_capita = ind.periods == "sum" and code != pop_code
        groups: dict[str, list[tuple[Any, float, float]]] = {}
        for row in rows:
            x = row.value(code)
            pop = row.value(pop_code)
            if not _number(x) or x < least or (per_capita and not (_number(pop) and pop > 0)):
                continue
            groups.setdefault(row.unit.kind, []).append((row, x, x / pop * 1000 if per_capita else x))
        for kind, members in groups.items():
            if len(members) < p.get("min_units", 8):
                continue
            centre = log_centre([r for _, _, r in members])  # once per group: n members cost n log n, not n²
            med = math.expm1(centre[0])
            for row, x, r in members:
                if abs(z_score(r, centre, float(p.get("mad_floor", 0.15)))) <= float(p.get("z", 3.5)):
                    continue
                unit_of = f"{ind.unit}/1.000 dân" if per_capita else ind.unit
                name, median = f"trung vị của {len(members)} {kind.lower()}", _shown(med, unit_of)
                compared = f"{name}: {median}"
                own = f" ({_shown(r, unit_of)})" if per_capita else ""
                out.append(Anomaly(row.unit.code, row.unit.name, "peers", code, ind.label, x, compared,
                                   f"{_shown(x, ind.unit)}{own}, {_against(r, med, name, median)}",
                                   row.values.get(code, (None, ""))[1]))
    return out


def logic(form: Form, rows: list) -> list[Anomaly]:
    """The plausibility rules' warnings each workbook already carries."""
    rules = {r.id: r for r in load_rules(form) if r.plausibility}
    out = []
    for row in rows:
        for f in row.findings:
            rule = rules.get(f.get("rule", ""))
            if rule is None:
                continue
            code = flagged(rule)
            why = f.get("message", "").partition(EXPLAIN_JOIN)[0]  # whether explained: the unit's row says
            out.append(Anomaly(row.unit.code, row.unit.name, "logic", code, form.field(code).label,
                               row.value(code), rule.description, why, row.values.get(code, (None, ""))[1]))
    return out


def find(res, store: Store | None = None) -> list[Anomaly]:
    """Every anomaly of a consolidation: logic, history (with a store), peers; by unit then kind."""
    form = res.form
    if not form.plausibility:
        return []
    rows = [r for r in res.rows if r.values]
    out = logic(form, rows)
    if store is not None:
        for row in rows:
            out += history(form, row.unit.code, row.unit.name, res.period, res.year, row.values,
                           store.history(row.unit.code))
    out += peers(form, rows)
    said = {r.unit.code: r.explained for r in rows}
    out = [replace(a, explanation=said[a.unit][a.code][0]) if a.code in said.get(a.unit, {}) else a for a in out]
    order = {r.unit.code: i for i, r in enumerate(res.rows)}
    kinds = list(KIND_VI)
    return sorted(out, key=lambda a: (order.get(a.unit, 0), kinds.index(a.kind)))
