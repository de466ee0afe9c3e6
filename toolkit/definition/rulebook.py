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
    ("vb-so-sai-dang", "van_ban", "so", "Số văn bản đúng dạng (số thứ tự; văn bản QPPL kèm năm: 01/2026)"),
    ("vb-ky-hieu-sai-dang", "van_ban", "ky_hieu",
     "Ký hiệu văn bản đúng dạng (chữ in hoa nối bằng dấu gạch ngang, ví dụ QĐ-UBND)"),
    ("vb-loai-ky-hieu", "van_ban", "ky_hieu", "Loại văn bản khớp với ký hiệu (Kế hoạch: KH-…, Quyết định: QĐ-…)"),
    ("vb-cong-van-ky-hieu", "van_ban", "ky_hieu", "Công văn không mang ký hiệu của loại văn bản khác"),
    ("vb-ngay-sau-bao-cao", "van_ban", "ngay", "Ngày ban hành văn bản không sau ngày ký báo cáo"),
    ("vb-trung-so-khac-ngay", "van_ban", "ngay", "Cùng số và ký hiệu trong một năm thì cùng ngày ban hành"),
    ("thoi-gian-nguoc", "so_lieu_rieng", "tu_ngay", "Khoảng thời gian riêng: Từ ngày không sau Đến ngày"),
    ("thoi-gian-ngoai-ky", "so_lieu_rieng", "tu_ngay",
     "Khoảng thời gian riêng của số liệu sheet Số liệu (dòng không ghi Giá trị) nằm trong kỳ báo cáo"),
    ("cqtt-diem-vuot-toi-da", "cqtt", "diem_tu_cham", "Điểm tự chấm không lớn hơn điểm tối đa"),
    ("cqtt-tthc-qua-han", "cqtt", "diem_tu_cham",
     "Tiêu chí giải quyết TTHC đúng hạn không đạt điểm tối đa khi có hồ sơ quá hạn"),
)

# Checks no formula can make: they run from the «Kiểm tra» button and `baocao kiem-tra`.
BUTTON_ONLY = (
    ("ky-truoc-khong-khop", "Hồ sơ từ kỳ trước bằng hồ sơ đang giải quyết cuối kỳ trước (cần phiếu kỳ trước)"),
    ("o-khong-doc-duoc", "Ô nhập đọc được (không chứa chữ trong ô số, không chứa công thức)"),
    ("bao-cao-khong-co", "Cột «Báo cáo» chỉ ghi loại báo cáo có trong danh mục"),
    ("so-lieu-rieng-sai", "Số liệu riêng của từng báo cáo đúng kiểu và giới hạn của chỉ tiêu"),
    ("so-lieu-rieng-khop", "Số liệu riêng không ghi khoảng thời gian riêng khớp các quy tắc và tỷ lệ như sheet Số liệu"),
)

RATIO_SLIP = 0.1  # percentage points: a rounding slip (warning) rather than a wrong figure (error)

_OPS = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">", "+": "+", "-": "−", "*": "×", "/": ":"}


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


def lower(label: str) -> str:
    """A label inside a sentence: "Hồ sơ rút" -> "hồ sơ rút", but "DVCTT …" and "TTHC …" stay."""
    return label if len(label) > 1 and label[1].isupper() else label[:1].lower() + label[1:]


def _phrase(node: Node, form: Form, first: bool) -> str:
    if isinstance(node, Num):
        return f"{node.value:g}".replace(".", ",")
    if isinstance(node, (Ref, ListSum)):
        text = leaf_label(node, form)
        if isinstance(node, ListSum):
            text = ("Tổng " if first else "tổng ") + lower(text)
        elif not first:
            text = lower(text)
        return text
    left = _phrase(node.left, form, first)
    right = _phrase(node.right, form, False)
    if isinstance(node, BinOp) and node.op in "*/" and isinstance(node.right, BinOp):
        right = f"({right})"
    return f"{left} {_OPS[node.op]} {right}"


def rule_text(rule: Rule, form: Form) -> str:
    """ "Tổng số hồ sơ tiếp nhận = hồ sơ tiếp nhận trong kỳ + hồ sơ từ kỳ trước chuyển sang"."""
    if rule.kind == "pair":
        a, b = (form.field(c).label for c in rule.fields)
        return f"Đã nhập «{a}» thì nhập cả «{b}»"
    if rule.kind == "exclusive":
        a, b = (form.field(c).label for c in rule.fields)
        return f"Không nhập đồng thời «{a}» và «{b}»"
    return _phrase(rule.tree, form, True)


def _codes(nodes: list[Node]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.code for n in nodes if isinstance(n, Ref)))


def _build(form: Form) -> list[Check]:
    out = [Check("bat-buoc-" + f.code.lower().replace("_", "-"), "required", f"Đã nhập «{f.label}» (bắt buộc)",
                 ERROR, field=f, inputs=(f.code,))
           for f in (*form.metadata, *form.indicators) if f.required]
    out.append(Check("gioi-han", "bounds", "Số liệu nằm trong giới hạn cho phép (không âm; tỷ lệ không quá 100%)",
                     ERROR))
    out.append(Check("don-vi-khong-khop", "unit-name", "Tên đơn vị khớp với mã đơn vị hành chính", ERROR,
                     inputs=("MA_DVHC", "TEN_DON_VI")))
    out.append(Check("ky-ngoai-thoi-gian", "period-window", "Khoảng thời gian lấy số liệu nằm trong kỳ báo cáo",
                     ERROR, inputs=("TU_NGAY", "DEN_NGAY", "KY_BAO_CAO", "NAM_BAO_CAO")))
    for r in load_rules(form):
        out.append(Check(r.id, "rule", r.description or rule_text(r, form), r.severity, rule=r,
                         inputs=_codes(r.leaves)))
    for f, num, den in ratio_rules(form):
        out.append(Check("ty-le-" + f.code.lower().replace("_", "-"), "ratio",
                         f"{f.label} = {lower(leaf_label(Ref(num), form))} : {lower(leaf_label(Ref(den), form))} "
                         "× 100 (làm tròn)", ERROR, field=f, ratio=(num, den), inputs=(f.code, num, den)))
    for cid, list_id, column, text in ROW_CHECKS:
        out.append(Check(cid, "rows", text, ERROR, list_id=list_id, column=column,
                         inputs=("HS_QUA_HAN",) if cid == "cqtt-tthc-qua-han" else ()))
    for crit in form.cqtt_criteria:
        out.append(Check(f"cqtt-tong-diem-toi-da-{crit.code.lower()}", "cqtt-total",
                         f"Tổng điểm tối đa của «{crit.label}» bằng {crit.extra['max']:g}", ERROR, criterion=crit,
                         list_id="cqtt", column="diem_toi_da"))
    return out


_CACHE: dict[int, tuple[Form, list[Check]]] = {}


def checks(form: Form) -> list[Check]:
    """The checks of the Kiểm tra sheet, in sheet order (built once per form)."""
    cached = _CACHE.get(id(form))
    if cached is None or cached[0] is not form:
        cached = _CACHE[id(form)] = (form, _build(form))
    return cached[1]

