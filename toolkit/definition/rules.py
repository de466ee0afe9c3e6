"""Rules of rules.yaml parsed into a small safe tree (never `eval`).

The same tree is evaluated in Python (`evaluate`) and compiled to an Excel
formula (`toolkit.rules_excel.outcome`), so the Kiểm tra sheet and the checker
cannot disagree by construction. Grammar:

    rule  := sum OP sum            OP: == != <= >= < >
    sum   := term (("+" | "-") term)*
    term  := atom (("*" | "/") atom)*
    atom  := NUMBER | CODE | SUM(list.column) | "(" sum ")"
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Union

from toolkit.definition.form import Field, Form, nfc
from toolkit.errors import BaocaoError

MISSING_STRATEGIES = ("unknown", "skip")
SEVERITIES = ("error", "warning")
KINDS = ("compare", "pair", "exclusive")
EPS = 1e-9

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(SUM\(\s*([a-z_]+)\.([a-z_]+)\s*\))|([A-Z][A-Z0-9_]*)"
                    r"|(==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)))")


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Ref:
    code: str


@dataclass(frozen=True)
class ListSum:
    list_id: str
    column: str


@dataclass(frozen=True)
class BinOp:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Compare:
    op: str
    left: "Node"
    right: "Node"


Node = Union[Num, Ref, ListSum, BinOp, Compare]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: str
    message: str
    missing: str = "unknown"
    tree: Compare | None = None
    fields: tuple[str, ...] = ()
    description: str = ""
    plausibility: bool = False  # a bound of the form's own logic (bất thường), always a warning

    @property
    def leaves(self) -> list["Node"]:
        """What the rule reads: the tree's codes and list sums, or the fields of a pair."""
        return refs(self.tree) if self.tree else [Ref(c) for c in self.fields]


