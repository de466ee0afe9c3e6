"""Every Excel formula of the workbook, made from the rulebook's trees (the only module writing formula text).

Each function mirrors one Python decision of `toolkit.check.checker` / `toolkit.check.lists`:
same verdict, same message, numbers in the Vietnamese format (5.900; 99,2). The
formulas use only functions Excel 2010 and LibreOffice both know, and no
locale-dependent number format (TEXT with "000" only), so the text reads the same
whatever the language of the officer's Excel.
"""
from __future__ import annotations

from toolkit.definition import BinOp, Compare, Field, Form, ListSum, Node, Num, Ref, Rule, linear, refs

EPS = "1E-9"
OK, SKIP = "ĐẠT", "CHƯA ĐỦ SỐ LIỆU"
FAIL = {"error": "LỖI", "warning": "CẢNH BÁO"}
WARN = FAIL["warning"]


def q(text: str) -> str:
    """A string literal."""
    return '"' + text.replace('"', '""') + '"'


def join(*parts: str) -> str:
    return "&".join(p for p in parts if p)


# --- Vietnamese numbers and dates as text ------------------------------------------------------------


def _grouped(i: str) -> str:
    """A whole number >= 0 with "." every three digits."""
    def g(k: int) -> str:
        return f'TEXT(MOD(INT({i}/{10 ** k}),1000),"000")'
    return (f'IF({i}>=1E9,INT({i}/1E9)&"."&{g(6)}&"."&{g(3)}&"."&{g(0)},'
            f'IF({i}>=1E6,INT({i}/1E6)&"."&{g(3)}&"."&{g(0)},'
            f'IF({i}>=1000,INT({i}/1000)&"."&{g(0)},{i}&"")))')


def vn_number(x: str, digits: int = 2, fixed: bool = False) -> str:
    """`x` as `vnformat.fmt_number(x, digits, fixed)` writes it: 5.892; 99,2; 36,70 (fixed).
    digits=0 for a whole number (a count), which keeps the formula short."""
    if digits == 0:
        return f'IF({x}<0,"-","")&{_grouped(f"ABS({x})")}'
    a = f"ABS(ROUND({x},{digits}))"
    i = f"INT({a}+1E-9)"
    f = f"ROUND(({a}-{i})*{10 ** digits},0)"
    if fixed:
        frac = f'TEXT({f},"{"0" * digits}")'
    else:  # drop trailing zeros: 99,20 -> 99,2
        frac = f'TEXT({f},"{"0" * digits}")'
        for k in range(1, digits):
            frac = f'IF(MOD({f},{10 ** k})=0,TEXT({f}/{10 ** k},"{"0" * (digits - k)}"),{frac})'
    return (f'IF(ROUND({x},{digits})<0,"-","")&{_grouped(i)}'
            f'&IF({f}=0,"",","&{frac})')


def vn_date(x: str) -> str:
    """A date as toolkit.vnformat.fmt_date writes it (NĐ 30: a leading zero for days below 10 and for months 1
    and 2 only)."""
    return f'TEXT(DAY({x}),"00")&"/"&IF(MONTH({x})<3,TEXT(MONTH({x}),"00"),MONTH({x})&"")&"/"&YEAR({x})'


def show(field: Field) -> str:
    """A value as a message shows it (`checker._show`): "trống" when empty."""
    c = field.code
    if field.type in ("count", "decimal", "percent", "money"):
        text = {"percent": join(vn_number(f"{c}*100"), q("%")), "money": join(vn_number(c, 3), q(" triệu đồng")),
                "count": vn_number(c, 0)}.get(field.type, vn_number(c))
        return f'IF(ISNUMBER({c}),{text},"trống")'
    if field.type == "date":
        return f'IF(ISNUMBER({c}),{vn_date(c)},"trống")'
    return f'IF(LEN({c}&"")>0,{c}&"","trống")'


# --- Rules of rules.yaml -----------------------------------------------------------------------------


def leaf(node: Node, ranges: dict[tuple[str, str], str], form: Form) -> str:
    """A leaf's number, 0 when blank; a percentage as the 0-100 figure Python reads."""
    if isinstance(node, ListSum):
        return f"SUM({ranges[(node.list_id, node.column)]})"
    field = form.field(node.code)
    return f"(N({node.code})*100)" if field is not None and field.type == "percent" else f"N({node.code})"


