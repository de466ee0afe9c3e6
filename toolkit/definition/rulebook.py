"""The rulebook: every check of the form, parsed once, one row of the Kiểm tra sheet each.

A check names what it reads and says in the officer's words what it checks; the
Python verdict (`toolkit.check.checker`) and the Excel formula (`toolkit.excel.formulas`)
are both made from it, so a test can hold them equal file by file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.definition.findings import ERROR
from toolkit.definition.form import Field, Form
from toolkit.definition.rules import BinOp, ListSum, Node, Num, Ref, Rule, load_rules, ratio_rules

# Checks that read whole tables row by row (toolkit.check.lists); each is a column of formulas on its list
# sheet and one row of Kiểm tra. (id, list id, column marked, text)
ROW_CHECKS = (
    ("vb-so-sai-dang", "van_ban", "so", "«Số» của văn bản đúng dạng: số thứ tự, văn bản QPPL kèm năm (01/2026)."),
    ("vb-ky-hieu-sai-dang", "van_ban", "ky_hieu",
     "«Ký hiệu» của văn bản đúng dạng: chữ in hoa nối bằng dấu gạch ngang, ví dụ QĐ-UBND."),
    ("vb-loai-ky-hieu", "van_ban", "ky_hieu",
     "«Loại văn bản» khớp với «Ký hiệu» (Kế hoạch: KH-…, Quyết định: QĐ-…)."),
    ("vb-cong-van-ky-hieu", "van_ban", "ky_hieu", "Công văn không mang «Ký hiệu» của loại văn bản khác."),
    ("vb-ngay-sau-bao-cao", "van_ban", "ngay",
     "«Ngày ban hành» văn bản không sau «Ngày ký báo cáo»; chưa ghi ngày ký thì không sau «Số liệu đến ngày» "
     "(ngày kết thúc kỳ số liệu)."),
    ("vb-trung-so-khac-ngay", "van_ban", "ngay",
     "Hai văn bản cùng «Số» và «Ký hiệu» trong một năm thì cùng «Ngày ban hành»."),
    ("thoi-gian-nguoc", "so_lieu_rieng", "tu_ngay", "«Từ ngày» của sheet «Số liệu riêng» không sau «Đến ngày»."),
    ("thoi-gian-ngoai-ky", "so_lieu_rieng", "tu_ngay",
     "Khoảng thời gian riêng của một số liệu sheet «Số liệu» (dòng của sheet «Số liệu riêng» không ghi «Giá trị») "
     "nằm trong kỳ báo cáo."),
    ("thoi-gian-khong-hop-ly", "so_lieu_rieng", "tu_ngay",
     "Khoảng thời gian của một số liệu riêng (dòng của sheet «Số liệu riêng» có «Giá trị») nằm từ đầu năm thứ "
     "năm trước năm báo cáo đến «Ngày ký báo cáo» (chưa ghi ngày ký: «Số liệu đến ngày»)."),
    ("cqtt-diem-vuot-toi-da", "cqtt", "diem_tu_cham", "«Điểm tự chấm» không lớn hơn «Điểm tối đa»."),
    ("cqtt-tthc-qua-han", "cqtt", "diem_tu_cham",
     "Tiêu chí giải quyết thủ tục hành chính đúng hạn không đạt «Điểm tối đa» khi có hồ sơ «Giải quyết quá hạn»."),
)

# Checks no formula can make: they run from the «Kiểm tra» button and `baocao kiem-tra`.
BUTTON_ONLY = (
    ("ky-truoc-khong-khop",
     "«Hồ sơ từ kỳ trước chuyển sang» bằng «Tổng số hồ sơ đang giải quyết» cuối kỳ trước (cần phiếu kỳ trước)."),
    ("o-khong-doc-duoc", "Mọi ô nhập đọc được: ô số không chứa chữ, không ô nào chứa công thức."),
    ("bao-cao-khong-co", "Cột «Dùng cho báo cáo» chỉ ghi loại báo cáo có trong danh mục."),
    ("so-lieu-rieng-sai", "Số liệu của sheet «Số liệu riêng» đúng kiểu và giới hạn của chỉ tiêu."),
    ("muc-chua-co-noi-dung", "Mỗi mục của các báo cáo chọn ở sheet «Báo cáo» có nội dung để in (bản chính thức không "
     "lập khi còn mục trống)."),
)

RATIO_SLIP = 0.1  # percentage points: a rounding slip (warning) rather than a wrong figure (error)

# What a warning on a figure flagged «bất thường» ends with: whether the unit has written why it is true in the
# figure's «Giải trình» cell (layout.HEAD_EXPLAIN). The checker, `kiem-tra --kho` and the Kiểm tra sheet's formula
# say these words; the city cuts them off at EXPLAIN_JOIN, its «Bất thường» sheet quoting the text itself.
EXPLAIN_JOIN = " — "
EXPLAIN_STATE = {True: "đơn vị đã giải trình",
                 False: "chưa giải trình: số liệu đúng thì ghi lý do ở cột «Giải trình» cùng dòng của sheet «Số liệu»"}


def explain_note(explained: bool) -> str:
    return EXPLAIN_JOIN + EXPLAIN_STATE[explained]


def flagged(rule: Rule) -> str:
    """The figure a plausibility rule flags: its first value (CV_TINH_GIAN of CV_TINH_GIAN <= 0.2 * …)."""
    return rule.leaves[0].code

# A rule said as a sentence: comparisons and operations in words, every value by its name in the sheets.
_SAID = {"==": "bằng", "!=": "khác", "<=": "không lớn hơn", ">=": "không nhỏ hơn", "<": "nhỏ hơn", ">": "lớn hơn"}
_SAID_DATE = {"<=": "không sau", ">=": "không trước", "<": "trước", ">": "sau", "==": "trùng", "!=": "khác"}
_WORDS = {"+": "cộng", "-": "trừ", "*": "nhân", "/": "chia cho"}


@dataclass(frozen=True)
class Check:
    """One row of the Kiểm tra sheet."""

    id: str
    kind: str  # required | bounds | rule | ratio | rows | cqtt-total | unit-name | period-window
    text: str  # what is checked, in the officer's words
    severity: str  # the severity of a failure (a rule with blank parts can still only warn)
    rule: Rule | None = None
    field: Field | None = None
    ratio: tuple[str, str] | None = None
    list_id: str = ""
    column: str = ""  # the list column a row failure marks
    criterion: Any = None  # a CQTT criterion (Choice)
    inputs: tuple[str, ...] = ()  # codes whose input cells the check reads (marked when it fails)


def leaf_label(node: Node, form: Form) -> str:
    """How a message names a value: its label; a table column with its sheet."""
    if isinstance(node, ListSum):
        lst = form.list(node.list_id)
        return f"{lst.column(node.column).label} (sheet {lst.sheet})"
    return form.field(node.code).label


def quoted(node: Node, form: Form) -> str:
    """A value by the name the sheets give it: «Hồ sơ rút»; a table column «Số hồ sơ» (sheet «Hồ sơ quá hạn»)."""
    if isinstance(node, ListSum):
        lst = form.list(node.list_id)
        return f"tổng cột «{lst.column(node.column).label}» (sheet «{lst.sheet}»)"
    return f"«{form.field(node.code).label}»"


def _terms(node: Node) -> list[Node] | None:
    """The terms of a sum of two or more values (a + b + c), else None."""
    if isinstance(node, BinOp) and node.op == "+":
        left = _terms(node.left) or [node.left]
        return left + [node.right] if not isinstance(node.right, BinOp) else None
    return None


def _said(node: Node, form: Form) -> str:
    if isinstance(node, Num):
        return f"{node.value:g}".replace(".", ",")
    if isinstance(node, (Ref, ListSum)):
        return quoted(node, form)
    terms = _terms(node)
    if terms and all(isinstance(t, (Ref, ListSum)) for t in terms):
        names = [quoted(t, form) for t in terms]
        return "tổng " + ", ".join(names[:-1]) + " và " + names[-1]
    if node.op == "*" and isinstance(node.left, Num):  # 0.2 * (a + b): "20% của tổng …"; 3 * a: "3 lần …"
        k = node.left.value
        return (f"{k * 100:g}% của " if k < 1 else f"{k:g} lần ").replace(".", ",") + _said(node.right, form)
    return f"{_said(node.left, form)} {_WORDS[node.op]} {_said(node.right, form)}"


def rule_text(rule: Rule, form: Form) -> str:
    """The rule as a sentence: "«Tổng số hồ sơ tiếp nhận» bằng tổng «Hồ sơ tiếp nhận trong kỳ» và «Hồ sơ từ kỳ
    trước chuyển sang».", with each value named as its row or column is in the workbook."""
    if rule.kind == "pair":
        a, b = (form.field(c).label for c in rule.fields)
        return f"Đã nhập «{a}» thì nhập cả «{b}»."
    if rule.kind == "exclusive":
        a, b = (form.field(c).label for c in rule.fields)
        return f"Không nhập đồng thời «{a}» và «{b}»."
    tree = rule.tree
    dates = [isinstance(x, Ref) and form.field(x.code).type == "date" for x in (tree.left, tree.right)]
    op = (_SAID_DATE if all(dates) else _SAID)[tree.op]
    text = f"{_said(tree.left, form)} {op} {_said(tree.right, form)}."
    return text[:1].upper() + text[1:]


