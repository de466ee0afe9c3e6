"""The checker: every finding of a submission at once, each located to Sheet!Cell, in Vietnamese.

Each check of the rulebook is decided here as the Kiểm tra sheet decides it in
Excel (`sheet_decisions`): the same verdict, counts, message and cell, which the
workbook writer stores as the formulas' cached results.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from toolkit.check.lists import cqtt_total, period_bounds, period_window, report_part_findings, row_findings, unit_name
from toolkit.definition import (
    ERROR,
    RATIO_SLIP,
    WARNING,
    Check,
    Finding,
    Form,
    Missing,
    Node,
    Outcome,
    Ref,
    catalogue,
    checks,
    evaluate,
    explain_note,
    flagged,
    leaf_label,
    linear,
    load_form,
    value_of,
)
from toolkit.intake import Loc, Submission, Value
from toolkit.vnformat import fmt_number, fmt_value, round_half_up

OK, SKIP = "ĐẠT", "CHƯA ĐỦ SỐ LIỆU"
EXCEL_EPOCH = date(1899, 12, 30)
VERDICT = {"ok": OK, "skip": SKIP, ERROR: "LỖI", WARNING: "CẢNH BÁO"}


@dataclass
class Decision:
    """A check decided on one submission: what its Kiểm tra row shows."""

    verdict: str  # ĐẠT / LỖI / CẢNH BÁO / CHƯA ĐỦ SỐ LIỆU
    findings: list[Finding] = field(default_factory=list)
    message: str = ""
    link: Loc | None = None
    cells: dict[str, Any] = field(default_factory=dict)  # a rule's outcome, left, right, d (blank = 0)

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)


def _lookup(sub: Submission) -> Callable[[Node], Any]:
    def lookup(node: Node) -> Any:
        if isinstance(node, Ref):
            return sub.get(node.code)
        values = [r.get(node.column) for r in sub.lists.get(node.list_id, [])]
        values = [v for v in values if isinstance(v, (int, float))]
        return sum(values) if values else None
    return lookup


def _show(sub: Submission, form: Form, code: str) -> str:
    v = sub.get(code)
    if v is None:
        return "trống"
    field = form.field(code)
    return fmt_value(v, field.type if field else "text")


def _message(template: str, sub: Submission, form: Form, left: Any, right: Any) -> str:
    def repl(m: re.Match) -> str:
        key = m.group(1)
        if key in ("lhs", "rhs"):
            v = left if key == "lhs" else right
            return fmt_number(v) if isinstance(v, (int, float)) else "?"
        return _show(sub, form, key)
    return re.sub(r"\{(\w+)\}", repl, template)


def blank_fields(out: Outcome, form: Form) -> dict[str, str]:
    """The catalogue fields of "Văn bản khác để trống; nếu đủ thì phải là 8" (rules_excel words it the same)."""
    need = "" if out.need is None else (
        "; nếu đủ thì " + ("tổng " if len(out.blanks) > 1 else "")
        + f"phải {'ít nhất ' if out.at_least else ''}là {fmt_number(out.need)}")
    return {"blank": ", ".join(leaf_label(x, form) for x in out.blanks), "need": need}


def _finding(sub: Submission, code: str, loc: Loc | None, rule: str = "", values: dict | None = None, /, *,
             severity: str = "", message: str = "", **fields) -> Finding:
    """A finding of `code`, worded and graded by its catalogue entry unless given (the rules.yaml rules)."""
    return Finding(code=code, severity=severity or catalogue.severity(code), file=str(sub.path),
                   sheet=loc.sheet if loc else "", cell=loc.cell if loc else "",
                   message=message or catalogue.message(code, **fields), rule=rule or code, values=values or {})


def _one(f: Finding, link: Loc | None) -> Decision:
    return Decision(VERDICT[f.severity], [f], f.message, link)


def _zero_blank(lookup: Callable[[Node], Any]) -> Callable[[Node], Any]:
    def get(node: Node) -> Any:
        v = lookup(node)
        return 0 if v is None else v
    return get


def _excel_number(v: Any) -> Any:
    """A value as an Excel formula computes it: a date is its serial number."""
    return (v - EXCEL_EPOCH).days if isinstance(v, date) else "" if isinstance(v, Missing) else v


def _decide_rule(check: Check, sub: Submission, form: Form) -> Decision:
    decision = _decide_rule_verdict(check, sub, form)
    rule = check.rule
    decision.cells["outcome"] = {OK: "ok", SKIP: "skip"}.get(decision.verdict, "fail")
    if decision.findings and decision.findings[0].code == "thieu-so-lieu-thanh-phan":
        decision.cells["outcome"] = "blank"
    if rule.tree is not None:
        zero = _zero_blank(_lookup(sub))
        left, right = (_excel_number(value_of(side, zero)) for side in (rule.tree.left, rule.tree.right))
        decision.cells.update(left=left, right=right)
        if linear(rule.tree) is not None and rule.missing != "skip" and "" not in (left, right):
            decision.cells["d"] = left - right
    return decision


def _decide_rule_verdict(check: Check, sub: Submission, form: Form) -> Decision:
    rule = check.rule
    lookup = _lookup(sub)
    out = evaluate(rule, lookup)
    if out.verdict in ("ok", "skip"):
        return Decision(VERDICT[out.verdict])
    first = rule.fields[0] if rule.fields else next(iter(check.inputs), None)
    link = sub.loc(first) if first else None  # the sheet links a rule to its first value
    if out.verdict == "blank":
        blank = next((x.code for x in out.blanks if isinstance(x, Ref)), first)
        return _one(_finding(sub, "thieu-so-lieu-thanh-phan", sub.loc(blank), rule.id, **blank_fields(out, form)),
                    link)
    left, right = out.left, out.right
    if left is None and rule.tree is not None:  # decided with blank parts: show them as 0, as Excel does
        left, right = (value_of(side, _zero_blank(lookup)) for side in (rule.tree.left, rule.tree.right))
    values = {c.code: sub.get(c.code) for c in rule.leaves if isinstance(c, Ref)}
    message = _message(rule.message, sub, form, left, right)
    if rule.plausibility:  # a true but unusual figure: has the unit said why?
        message += explain_note(flagged(rule) in sub.explanations)
    return _one(_finding(sub, rule.id, link, rule.id, values, severity=rule.severity, message=message), link)


def ratio_check(reported: float, num: float, den: float) -> str:
    """"ok" when the reported percentage is num/den rounded half-up to 0-2 decimals; else severity."""
    exact = 100 * num / den
    if any(abs(reported - round_half_up(exact, k)) <= 1e-9 for k in (0, 1, 2)):
        return "ok"
    return WARNING if abs(reported - exact) <= RATIO_SLIP else ERROR


def _decide_ratio(check: Check, sub: Submission, form: Form) -> Decision:
    f, (num, den) = check.field, check.ratio
    v, n, d = sub.get(f.code), sub.get(num), sub.get(den)
    if not all(isinstance(x, (int, float)) for x in (v, n, d)) or not d:
        return Decision(SKIP)
    verdict = ratio_check(v, n, d)
    if verdict == "ok":
        return Decision(OK)
    kind = "làm tròn chưa đúng (làm tròn nửa lên)" if verdict == WARNING else "không khớp với số liệu"
    return _one(_finding(sub, "ty-le-khong-khop", sub.loc(f.code), check.id, {f.code: v, num: n, den: d},
                         severity=verdict, label=f.label, value=fmt_number(v), num=fmt_number(n), den=fmt_number(d),
                         exact=fmt_number(round_half_up(100 * n / d, 2), 2, fixed=True), verdict=kind),
                sub.loc(f.code))


def _decide_required(check: Check, sub: Submission, form: Form) -> Decision:
    f = check.field
    if sub.get(f.code) not in (None, ""):
        return Decision(OK)
    return _one(_finding(sub, "thieu-gia-tri-bat-buoc", sub.loc(f.code), check.id, label=f.label), sub.loc(f.code))


def bounds_message(n: int) -> str:
    return f"Có {n} số liệu nằm ngoài giới hạn cho phép; xem các ô tô màu đỏ"


def _decide_bounds(check: Check, sub: Submission, form: Form) -> Decision:
    found = []
    for f in (*form.metadata, *form.indicators):
        v = sub.get(f.code)
        if not f.numeric or not isinstance(v, (int, float)):
            continue
        if (f.min is not None and v < f.min) or (f.max is not None and v > f.max):
            lo = fmt_number(f.min) if f.min is not None else "-∞"
            hi = fmt_number(f.max) if f.max is not None else "+∞"
            found.append(_finding(sub, "ngoai-gioi-han", sub.loc(f.code), f.code, {f.code: v}, label=f.label,
                                  value=fmt_number(v), lo=lo, hi=hi))
    if not found:
        return Decision(OK)
    return Decision("LỖI", found, bounds_message(len(found)))  # the red cells show where


def rows_message(first: str, n: int) -> str:
    return first + (f" (và {n - 1} dòng khác)" if n > 1 else "")


def _decide_rows(check: Check, sub: Submission, form: Form, found: list[Finding]) -> Decision:
    mine = [f for f in found if f.code == check.id]  # the row checks' ids are their finding codes
    if not mine:
        return Decision(OK if sub.lists.get(check.list_id) else SKIP)
    return Decision("LỖI", mine, rows_message(mine[0].message, len(mine)), Loc(mine[0].sheet, mine[0].cell))


def _decide_cqtt_total(check: Check, sub: Submission, form: Form) -> Decision:
    f = cqtt_total(sub, check.criterion, _finding)
    if f is None:
        rows = [r for r in sub.lists.get("cqtt", []) if r.get("tieu_chi") == check.criterion.label
                and isinstance(r.get("diem_toi_da"), (int, float))]
        return Decision(OK if rows else SKIP)
    return Decision("LỖI", [f], f.message, Loc(f.sheet, f.cell))


def _decide_unit_name(check: Check, sub: Submission, form: Form) -> Decision:
    f = unit_name(sub, form, _finding)
    if f is not None:
        return _one(f, sub.loc("TEN_DON_VI"))
    known = sub.get("TEN_DON_VI") and sub.get("MA_DVHC") and form.unit_by_code(sub.get("MA_DVHC"))
    return Decision(OK if known else SKIP)


def _decide_period_window(check: Check, sub: Submission, form: Form) -> Decision:
    f = period_window(sub, form, _finding)
    if f is not None:
        return _one(f, sub.loc("TU_NGAY"))
    dated = period_bounds(form, sub.period, sub.year) is not None and all(sub.window)
    return Decision(OK if dated else SKIP)


_DECIDE = {"rule": _decide_rule, "ratio": _decide_ratio, "required": _decide_required, "bounds": _decide_bounds,
           "cqtt-total": _decide_cqtt_total, "unit-name": _decide_unit_name,
           "period-window": _decide_period_window}


def sheet_decisions(sub: Submission, form: Form | None = None) -> dict[str, Decision]:
    """Check id -> its decision, as the Kiểm tra sheet shows it."""
    form = form or load_form()
    rows = row_findings(sub, form, _finding)
    return {c.id: _decide_rows(c, sub, form, rows) if c.kind == "rows" else _DECIDE[c.kind](c, sub, form)
            for c in checks(form)}


def sheet_verdicts(sub: Submission, form: Form | None = None) -> dict[str, str]:
    """Check id -> "ĐẠT" / "LỖI" / "CẢNH BÁO" / "CHƯA ĐỦ SỐ LIỆU", as the Kiểm tra sheet shows it."""
    return {k: d.verdict for k, d in sheet_decisions(sub, form).items()}


def check_submission(sub: Submission, form: Form | None = None,
                     previous: Submission | None = None) -> list[Finding]:
    """All findings of one submission; `previous` enables the cross-period rules."""
    form = form or load_form()
    findings = [_finding(sub, p.code, p.loc, p.field, message=p.message) for p in sub.problems]
    decisions = sheet_decisions(sub, form)
    bounds = [f for d in decisions.values() for f in d.findings if f.code == "ngoai-gioi-han"]
    findings += bounds
    findings += [f for d in decisions.values() for f in d.findings if f.code != "ngoai-gioi-han"]
    findings += report_part_findings(sub, form, _finding)
    findings += _own_figures(sub, form, decisions)
    if previous is not None:
        findings += _cross_period(sub, previous)
    return findings


def _own_figures(sub: Submission, form: Form, decisions: dict[str, Decision]) -> list[Finding]:
    """Own values of sheet Số liệu riêng stand for the Số liệu figures in the reports they are for. Without a
    window of their own (neither the row's Từ ngày/Đến ngày nor their reports' on sheet Báo cáo) they are the
    same window's as the sheet, so the form's rules and rates hold for them too: each set of rows for the same
    reports is checked as those reports see the figures, a failure located at the own cell ("ghi 92,48% nhưng
    5.805/5.805 = 100%"). A figure of another window is no finding: a report never prints it beside the others."""
    windowed = {r.get("loai") for r in sub.lists.get("bao_cao", []) if r.get("tu_ngay") or r.get("den_ngay")}
    windowed = {c.code for c in form.choices["loai_bao_cao"] if c.label in windowed}
    sets: dict[str, dict[str, Any]] = {}
    for row in sub.lists.get("so_lieu_rieng", []):
        code, tags = form.indicator_code(row.get("chi_tieu")), form.report_tags(row.get("bao_cao"))[0]
        if (code is None or row.get("gia_tri") is None or row.get("tu_ngay") or row.get("den_ngay")
                or (tags or windowed) & windowed):
            continue
        loc = row.cells["gia_tri"].loc if "gia_tri" in row.cells else row.loc
        sets.setdefault(str(row.get("bao_cao") or ""), {})[code] = Value(code, row.get("gia_tri"), loc)
    seen = {(f.code, f.message) for d in decisions.values() for f in d.findings}
    out: list[Finding] = []
    for own in sets.values():
        view = copy.copy(sub)
        view.values = {**sub.values, **own}
        for check in checks(form):
            if check.kind in ("rule", "ratio") and own.keys() & set(check.inputs):
                found = _DECIDE[check.kind](check, view, form).findings
                out += [f for f in found if (f.code, f.message) not in seen]
                seen |= {(f.code, f.message) for f in found}
    return out


def _cross_period(sub: Submission, prev: Submission) -> list[Finding]:
    now, before = sub.get("HS_KY_TRUOC"), prev.get("HS_DANG_GQ")
    if now is None or before is None or now == before:
        return []
    return [_finding(sub, "ky-truoc-khong-khop", sub.loc("HS_KY_TRUOC"), "",
                     {"HS_KY_TRUOC": now, "HS_DANG_GQ_KY_TRUOC": before}, now=fmt_number(now),
                     before=fmt_number(before), where=f"{prev.path.name}!{prev.loc('HS_DANG_GQ')}")]