def present(node: Node, ranges: dict[tuple[str, str], str]) -> str:
    if isinstance(node, Ref):
        return f"ISNUMBER({node.code})"
    return f"COUNT({ranges[(node.list_id, node.column)]})>0"


def expr(node: Node, ranges: dict[tuple[str, str], str], form: Form) -> str:
    if isinstance(node, Num):
        return repr(int(node.value)) if node.value.is_integer() else repr(node.value)
    if isinstance(node, (Ref, ListSum)):
        return leaf(node, ranges, form)
    return f"({expr(node.left, ranges, form)}{node.op}{expr(node.right, ranges, form)})"


def _cmp(op: str, d: str) -> str:
    return {"==": f"ABS({d})<={EPS}", "!=": f"ABS({d})>{EPS}", "<=": f"{d}<={EPS}", ">=": f"{d}>=-{EPS}",
            "<": f"{d}<-{EPS}", ">": f"{d}>{EPS}"}[op]


def _any(conds: list[str]) -> str:
    return conds[0] if len(conds) == 1 else f"OR({','.join(conds)})" if conds else "FALSE"


def _divisors(node: Node, ranges, form) -> list[str]:
    if isinstance(node, (BinOp, Compare)):
        own = [expr(node.right, ranges, form)] if isinstance(node, BinOp) and node.op == "/" else []
        return own + _divisors(node.left, ranges, form) + _divisors(node.right, ranges, form)
    return []


OUTCOMES = ("ok", "fail", "blank", "skip")  # `rules.Outcome.verdict`, kept in a hidden cell of each rule row


def linear_d(rule: Rule, ranges, form: Form) -> str | None:
    """left - right as a sum of the leaves (blank = 0), for a rule that blank parts can leave undecided."""
    lin = linear(rule.tree) if rule.tree is not None and rule.missing != "skip" else None
    if lin is None:
        return None
    coefs, const = lin
    return "+".join([repr(const)] + [f"({c!r})*{leaf(x, ranges, form)}" for x, c in coefs.items() if c])


def outcome(rule: Rule, ranges, form: Form, cells: dict[str, str]) -> str:
    """The rule's outcome ("ok" / "fail" / "blank" / "skip"), as `rules.evaluate` decides it; `cells` name
    the cells holding left, right and d = left - right (blank = 0)."""
    out = {k: q(k) for k in OUTCOMES}
    if rule.kind in ("pair", "exclusive"):
        a, b = (f'LEN({c}&"")>0' for c in rule.fields)
        bad = f"AND({a},NOT({b}))" if rule.kind == "pair" else f"AND({a},{b})"
        return f'IF({bad},{out["fail"]},{out["ok"]})'
    tree = rule.tree
    leaves = list(dict.fromkeys(refs(tree)))
    blank_any = _any([f"NOT({present(x, ranges)})" for x in leaves])
    diff = f"{cells['left']}-{cells['right']}"
    plain = f'IF({_cmp(tree.op, diff)},{out["ok"]},{out["fail"]})'
    divisors = _divisors(tree, ranges, form)
    if divisors:
        plain = f'IF({_any([f"({d})=0" for d in divisors])},{out["skip"]},{plain})'
    lin = linear(tree)
    if rule.missing == "skip" or lin is None:
        return f'IF({blank_any},{out["skip"]},{plain})'
    sides = [s for s in (refs(tree.left), refs(tree.right)) if s]
    side_blank = _any([f'NOT({_any([present(x, ranges) for x in dict.fromkeys(s)])})' for s in sides])
    coefs, _ = lin
    d = cells["d"]
    pos = _any([f"NOT({present(x, ranges)})" for x, c in coefs.items() if c > 0])
    neg = _any([f"NOT({present(x, ranges)})" for x, c in coefs.items() if c < 0])
    op = tree.op
    fail = {"==": f"OR(AND({d}>{EPS},NOT({neg})),AND({d}<-{EPS},NOT({pos})))", "<=": f"AND({d}>{EPS},NOT({neg}))",
            ">=": f"AND({d}<-{EPS},NOT({pos}))", "<": f"AND({d}>=-{EPS},NOT({neg}))",
            ">": f"AND({d}<={EPS},NOT({pos}))", "!=": f"AND(ABS({d})<={EPS},NOT(OR({pos},{neg})))"}[op]
    guarded = f'IF({fail},{out["fail"]},IF({_cmp(op, d)},{out["ok"]},{out["blank"]}))'
    return f'IF({side_blank},{out["skip"]},IF(NOT({blank_any}),{plain},{guarded}))'