def ratio_text(field: Field, num: str, den: str, form: Form) -> str:
    """"«Tỷ lệ …» bằng «tử» chia cho «mẫu», nhân 100, …" in words, with the tolerance the verdict applies."""
    slip = f"{RATIO_SLIP:g}".replace(".", ",")
    return (f"«{field.label}» bằng {quoted(Ref(num), form)} chia cho {quoted(Ref(den), form)}, nhân 100, làm tròn "
            f"nửa lên như số đã ghi (lệch đến {slip} điểm chỉ là cảnh báo).")


def _codes(nodes: list[Node]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.code for n in nodes if isinstance(n, Ref)))


def _build(form: Form) -> list[Check]:
    out = [Check("bat-buoc-" + f.code.lower().replace("_", "-"), "required", f"Đã nhập «{f.label}» (bắt buộc).",
                 ERROR, field=f, inputs=(f.code,))
           for f in (*form.metadata, *form.indicators) if f.required]
    out.append(Check("gioi-han", "bounds", "Số liệu nằm trong giới hạn cho phép: không âm, tỷ lệ không quá 100%.",
                     ERROR))
    out.append(Check("don-vi-khong-khop", "unit-name", "«Tên đơn vị» khớp với «Mã đơn vị hành chính».", ERROR,
                     inputs=("MA_DVHC", "TEN_DON_VI")))
    out.append(Check("ky-ngoai-thoi-gian", "period-window",
                     "«Số liệu từ ngày» và «Số liệu đến ngày» nằm trong «Kỳ báo cáo» của «Năm báo cáo».",
                     ERROR, inputs=("TU_NGAY", "DEN_NGAY", "KY_BAO_CAO", "NAM_BAO_CAO")))
    for r in load_rules(form):
        out.append(Check(r.id, "rule", r.description or rule_text(r, form), r.severity, rule=r,
                         inputs=_codes(r.leaves)))
    for f, num, den in ratio_rules(form):
        out.append(Check("ty-le-" + f.code.lower().replace("_", "-"), "ratio", ratio_text(f, num, den, form), ERROR,
                         field=f, ratio=(num, den), inputs=(f.code, num, den)))
    for cid, list_id, column, text in ROW_CHECKS:
        out.append(Check(cid, "rows", text, ERROR, list_id=list_id, column=column,
                         inputs=("HS_QUA_HAN",) if cid == "cqtt-tthc-qua-han" else ()))
    for crit in form.cqtt_criteria:
        out.append(Check(f"cqtt-tong-diem-toi-da-{crit.code.lower()}", "cqtt-total",
                         f"Tổng «Điểm tối đa» các tiêu chí thành phần của «{crit.label}» bằng {crit.extra['max']:g}.",
                         ERROR, criterion=crit,
                         list_id="cqtt", column="diem_toi_da"))
    return out


_CACHE: dict[int, tuple[Form, list[Check]]] = {}


def checks(form: Form) -> list[Check]:
    """The checks of the Kiểm tra sheet, in sheet order (built once per form)."""
    cached = _CACHE.get(id(form))
    if cached is None or cached[0] is not form:
        cached = _CACHE[id(form)] = (form, _build(form))
    return cached[1]

