"""The checker: every finding of a submission at once, each located to Sheet!Cell, in Vietnamese.

Rule verdicts computed here are the ones the Kiểm tra sheet computes in Excel
(`sheet_verdicts`), so a test can compare them rule by rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from toolkit import catalogue
from toolkit.checks_lists import list_findings
from toolkit.findings import ERROR, WARNING, Finding
from toolkit.form import Field, Form, load_form
from toolkit.layout import data_value_range, list_ranges
from toolkit.rules import Node, Ref, Rule, evaluate, excel_expr, load_rules, ratio_rules, to_excel
from toolkit.submission import Loc, Submission
from toolkit.vnformat import fmt_number, fmt_value, round_half_up

RATIO_SLIP = 0.1  # percentage points: a rounding slip (warning) rather than a wrong figure (error)
VERDICT = {"ok": "OK", "skip": "BỎ QUA", ERROR: "LỖI", WARNING: "CẢNH BÁO"}


@dataclass(frozen=True)
class SheetRule:
    """A row of the Kiểm tra sheet: id, description, severity and how Python decides it."""

    id: str
    description: str
    severity: str
    decide: Callable[[Submission], tuple[str, Finding | None]]
    formula: str  # the same decision as an Excel formula for the Kiểm tra sheet
    message: str = ""  # Excel expression for the message shown beside a failed verdict


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
            return fmt_value(v, "count") if isinstance(v, (int, float)) else "?"
        return _show(sub, form, key)
    return re.sub(r"\{(\w+)\}", repl, template)


def _finding(sub: Submission, code: str, loc: Loc | None, rule: str = "", values: dict | None = None, /, *,
             severity: str = "", message: str = "", **fields) -> Finding:
    """A finding of `code`, worded and graded by its catalogue entry unless given (the rules.yaml rules)."""
    return Finding(code=code, severity=severity or catalogue.severity(code), file=str(sub.path),
                   sheet=loc.sheet if loc else "", cell=loc.cell if loc else "",
                   message=message or catalogue.message(code, **fields), rule=rule or code, values=values or {})


def _rule_sheet_rule(rule: Rule, form: Form) -> SheetRule:
    first_code = rule.fields[0] if rule.fields else next(
        (leaf.code for leaf in rule.leaves if isinstance(leaf, Ref)), None)

    def decide(sub: Submission) -> tuple[str, Finding | None]:
        out = evaluate(rule, _lookup(sub))
        if out.verdict != "fail":
            return out.verdict, None
        loc = sub.loc(first_code) if first_code else None
        values = {c.code: sub.get(c.code) for c in rule.leaves if isinstance(c, Ref)}
        return rule.severity, _finding(sub, rule.id, loc, rule.id, values, severity=rule.severity,
                                       message=_message(rule.message, sub, form, out.left, out.right))
    fail = VERDICT[rule.severity]
    return SheetRule(rule.id, rule.description or f"{rule.kind}: {', '.join(rule.fields)}", rule.severity,
                     decide, to_excel(rule, list_ranges(form), fail), _excel_message(rule, form))


def _excel_message(rule: Rule, form: Form) -> str:
    """The message template as an Excel string expression ("..."&HS_TIEP_NHAN&"...")."""
    ranges, zero = list_ranges(form), rule.missing != "skip_any"
    parts = []
    for i, piece in enumerate(re.split(r"\{(\w+)\}", rule.message)):
        if i % 2 == 0:
            parts.append('"' + piece.replace('"', '""') + '"' if piece else "")
        elif piece in ("lhs", "rhs") and rule.tree is not None:
            parts.append(excel_expr(rule.tree.left if piece == "lhs" else rule.tree.right, ranges, zero))
        else:
            parts.append(piece)
    return "&".join(p for p in parts if p)


def ratio_check(reported: float, num: float, den: float) -> str:
    """"ok" when the reported percentage is num/den rounded half-up to 0-2 decimals; else severity."""
    exact = 100 * num / den
    if any(abs(reported - round_half_up(exact, k)) <= 1e-9 for k in (0, 1, 2)):
        return "ok"
    return WARNING if abs(reported - exact) <= RATIO_SLIP else ERROR


def ratio_rule_id(field: Field) -> str:
    return "ty-le-" + field.code.lower().replace("_", "-")


def _ratio_sheet_rule(field: Field, num: str, den: str, form: Form) -> SheetRule:
    def decide(sub: Submission) -> tuple[str, Finding | None]:
        v, n, d = sub.get(field.code), sub.get(num), sub.get(den)
        if v is None or n is None or not d:
            return "skip", None
        verdict = ratio_check(v, n, d)
        if verdict == "ok":
            return "ok", None
        kind = "làm tròn chưa đúng (làm tròn nửa lên)" if verdict == WARNING else "không khớp với số liệu"
        return verdict, _finding(sub, "ty-le-khong-khop", sub.loc(field.code), ratio_rule_id(field),
                                 {field.code: v, num: n, den: d}, severity=verdict, label=field.label,
                                 value=fmt_number(v), num=fmt_number(n), den=fmt_number(d),
                                 exact=fmt_number(round_half_up(100 * n / d, 2), 2, fixed=True), verdict=kind)
    v, n, d = field.code, num, den
    exact = f"{n}/{d}*100"
    rounded = ",".join(f"ABS({v}-ROUND({exact},{k}))<=1E-9" for k in (0, 1, 2))
    formula = (f'=IF(OR(NOT(ISNUMBER({v})),NOT(ISNUMBER({n})),NOT(ISNUMBER({d}))),"BỎ QUA",'
               f'IF({d}=0,"BỎ QUA",IF(OR({rounded}),"OK",IF(ABS({v}-{exact})<={RATIO_SLIP},"CẢNH BÁO","LỖI"))))')
    message = (f'"{field.label} ghi "&{v}&"% nhưng "&{n}&"/"&{d}&" = "&ROUND({exact},2)&"%"')
    return SheetRule(ratio_rule_id(field), f"{field.code} = {num} / {den} × 100", ERROR, decide, formula,
                     message)


def _required_sheet_rule(field: Field) -> SheetRule:
    rule_id = "bat-buoc-" + field.code.lower().replace("_", "-")

    def decide(sub: Submission) -> tuple[str, Finding | None]:
        if sub.get(field.code) not in (None, ""):
            return "ok", None
        return ERROR, _finding(sub, "thieu-gia-tri-bat-buoc", sub.loc(field.code), rule_id, label=field.label)
    return SheetRule(rule_id, f"{field.code} phải được nhập",
                     ERROR, decide, f'=IF(LEN({field.code}&"")>0,"OK","LỖI")',
                     '"' + catalogue.message("thieu-gia-tri-bat-buoc", label=field.label) + '"')


def _negative_sheet_rule(form: Form) -> SheetRule:
    numeric = [f for f in form.indicators if f.numeric]

    def decide(sub: Submission) -> tuple[str, Finding | None]:
        bad = [f for f in numeric if isinstance(sub.get(f.code), (int, float)) and sub.get(f.code) < 0]
        return (ERROR, None) if bad else ("ok", None)  # each negative value is its own finding (bounds)
    return SheetRule("so-am", "Không có số liệu âm", ERROR, decide,
                     f'=IF(COUNTIF({data_value_range()},"<0")>0,"LỖI","OK")',
                     '"Có số liệu âm trong sheet Số liệu; số đếm không được âm"')


_RULES_CACHE: dict[int, tuple[Form, list[SheetRule]]] = {}


def sheet_rules(form: Form) -> list[SheetRule]:
    """The rules of the Kiểm tra sheet, in sheet order (compiled once per form)."""
    cached = _RULES_CACHE.get(id(form))
    if cached is None or cached[0] is not form:
        cached = _RULES_CACHE[id(form)] = (form, _compile_sheet_rules(form))
    return cached[1]


def _compile_sheet_rules(form: Form) -> list[SheetRule]:
    out = [_required_sheet_rule(f) for f in (*form.metadata, *form.indicators) if f.required]
    out.append(_negative_sheet_rule(form))
    out += [_rule_sheet_rule(r, form) for r in load_rules(form)]
    out += [_ratio_sheet_rule(f, n, d, form) for f, n, d in ratio_rules(form)]
    return out


def sheet_verdicts(sub: Submission, form: Form | None = None) -> dict[str, str]:
    """Rule id -> "OK" / "LỖI" / "CẢNH BÁO" / "BỎ QUA", as the Kiểm tra sheet shows it."""
    form = form or load_form()
    return {r.id: VERDICT[r.decide(sub)[0]] for r in sheet_rules(form)}


def _bounds(sub: Submission, form: Form) -> list[Finding]:
    out = []
    for f in (*form.metadata, *form.indicators):
        v = sub.get(f.code)
        if not f.numeric or not isinstance(v, (int, float)):
            continue
        if (f.min is not None and v < f.min) or (f.max is not None and v > f.max):
            lo = fmt_number(f.min) if f.min is not None else "-∞"
            hi = fmt_number(f.max) if f.max is not None else "+∞"
            out.append(_finding(sub, "ngoai-gioi-han", sub.loc(f.code), f.code, {f.code: v}, label=f.label,
                                value=fmt_number(v), lo=lo, hi=hi))
    return out


def check_submission(sub: Submission, form: Form | None = None,
                     previous: Submission | None = None) -> list[Finding]:
    """All findings of one submission; `previous` enables the cross-period rules."""
    form = form or load_form()
    findings = [_finding(sub, p.code, p.loc, p.field, message=p.message) for p in sub.problems]
    findings += _bounds(sub, form)
    for rule in sheet_rules(form):
        _, finding = rule.decide(sub)
        if finding is not None:
            findings.append(finding)
    findings += list_findings(sub, form, _finding)
    if previous is not None:
        findings += _cross_period(sub, previous)
    return findings


def _cross_period(sub: Submission, prev: Submission) -> list[Finding]:
    now, before = sub.get("HS_KY_TRUOC"), prev.get("HS_DANG_GQ")
    if now is None or before is None or now == before:
        return []
    return [_finding(sub, "ky-truoc-khong-khop", sub.loc("HS_KY_TRUOC"), "",
                     {"HS_KY_TRUOC": now, "HS_DANG_GQ_KY_TRUOC": before}, now=fmt_number(now),
                     before=fmt_number(before), where=f"{prev.path.name}!{prev.loc('HS_DANG_GQ')}")]