def _blank_message(op: str, d: str, coefs: dict, ranges, labels: dict[Node, str]) -> str:
    """ "Văn bản khác để trống; nếu đủ thì phải là 8", as `checker.blank_message` words it."""
    def message(sign: int) -> str:
        group = [(x, c) for x, c in coefs.items() if sign == 0 or c * sign > 0]
        if not group:
            return q("")
        blank = [(f"NOT({present(x, ranges)})", x) for x, _ in group]
        names = "&".join(f'IF({cond},{q(labels[x] + ", ")},"")' for cond, x in blank)
        count = "+".join(f"({cond})*1" for cond, _ in blank)
        text = join(f"MID({names},1,LEN({names})-2)", q(" để trống"))
        if sign == 0:
            return text
        at_least = "ít nhất " if op != "==" else ""
        return join(text, q("; nếu đủ thì "), f'IF({count}>1,"tổng ","")',
                    q(f"phải {at_least}là "), vn_number(f"ABS({d})/{abs(group[0][1])!r}"))
    if op == "==":
        return f"IF({d}>0,{message(-1)},{message(1)})"
    return message({"<=": -1, "<": -1, ">=": 1, ">": 1}.get(op, 0))


def _whole(node: Node, form: Form) -> bool:
    """A sum of counts (a whole number, written without decimals)."""
    if isinstance(node, Num):
        return node.value.is_integer()
    if isinstance(node, Ref):
        return form.field(node.code).type == "count"
    if isinstance(node, ListSum):
        return form.list(node.list_id).column(node.column).type == "count"
    return node.op in "+-" and _whole(node.left, form) and _whole(node.right, form)


def template(text: str, rule: Rule, ranges, form: Form, cells: dict[str, str]) -> str:
    """A message template of rules.yaml ({CODE}, {lhs}, {rhs}) as an Excel text expression."""
    import re

    parts = []
    for i, piece in enumerate(re.split(r"\{(\w+)\}", text)):
        if i % 2 == 0:
            parts.append(q(piece) if piece else "")
        elif piece in ("lhs", "rhs") and rule.tree is not None:
            side = rule.tree.left if piece == "lhs" else rule.tree.right
            parts.append(vn_number(cells["left" if piece == "lhs" else "right"], 0 if _whole(side, form) else 2))
        else:
            parts.append(show(form.field(piece)))
    return join(*parts) or q("")


# --- Kiểm tra cells of each kind of check ------------------------------------------------------------
# Each returns Excel expressions (without "=") for the verdict and the message; `v` is the verdict cell.


def rule_cells(rule: Rule, ranges, form: Form, labels: dict[Node, str], cells: dict[str, str]) -> dict[str, str]:
    """Formulas of a rule's row: its hidden outcome, left, right and d cells, its verdict and message."""
    o = cells["outcome"]
    out = {"outcome": outcome(rule, ranges, form, cells),
           "verdict": (f'IF({o}="ok",{q(OK)},IF({o}="skip",{q(SKIP)},IF({o}="blank",{q(WARN)},'
                       f'{q(FAIL[rule.severity])})))')}
    fail = template(rule.message, rule, ranges, form, cells)
    message = fail
    if rule.tree is not None:
        out["left"] = expr(rule.tree.left, ranges, form)
        out["right"] = expr(rule.tree.right, ranges, form)
        d = linear_d(rule, ranges, form)
        if d is not None:
            out["d"] = d
            blank = _blank_message(rule.tree.op, cells["d"], linear(rule.tree)[0], ranges, labels)
            message = f'IF({o}="blank",{blank},{fail})'
    out["message"] = f'IF(OR({o}="fail",{o}="blank"),{message},"")'
    return out