class _Parser:
    def __init__(self, text: str, where: str):
        self.where = where
        self.tokens: list[tuple[str, Any]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise BaocaoError(f"{where}: không hiểu biểu thức tại «{text[pos:]}»")
            num, _, lst, col, code, op = m.groups()
            if num is not None:
                self.tokens.append(("num", float(num)))
            elif lst is not None:
                self.tokens.append(("sum", (lst, col)))
            elif code is not None:
                self.tokens.append(("code", code))
            else:
                self.tokens.append(("op", op))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise BaocaoError(f"{self.where}: biểu thức kết thúc đột ngột")
        self.i += 1
        return tok

    def rule(self) -> Compare:
        left = self.sum()
        kind, op = self.take()
        if kind != "op" or op not in ("==", "!=", "<=", ">=", "<", ">"):
            raise BaocaoError(f"{self.where}: cần một phép so sánh (==, <=, >=, ...)")
        right = self.sum()
        if self.peek() is not None:
            raise BaocaoError(f"{self.where}: thừa «{self.peek()[1]}» ở cuối biểu thức")
        return Compare(op, left, right)

    def sum(self) -> Node:
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            node = BinOp(self.take()[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.atom()
        while self.peek() in (("op", "*"), ("op", "/")):
            node = BinOp(self.take()[1], node, self.atom())
        return node

    def atom(self) -> Node:
        kind, val = self.take()
        if kind == "num":
            return Num(val)
        if kind == "code":
            return Ref(val)
        if kind == "sum":
            return ListSum(*val)
        if (kind, val) == ("op", "("):
            node = self.sum()
            if self.take() != ("op", ")"):
                raise BaocaoError(f"{self.where}: thiếu dấu «)»")
            return node
        raise BaocaoError(f"{self.where}: không mong đợi «{val}»")


def parse(text: str, where: str = "rules.yaml") -> Compare:
    return _Parser(text, where).rule()


def refs(node: Node) -> list[Node]:
    """The leaves that read data (codes and list sums), left to right."""
    if isinstance(node, (Ref, ListSum)):
        return [node]
    if isinstance(node, (BinOp, Compare)):
        return refs(node.left) + refs(node.right)
    return []


def load_rules(form: Form) -> list[Rule]:
    """The rules of the definition, each checked against the form's codes and lists."""
    known = {f.code for f in form.indicators} | {f.code for f in form.metadata}
    out = []
    for raw in form.rules:
        where = f"rules.yaml › {raw.get('id', '?')}"
        kind = raw.get("kind", "compare")
        rule = Rule(id=raw["id"], kind=kind, severity=raw.get("severity", "error"),
                    message=nfc(raw.get("message", "")), missing=raw.get("missing", "unknown"),
                    tree=parse(raw["expr"], where) if kind == "compare" else None,
                    fields=tuple(raw.get("fields", ())), description=nfc(raw.get("text", "")),
                    plausibility=bool(raw.get("plausibility", False)))
        if rule.plausibility and rule.severity != "warning":
            raise BaocaoError(f"{where}: kiểm tra bất thường (plausibility) chỉ là cảnh báo (severity: warning)")
        if kind not in KINDS or rule.severity not in SEVERITIES or rule.missing not in MISSING_STRATEGIES:
            raise BaocaoError(f"{where}: kind/severity/missing không hợp lệ")
        for leaf in rule.leaves:
            if isinstance(leaf, Ref) and leaf.code not in known:
                raise BaocaoError(f"{where}: mã «{leaf.code}» không có trong biểu mẫu")
            if isinstance(leaf, ListSum):
                lst = next((x for x in form.lists if x.id == leaf.list_id), None)
                if lst is None or leaf.column not in {c.code for c in lst.columns}:
                    raise BaocaoError(f"{where}: không có cột «{leaf.list_id}.{leaf.column}»")
        out.append(rule)
    return out


# --- Python evaluation -------------------------------------------------------------------

class Missing:
    """An empty value; arithmetic with it stays missing."""


MISSING = Missing()


def _apply(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, Missing) or isinstance(b, Missing):
        return MISSING
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return MISSING if b == 0 else a / b


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, date) or isinstance(b, date):
        return {"==": a == b, "!=": a != b, "<=": a <= b, ">=": a >= b, "<": a < b, ">": a > b}[op]
    d = a - b
    return {"==": abs(d) <= EPS, "!=": abs(d) > EPS, "<=": d <= EPS, ">=": d >= -EPS,
            "<": d < -EPS, ">": d > EPS}[op]


def value_of(node: Node, lookup: Callable[[Node], Any]) -> Any:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, (Ref, ListSum)):
        v = lookup(node)
        return MISSING if v is None else v
    return _apply(node.op, value_of(node.left, lookup), value_of(node.right, lookup))


def linear(node: Node) -> tuple[dict[Node, float], float] | None:
    """`node` (or left - right of a comparison) as {leaf: coefficient} + constant; None when not linear."""
    if isinstance(node, Num):
        return {}, node.value
    if isinstance(node, (Ref, ListSum)):
        return {node: 1.0}, 0.0
    a, b = linear(node.left), linear(node.right)
    if a is None or b is None:
        return None
    op = "-" if isinstance(node, Compare) else node.op
    if op in ("+", "-"):
        sign = 1.0 if op == "+" else -1.0
        coefs = dict(a[0])
        for leaf, c in b[0].items():
            coefs[leaf] = coefs.get(leaf, 0.0) + sign * c
        return coefs, a[1] + sign * b[1]
    if op == "*" and not (a[0] and b[0]):
        (coefs, k), factor = (b, a[1]) if not a[0] else (a, b[1])
        return {leaf: c * factor for leaf, c in coefs.items()}, k * factor
    if op == "/" and not b[0] and b[1] != 0:
        return {leaf: c / b[1] for leaf, c in a[0].items()}, a[1] / b[1]
    return None


# How a linear rule D op 0 (D = left - right) is decided when blank leaves are unknown values >= 0:
# "fail" when no value of the blanks can satisfy it, "ok" when blanks equal to 0 do, else "blank".
def blank_verdict(op: str, d: float, pos: bool, neg: bool) -> str:
    """`pos`/`neg`: some blank leaf has a positive/negative coefficient in D (so can raise/lower it)."""
    if op == "==":
        fail, ok = (d > EPS and not neg) or (d < -EPS and not pos), abs(d) <= EPS
    elif op == "<=":
        fail, ok = d > EPS and not neg, d <= EPS
    elif op == ">=":
        fail, ok = d < -EPS and not pos, d >= -EPS
    elif op == "<":
        fail, ok = d >= -EPS and not neg, d < -EPS
    elif op == ">":
        fail, ok = d <= EPS and not pos, d > EPS
    else:  # "!="
        fail, ok = abs(d) <= EPS and not (pos or neg), abs(d) > EPS
    return "fail" if fail else "ok" if ok else "blank"


def wanted_sign(op: str, d: float) -> int:
    """Which blanks can bring D op 0 about: +1 those that raise D, -1 those that lower it, 0 any."""
    if op == "==":
        return -1 if d > 0 else 1
    return {"<=": -1, "<": -1, ">=": 1, ">": 1}.get(op, 0)


@dataclass(frozen=True)
class Outcome:
    verdict: str  # "ok" | "fail" | "blank" (only blank cells can make it hold) | "skip" (not enough data)
    left: Any = None
    right: Any = None
    blanks: tuple[Node, ...] = ()  # for "blank": the empty leaves that would have to hold a value
    need: float | None = None  # ... and the value (their sum) they would need
    at_least: bool = False  # need is a minimum rather than an exact value


def sides_blank(rule: Rule, present: Callable[[Node], bool]) -> bool:
    """A side of the comparison that reads data has none: nothing to compare with."""
    return any(side and not any(present(leaf) for leaf in side)
               for side in (refs(rule.tree.left), refs(rule.tree.right)))


def evaluate(rule: Rule, lookup: Callable[[Node], Any]) -> Outcome:
    """Evaluate one rule; `lookup` gives the value of a code or list sum, None when empty.

    A blank cell is an unknown value >= 0 (reports state the parts that are not zero and leave the
    others blank), unless the rule says `missing: skip`."""
    if rule.kind in ("pair", "exclusive"):
        a, b = (lookup(Ref(c)) not in (None, "") for c in rule.fields)
        bad = (a and not b) if rule.kind == "pair" else (a and b)
        return Outcome("fail" if bad else "ok")
    values = {leaf: lookup(leaf) for leaf in refs(rule.tree)}
    blanks = tuple(leaf for leaf, v in values.items() if v is None)
    if not blanks:
        left, right = value_of(rule.tree.left, values.get), value_of(rule.tree.right, values.get)
        if isinstance(left, Missing) or isinstance(right, Missing):
            return Outcome("skip")
        return Outcome("ok" if _compare(rule.tree.op, left, right) else "fail", left, right)
    lin = linear(rule.tree)
    if rule.missing == "skip" or lin is None or sides_blank(rule, lambda leaf: values[leaf] is not None):
        return Outcome("skip")
    coefs, d = lin
    for leaf, c in coefs.items():
        if values[leaf] is not None:
            d += c * values[leaf]
    pos = any(coefs.get(leaf, 0) > 0 for leaf in blanks)
    neg = any(coefs.get(leaf, 0) < 0 for leaf in blanks)
    verdict = blank_verdict(rule.tree.op, d, pos, neg)
    if verdict != "blank":
        return Outcome(verdict)
    sign = wanted_sign(rule.tree.op, d)
    named = tuple(leaf for leaf in blanks if sign == 0 or coefs.get(leaf, 0) * sign > 0)
    need = abs(d) / abs(coefs[named[0]]) if sign else None
    return Outcome("blank", blanks=named, need=need, at_least=rule.tree.op != "==")


def ratio_rules(form: Form) -> list[tuple[Field, str, str]]:
    """(percent field, numerator, denominator) for every percentage declaring `ratio`."""
    return [(f, f.ratio[0], f.ratio[1]) for f in form.indicators if f.ratio]
