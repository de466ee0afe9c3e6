"""Which of a workbook's errors hold back one report: those in what that report prints.

One workbook feeds several reports, so an error in a register row that the sơ kết report never cites must not
stop that report. A report prints its identity (sheets Thông tin chung, Báo cáo, Số liệu riêng), the figures its
sentences and ratios state, and the rows of the lists its template cites (the documents of the groups it names,
its own Nội dung paragraphs, the Chính quyền thân thiện criteria, the overdue files its sentences count). An
error elsewhere is named as not blocking this report; an error whose place is not known blocks. Nộp refuses any
error: that is the server's check, not this.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from toolkit.definition import ERROR, Finding, Form, Ref, ReportDef, layout, load_rules, refs
from toolkit.intake import Row, Submission
from toolkit.reports.scope import belongs, own_figures
from toolkit.reports.sentences import stated_by


@dataclass(frozen=True)
class Printed:
    """What one report of one workbook prints: indicator codes, and per list the rows it prints."""
    indicators: frozenset[str]
    rows: dict[str, Callable[[Row], bool]] = field(default_factory=dict)  # list id -> printed?


def printed(sub: Submission, kind: ReportDef, form: Form, variables: set[str],
            references: set[tuple[str, str]]) -> Printed:
    """`variables` are the template's top-level names; `references` its (name, attribute) pairs, such as
    ("cau", "tthc") for the sentences of a group or ("vb", "CD") for the documents of a group."""
    codes, overdue = stated_by(form, {a for v, a in references if v == "cau"})
    codes |= {c for r in kind.ratios for c in (*form.ratios[r].of, form.ratios[r].typed) if c}
    codes |= own_figures(sub, kind, form) | {f.code for f in form.metadata}
    rows: dict[str, Callable[[Row], bool]] = {"bao_cao": _every, "so_lieu_rieng": _every}
    groups = {a for v, a in references if v in ("vb", "vb_ds")}
    if groups:
        labels = {c.label for c in form.choices["nhom_noi_dung"] if c.code in groups}
        rows["van_ban"] = lambda r: r.get("nhom") in labels
    if "nd" in variables:
        blocks = {c.label for c in form.choices["muc_noi_dung"] if c.code in kind.blocks}
        rows["noi_dung"] = lambda r: r.get("muc") in blocks and belongs(r, kind, form)
    if "cqtt" in variables:
        rows["cqtt"] = _every
    if overdue:
        rows["ho_so_qua_han"] = _every
    return Printed(frozenset(codes), rows)


def _every(row: Row) -> bool:
    return True


def split(findings: list[Finding], sub: Submission, form: Form, shown: Printed) -> tuple[list[Finding], list[Finding]]:
    """(the findings about what the report prints, the errors about anything else)."""
    rules = {r.id: r for r in load_rules(form)}
    lists = {lst.sheet: lst.id for lst in form.lists}
    mine, aside = [], []
    for f in findings:
        if f.sheet == layout.SHEET_DATA:
            rule = rules.get(f.rule)
            codes = {n.code for n in refs(rule.tree) if isinstance(n, Ref)} if rule and rule.tree else set()
            codes |= {c for c, v in sub.values.items() if v.loc.sheet == f.sheet and v.loc.cell == f.cell}
            concerns = not codes or bool(codes & shown.indicators)
        elif f.sheet in lists:
            list_id = lists[f.sheet]
            row = _row_at(sub, list_id, f.cell)
            concerns = list_id in shown.rows and (row is None or shown.rows[list_id](row))
        else:
            concerns = True
        if concerns:
            mine.append(f)
        elif f.severity == ERROR:
            aside.append(f)
    return mine, aside


def _row_at(sub: Submission, list_id: str, cell: str) -> Row | None:
    number = re.sub(r"^[A-Z]+", "", cell)
    return next((r for r in sub.lists.get(list_id, []) if re.sub(r"^[A-Z]+", "", r.loc.cell) == number), None)