def ratio_cells(field: Field, num: str, den: str, slip: float) -> tuple[str, str]:
    v, n, d = f"({field.code}*100)", num, den
    exact = f"{n}/{d}*100"
    rounded = ",".join(f"ABS({v}-ROUND({exact},{k}))<={EPS}" for k in (0, 1, 2))
    skip = f"OR(NOT(ISNUMBER({field.code})),NOT(ISNUMBER({n})),NOT(ISNUMBER({d})))"
    verdict = (f'IF({skip},{q(SKIP)},IF({d}=0,{q(SKIP)},IF(OR({rounded}),{q(OK)},'
               f'IF(ABS({v}-{exact})<={slip},{q(WARN)},{q(FAIL["error"])}))))')
    kind = f'IF(ABS({v}-{exact})<={slip},"làm tròn chưa đúng (làm tròn nửa lên)","không khớp với số liệu")'
    text = join(q(f"{field.label} ghi "), vn_number(v), q("% nhưng "), vn_number(n), q("/"), vn_number(d),
                q(" = "), vn_number(exact, 2, fixed=True), q("%: "), kind)
    return verdict, text


def required_cells(field: Field) -> tuple[str, str]:
    return (f'IF(LEN({field.code}&"")>0,{q(OK)},{q(FAIL["error"])})',
            f'IF(LEN({field.code}&"")>0,"",{q(f"Chưa nhập «{field.label}» (bắt buộc)")})')


def out_of_bounds(indicators: tuple[Field, ...], metadata: tuple[Field, ...], values: str) -> str:
    """How many fields hold a value outside [min; max]: the negatives of Số liệu (`values`) at once, the
    other bounds one by one."""
    terms = [f'COUNTIF({values},"<0")']
    for f in (*metadata, *indicators):
        if not f.numeric:
            continue
        x = f"({f.code}*100)" if f.type == "percent" else f.code
        low = f.min is not None and (f.min != 0 or f in metadata)
        conds = [f"{x}<{f.min!r}"] if low else []
        if f.max is not None:
            conds.append(f"{x}>{f.max!r}")
        if conds:
            terms.append(f"IF(ISNUMBER({f.code}),{_any(conds)}*1,0)")
    return "+".join(terms)


def counted(verdict_cell: str, verdict: str) -> str:
    """1 when the row's verdict is `verdict` (its error or warning count)."""
    return f'IF({verdict_cell}={q(verdict)},1,0)'


def total(first: str, last: str) -> str:
    return f"SUM({first}:{last})"


def when_failed(verdict_cell: str, expr_: str) -> str:
    """`expr_` (a message, a link) only while the row neither holds nor lacks data."""
    return f'IF(OR({verdict_cell}={q(OK)},{verdict_cell}={q(SKIP)}),"",{expr_})'


def bounds_cells(n: str) -> tuple[str, str]:
    """Verdict and message of the bounds row, `n` counting the values out of bounds (`checker.bounds_message`)."""
    return (f'IF(({n})>0,{q(FAIL["error"])},{q(OK)})',
            f'IF(({n})>0,"Có "&({n})&" số liệu nằm ngoài giới hạn cho phép; xem các ô tô màu đỏ","")')


def rows_cells(rng: str, table: str) -> tuple[str, str, str]:
    """Verdict, message and first failing sheet row of a row check whose per-row messages are in `rng`;
    `table` is the list's input range (nothing typed there: not enough data; `checker.rows_message`)."""
    n = count_text(rng)
    used = f"SUMPRODUCT(--(LEN({table})>0))"
    verdict = f'IF({n}>0,{q(FAIL["error"])},IF({used}=0,{q(SKIP)},{q(OK)}))'
    row = first_text_row(rng)
    message = f'IF({n}>0,INDEX({rng},{row}-ROW({rng})+1)&IF({n}>1," (và "&({n}-1)&" dòng khác)",""),"")'
    return verdict, message, row


def name_link(sheet: str, cell: str) -> str:
    return f'HYPERLINK("#\'{sheet}\'!{cell}","{sheet}!{cell}")'


