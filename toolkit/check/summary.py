"""Human and JSON views of a read submission."""
from __future__ import annotations

from datetime import date
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from toolkit.definition import load_form
from toolkit.intake import Submission
from toolkit.vnformat import clip, fmt_value


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def submission_json(sub: Submission) -> dict:
    return {
        "file": str(sub.path),
        "form_id": sub.form_id,
        "version": sub.version,
        "thong_tin": {k: {"value": _json_value(v.value), "cell": str(v.loc)} for k, v in sub.meta.items()},
        "so_lieu": {k: {"value": _json_value(v.value), "cell": str(v.loc)}
                    for k, v in sub.values.items() if v.value is not None},
        "danh_sach": {lid: [{c: {"value": _json_value(v.value), "cell": str(v.loc)}
                             for c, v in row.cells.items() if v.value is not None} for row in rows]
                      for lid, rows in sub.lists.items()},
        "van_de": [{"code": p.code, "cell": str(p.loc), "message": p.message} for p in sub.problems],
    }


def print_submission(sub: Submission, console: Console | None = None) -> None:
    console = console or Console(highlight=False)  # cell text is the user's: no colouring of it
    form = load_form()
    console.print(f"[bold]{escape(sub.unit_name or '(chưa ghi tên đơn vị)')}[/bold] — {escape(sub.period or '')} "
                  f"{sub.year or ''} — {escape(sub.path.name)} (phiếu {sub.form_id} {sub.version})")
    table = Table("Mã", "Chỉ tiêu", "Giá trị", "Ô", title="Số liệu đã nhập")
    filled = 0
    for f in form.indicators:
        v = sub.values.get(f.code)
        if v is None or v.value is None:
            continue
        filled += 1
        table.add_row(f.code, f.label, escape(clip(fmt_value(v.value, f.type, f.unit), 300)), str(v.loc))
    console.print(table)
    lists = ", ".join(f"{lst.sheet}: {len(sub.lists.get(lst.id, []))} dòng" for lst in form.lists)
    console.print(f"{filled}/{len(form.indicators)} chỉ tiêu có số liệu; {lists}.")
    for p in sub.problems:
        # a message quotes what the cell holds, which may be pages long: clipped, and not run through rich's
        # highlighter, whose regexes take minutes on such a text
        console.print(f"[yellow]{escape(str(p.loc))}[/yellow] {escape(clip(p.message, 300))}", highlight=False)
