"""Rules of rules.yaml parsed into a small safe tree (never `eval`).

The same tree is evaluated in Python (`evaluate`) and compiled to an Excel
formula (`to_excel`), so the Kiểm tra sheet and the checker cannot disagree by
construction. Grammar:

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

from toolkit.errors import BaocaoError
from toolkit.form import Field, Form, nfc

MISSING_STRATEGIES = ("skip_any", "skip_all", "zero")
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
    missing: str = "skip_any"
    tree: Compare | None = None
    fields: tuple[str, ...] = ()
    description: str = ""

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
                    message=nfc(raw.get("message", "")), missing=raw.get("missing", "skip_any"),
                    tree=parse(raw["expr"], where) if kind == "compare" else None,
                    fields=tuple(raw.get("fields", ())), description=raw.get("expr", ""))
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


def value_of(node: Node, lookup: Callable[[Node], Any], zero: bool) -> Any:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, (Ref, ListSum)):
        v = lookup(node)
        return (0 if zero else MISSING) if v is None else v
    return _apply(node.op, value_of(node.left, lookup, zero), value_of(node.right, lookup, zero))


@dataclass(frozen=True)
class Outcome:
    verdict: str  # "ok" | "fail" | "skip"
    left: Any = None
    right: Any = None


def evaluate(rule: Rule, lookup: Callable[[Node], Any]) -> Outcome:
    """Evaluate one rule; `lookup` gives the value of a code or list sum, None when empty."""
    if rule.kind in ("pair", "exclusive"):
        a, b = (lookup(Ref(c)) not in (None, "") for c in rule.fields)
        bad = (a and not b) if rule.kind == "pair" else (a and b)
        return Outcome("fail" if bad else "ok")
    leaves = [lookup(leaf) for leaf in refs(rule.tree)]
    empty = [v is None for v in leaves]
    if (rule.missing == "skip_any" and any(empty)) or (rule.missing == "skip_all" and all(empty)):
        return Outcome("skip")
    zero = rule.missing != "skip_any"
    left = value_of(rule.tree.left, lookup, zero)
    right = value_of(rule.tree.right, lookup, zero)
    if isinstance(left, Missing) or isinstance(right, Missing):
        return Outcome("skip")
    return Outcome("ok" if _compare(rule.tree.op, left, right) else "fail", left, right)


# --- Excel compilation -------------------------------------------------------------------

def _excel_leaf(node: Node, ranges: dict[tuple[str, str], str]) -> str:
    return node.code if isinstance(node, Ref) else f"SUM({ranges[(node.list_id, node.column)]})"


def _excel_present(node: Node, ranges: dict[tuple[str, str], str]) -> str:
    if isinstance(node, Ref):
        return f"ISNUMBER({node.code})"
    return f"COUNT({ranges[(node.list_id, node.column)]})>0"


def excel_expr(node: Node, ranges: dict[tuple[str, str], str], zero: bool) -> str:
    if isinstance(node, Num):
        return repr(int(node.value)) if node.value.is_integer() else repr(node.value)
    if isinstance(node, Ref):
        return f"N({node.code})" if zero else node.code
    if isinstance(node, ListSum):
        return _excel_leaf(node, ranges)
    left = excel_expr(node.left, ranges, zero)
    right = excel_expr(node.right, ranges, zero)
    if isinstance(node, BinOp):
        return f"({left}{node.op}{right})"
    diff = f"({left})-({right})"
    return {"==": f"ABS({diff})<=1E-9", "!=": f"ABS({diff})>1E-9", "<=": f"{diff}<=1E-9",
            ">=": f"{diff}>=-1E-9", "<": f"{diff}<-1E-9", ">": f"{diff}>1E-9"}[node.op]


def to_excel(rule: Rule, ranges: dict[tuple[str, str], str], fail_text: str) -> str:
    """The verdict formula: "OK", `fail_text` or "BỎ QUA" (not enough data), as Python decides."""
    if rule.kind in ("pair", "exclusive"):
        a, b = (f"LEN({c}&\"\")>0" for c in rule.fields)
        bad = f"AND({a},NOT({b}))" if rule.kind == "pair" else f"AND({a},{b})"
        return f'=IF({bad},"{fail_text}","OK")'
    leaves = list(dict.fromkeys(refs(rule.tree)))
    present = [_excel_present(leaf, ranges) for leaf in leaves]
    skip = {"skip_any": f"NOT(AND({','.join(present)}))", "skip_all": f"NOT(OR({','.join(present)}))",
            "zero": "FALSE"}[rule.missing]
    zero = rule.missing != "skip_any"
    cond = excel_expr(rule.tree, ranges, zero)
    divisors = [excel_expr(n.right, ranges, zero) for n in _divisions(rule.tree)]
    if divisors:
        skip = f"OR({skip},{','.join(f'({d})=0' for d in divisors)})"
    return f'=IF({skip},"BỎ QUA",IF({cond},"OK","{fail_text}"))'


def _divisions(node: Node) -> list[BinOp]:
    if isinstance(node, (BinOp, Compare)):
        own = [node] if isinstance(node, BinOp) and node.op == "/" else []
        return own + _divisions(node.left) + _divisions(node.right)
    return []


def ratio_rules(form: Form) -> list[tuple[Field, str, str]]:
    """(percent field, numerator, denominator) for every percentage declaring `ratio`."""
    return [(f, f.ratio[0], f.ratio[1]) for f in form.indicators if f.ratio]