def marked(cell: str, field: Field, verdict_cells: list[str], verdict: str) -> str | None:
    """Conditional-format rule of an input cell: one of its checks says `verdict` on the Kiểm tra sheet
    (`verdict_cells` qualified with the sheet), or, for LỖI, the value is out of its bounds."""
    conds = [f"{v}={q(verdict)}" for v in verdict_cells]
    if verdict == FAIL["error"] and field.numeric:
        x = f"({cell}*100)" if field.type == "percent" else cell
        bad = ([f"{x}<{field.min!r}"] if field.min is not None else []) + (
            [f"{x}>{field.max!r}"] if field.max is not None else [])
        if bad:
            conds.append(f"AND(ISNUMBER({cell}),{_any(bad)})")
    return f"=OR({','.join(conds)})" if conds else None


def row_marked(helper_cell: str) -> str:
    """Conditional-format rule of a list cell: its row check has a message."""
    return f"=LEN({helper_cell})>0"


def count_text(rng: str) -> str:
    """Cells of `rng` holding a non-empty text (a row check's message)."""
    return f"SUMPRODUCT(--(LEN({rng})>0))"


def first_text_row(rng: str) -> str:
    """Sheet row of the first non-empty cell of `rng`."""
    return f"(100000-SUMPRODUCT(LARGE((LEN({rng})>0)*(100000-ROW({rng})),1)))"


def link(sheet: str, column: str, row: str) -> str:
    """A clickable "Sheet!C15" taking the officer to the cell to fix."""
    return f'HYPERLINK("#\'{sheet}\'!{column}"&{row},"{sheet}!{column}"&{row})'


def cqtt_total_cells(crit, crit_rng: str, max_rng: str, score_rng: str) -> tuple[str, str, str]:
    """(verdict, message, first row number) of one CQTT criterion's maxima total."""
    label, limit = q(crit.label), crit.extra["max"]
    n_max = f"SUMPRODUCT(({crit_rng}={label})*ISNUMBER({max_rng}))"
    total = f"SUMIF({crit_rng},{label},{max_rng})"
    complete = f"SUMPRODUCT(({crit_rng}={label})*ISNUMBER({score_rng}))=COUNTIF({crit_rng},{label})"
    fail = f"OR({total}>{limit!r}+{EPS},AND({complete},ABS({total}-{limit!r})>{EPS}))"
    verdict = f'IF({n_max}=0,{q(SKIP)},IF({fail},{q(FAIL["error"])},{q(OK)}))'
    message = join(q(f"Tổng điểm tối đa các tiêu chí thành phần của «{crit.label}» là "), vn_number(total),
                   q(", phải "), f'IF({complete},"bằng","không vượt quá")', q(" " + f"{limit:g}".replace(".", ",")))
    return verdict, message, f"(MATCH({label},{crit_rng},0)+ROW({crit_rng})-1)"


def unit_name_cells(codes: str, names: str) -> tuple[str, str]:
    """The unit name is the one of its code (`codes`/`names`: the parallel lists of units)."""
    found = f'INDEX({names},MATCH(MA_DVHC&"",{codes},0))'
    skip = f'OR(LEN(MA_DVHC&"")=0,LEN(TEN_DON_VI&"")=0,ISNA(MATCH(MA_DVHC&"",{codes},0)))'
    verdict = f'IF({skip},{q(SKIP)},IF({found}=TEN_DON_VI&"",{q(OK)},{q(FAIL["error"])}))'
    message = (f'IF({skip},"",IF({found}=TEN_DON_VI&"","","Tên đơn vị «"&TEN_DON_VI&"» không khớp mã "&MA_DVHC'
               f'&" (mã này là «"&{found}&"»)"))')
    return verdict, message


def period_window_cells(periods, lead_days: int) -> tuple[str, str]:
    """The data window lies in the period of the year (`checks_lists.period_window`); `periods` are the
    form's periods, those with months being dated."""
    dated = [p for p in periods if p.months]
    labels = "{" + ",".join(q(p.label) for p in dated) + "}"
    idx = f'MATCH(KY_BAO_CAO&"",{labels},0)'
    first = "{" + ",".join(str(p.months[0]) for p in dated) + "}"
    last = "{" + ",".join(str(p.months[1]) for p in dated) + "}"
    start = f"DATE(NAM_BAO_CAO,INDEX({first},{idx}),1)"
    end = f"(DATE(NAM_BAO_CAO,INDEX({last},{idx})+1,1)-1)"
    skip = "OR(ISNA({0}),NOT(ISNUMBER(NAM_BAO_CAO)),NOT(ISNUMBER(TU_NGAY)),NOT(ISNUMBER(DEN_NGAY)))".format(idx)
    fail = f"OR(TU_NGAY<{start}-{lead_days},DEN_NGAY>{end},DEN_NGAY<{start})"
    verdict = f'IF({skip},{q(SKIP)},IF({fail},{q(FAIL["error"])},{q(OK)}))'
    text = join(q("Khoảng số liệu "), vn_date("TU_NGAY"), q(" – "), vn_date("DEN_NGAY"), q(" không nằm trong kỳ "),
                'KY_BAO_CAO&""', f'IF(RIGHT(KY_BAO_CAO,3)={q("năm")},{q(" ")},{q(" năm ")})', 'NAM_BAO_CAO&""', q(" ("), vn_date(start), q(" – "), vn_date(end), q(")"))
    return verdict, f'IF({skip},"",IF({fail},{text},""))'


# --- Row checks of the list sheets: one formula per row, "" or the row's message ------------------------

ALLOWED_SYMBOL = "ABCDEFGHIJKLMNOPQRSTUVWXYZĐabcdefghijklmnopqrstuvwxyzđ0123456789&-/"
UPPER = "|" + "|".join("ABCDEFGHIJKLMNOPQRSTUVWXYZĐ") + "|"
_POS = "{" + ",".join(str(i) for i in range(1, 65)) + "}"


def citation(c: dict[str, str]) -> str:
    """ "Kế hoạch số 55/QĐ-UBND ngày 26/01/2026" (`checks_lists.citation`); `c` maps column code -> cell."""
    so, sym, day = f'TRIM({c["so"]}&"")', f'TRIM({c["ky_hieu"]}&"")', c["ngay"]
    ref = f'IF(ISNUMBER(FIND("/",{sym})),{so}&"-"&{sym},IF(LEN({sym})>0,{so}&"/"&{sym},{so}))'
    return (f'IF(LEN({c["loai"]}&"")>0,{c["loai"]}&"","Văn bản")&" số "&{ref}'
            f'&IF(ISNUMBER({day})," ngày "&{vn_date(day)},"")')


def _split(cell: str) -> tuple[str, int]:
    col = "".join(ch for ch in cell if ch.isalpha())
    return col, int(cell[len(col):])


def _set(chars: str, empty: bool) -> str:
    """ "|A|B|…|" to FIND a "|c|" in (FIND of an empty text is an error in LibreOffice, 1 in Excel);
    `empty` also accepts the "" MID gives past the end."""
    return "|" + "|".join(chars) + "|" + ("|" if empty else "")


def _digits(t: str, n: int) -> str:
    pos = "{" + ",".join(str(i) for i in range(1, n + 1)) + "}"
    return f'SUMPRODUCT(--ISERROR(FIND("|"&MID({t},{pos},1)&"|","{_set("0123456789", True)}")))=0'


def row_formula(check_id: str, c: dict[str, str], first: dict[str, str], form: Form, abbr: str, labels: str,
                hs_qua_han_cell: str) -> str:
    """The formula of one row for a row check; `c`/`first` map column code -> this row's / the first row's
    cell, `abbr`/`labels` are the ranges of document-type abbreviations and labels."""
    if check_id.startswith("vb-"):
        cite = citation(c)
        so, sym = f'TRIM({c["so"]}&"")', f'TRIM({c["ky_hieu"]}&"")'
    if check_id == "vb-so-sai-dang":
        ok = (f'IF(LEN({so})<=5,{_digits(so, 5)},IF(LEN({so})<=10,AND(MID({so},LEN({so})-4,1)="/",'
              f'{_digits(f"LEFT({so},LEN({so})-5)", 5)},{_digits(f"RIGHT({so},4)", 4)}),FALSE))')
        return (f'IF(LEN({so})=0,"",IF({ok},"",{cite}&": số «"&{so}&"» không đúng dạng (số thứ tự, văn bản QPPL '
                f'kèm năm: 01/2026)"))')
    if check_id == "vb-ky-hieu-sai-dang":
        bad = (f'SUMPRODUCT(--ISERROR(FIND("|"&MID({sym},{_POS},1)&"|","{_set(ALLOWED_SYMBOL, True)}")))'
               f'+SUMPRODUCT(ISNUMBER(FIND("|"&MID({sym},{_POS},1)&"|","|-|/|"))'
               f'*ISERROR(FIND("|"&MID({sym},{_POS}+1,1)&"|","{UPPER}")))')
        ok = f'AND({bad}=0,ISNUMBER(FIND("|"&LEFT({sym},1)&"|","{UPPER}")))'
        return (f'IF(LEN({sym})=0,"",IF({ok},"",{cite}&": ký hiệu «"&{sym}&"» không đúng dạng (chữ in hoa nối bằng '
                f'dấu gạch ngang, không có khoảng trắng, ví dụ QĐ-UBND)"))')
    if check_id in ("vb-loai-ky-hieu", "vb-cong-van-ky-hieu"):
        head = f'LEFT({sym},MIN(FIND("-",{sym}&"-"),FIND("/",{sym}&"/"))-1)'
        want = f'INDEX({abbr},MATCH({c["loai"]}&"",{labels},0))&""'
        owned = f"AND(LEN({head})>0,SUMPRODUCT(--EXACT({abbr},{head}))>0)"
        owner = f"INDEX({labels},MATCH({head},{abbr},0))"
        if check_id == "vb-loai-ky-hieu":
            bad = f"AND(LEN({want})>0,NOT(EXACT({head},{want})))"
            text = (f'{cite}&": loại «"&{c["loai"]}&"» phải có ký hiệu bắt đầu bằng «"&{want}&"-», nhưng ký hiệu là «"'
                    f'&{sym}&"»"&IF({owned}," (là ký hiệu của "&{owner}&")","")')
        else:
            bad = f"AND(LEN({want})=0,{owned})"
            text = f'{cite}&": công văn không có ký hiệu loại văn bản, nhưng ký hiệu «"&{sym}&"» là của "&{owner}'
        return f'IF(OR(LEN({sym})=0,ISNA(MATCH({c["loai"]}&"",{labels},0))),"",IF({bad},{text},""))'
    if check_id == "vb-ngay-sau-bao-cao":
        report = "IF(ISNUMBER(NGAY_BAO_CAO),NGAY_BAO_CAO,DEN_NGAY)"
        return (f'IF(AND(ISNUMBER({c["ngay"]}),ISNUMBER({report})),IF({c["ngay"]}>{report},{cite}&": ngày ban hành '
                f'sau "&IF(ISNUMBER(NGAY_BAO_CAO),"ngày ký báo cáo","ngày kết thúc kỳ số liệu")&" ("&'
                f'{vn_date(report)}&")",""),"")')
    if check_id == "vb-trung-so-khac-ngay":
        if c["ngay"] == first["ngay"]:
            return '""'
        def above(code: str) -> str:
            (col, r0), (_, r) = _split(first[code]), _split(c[code])
            return f"${col}${r0}:{col}{r - 1}"
        d, days = c["ngay"], above("ngay")
        same = (f'EXACT(TRIM({above("so")}&""),{so})*EXACT(TRIM({above("ky_hieu")}&""),{sym})*ISNUMBER({days})'
                f'*({days}>=DATE(YEAR({d}),1,1))*({days}<DATE(YEAR({d})+1,1,1))*({days}<>{d})')
        row = f"SUMPRODUCT(MAX(ROW({days})*{same}))"
        col = "".join(ch for ch in c["ngay"] if ch.isalpha())
        sheet = form.list("van_ban").sheet
        return (f'IF(OR(LEN({so})=0,LEN({sym})=0,NOT(ISNUMBER({d}))),"",IF({row}=0,"",{cite}&": cùng số, ký hiệu '
                f'với văn bản ở {sheet}!{col}"&{row}&" nhưng khác ngày ("&{vn_date(f"INDEX(${col}:${col},{row})")}&")"))')
    if check_id.startswith("thoi-gian-"):
        return _window_row(check_id, c, form)
    top, score, name = c["diem_toi_da"], c["diem_tu_cham"], c["tieu_chi_thanh_phan"]
    if check_id == "cqtt-diem-vuot-toi-da":
        return (f'IF(AND(ISNUMBER({top}),ISNUMBER({score})),IF({score}>{top},"Điểm tự chấm ("&{vn_number(score)}&") '
                f'lớn hơn điểm tối đa ("&{vn_number(top)}&") của tiêu chí thành phần «"&{name}&"»",""),"")')
    if check_id == "cqtt-tthc-qua-han":
        words = form.rule_knobs.get("cqtt_tthc_on_time_words", [])
        has = ",".join(f'ISNUMBER(SEARCH({q(w)},{name}&""))' for w in words) or "FALSE"
        overdue = vn_number("HS_QUA_HAN", 0)
        return (f'IF(AND({has},ISNUMBER(HS_QUA_HAN),ISNUMBER({top}),ISNUMBER({score})),IF(AND(HS_QUA_HAN>0,'
                f'{score}>={top}),"Tiêu chí «"&{name}&"» không thể đạt điểm tối đa khi có "&{overdue}'
                f'&" hồ sơ giải quyết quá hạn ({hs_qua_han_cell})",""),"")')
    raise ValueError(check_id)


def _window_row(check_id: str, c: dict[str, str], form: Form) -> str:
    """A window of sheet Số liệu riêng (`checks_lists._windows`): from not after to; without a value of its own,
    its dates lie in the period of the year (starting `window_lead_days` early at most)."""
    start, end, label = c["tu_ngay"], c["den_ngay"], f'{c["chi_tieu"]}&""'
    if check_id == "thoi-gian-nguoc":
        return (f'IF(AND(ISNUMBER({start}),ISNUMBER({end})),IF({start}>{end},{label}&": «Từ ngày» "&'
                f'{vn_date(start)}&" sau «Đến ngày» "&{vn_date(end)},""),"")')
    if check_id == "thoi-gian-khong-hop-ly":
        low = f"DATE(NAM_BAO_CAO-{form.rule_knobs.get('window_years_back', 5)},1,1)"
        high = "IF(ISNUMBER(NGAY_BAO_CAO),NGAY_BAO_CAO,DEN_NGAY)"

        def off(d: str) -> str:
            return f"AND(ISNUMBER({d}),OR({d}<{low},{d}>{high}))"

        skip = f"OR(NOT(ISNUMBER({c['gia_tri']})),NOT(ISNUMBER(NAM_BAO_CAO)),NOT(ISNUMBER({high})))"
        text = join(label, q(": ngày "), vn_date(f"IF({off(start)},{start},{end})"),
                    q(" nằm ngoài khoảng thời gian của số liệu riêng ("), vn_date(low), q(" – "), vn_date(high),
                    q(": từ đầu năm "), f"YEAR({low})", q(" đến "),
                    'IF(ISNUMBER(NGAY_BAO_CAO),"ngày ký báo cáo","ngày kết thúc kỳ số liệu")', q(")"))
        return f'IF({skip},"",IF(OR({off(start)},{off(end)}),{text},""))'
    dated = [p for p in form.periods if p.months]
    idx = f'MATCH(KY_BAO_CAO&"",{{{",".join(q(p.label) for p in dated)}}},0)'
    first = "{" + ",".join(str(p.months[0]) for p in dated) + "}"
    last = "{" + ",".join(str(p.months[1]) for p in dated) + "}"
    p_start = f"DATE(NAM_BAO_CAO,INDEX({first},{idx}),1)"
    p_end = f"(DATE(NAM_BAO_CAO,INDEX({last},{idx})+1,1)-1)"
    lead = form.rule_knobs.get("window_lead_days", 31)

    def bad(d: str) -> str:
        return f"AND(ISNUMBER({d}),OR({d}<{p_start}-{lead},{d}>{p_end}))"

    skip = f"OR(ISNUMBER({c['gia_tri']}),ISNA({idx}),NOT(ISNUMBER(NAM_BAO_CAO)))"
    text = join(label, q(": ngày "), vn_date(f"IF({bad(start)},{start},{end})"), q(" nằm ngoài kỳ báo cáo ("),
                vn_date(p_start), q(" – "), vn_date(p_end), q("); số liệu của sheet Số liệu được tính trong kỳ"))
    return f'IF({skip},"",IF(OR({bad(start)},{bad(end)}),{text},""))'
