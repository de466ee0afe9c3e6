"""`baocao kiem-tra`: check files, print findings as a table or JSON, return the exit code."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from toolkit.check import check_file, write_annotated
from toolkit.city import Store, history_findings, list_workbooks, shown, store_exists
from toolkit.definition import ERROR, SEVERITY_VI, Report, load_form
from toolkit.errors import BaocaoError
from toolkit.intake import read_submission
from toolkit.progress import file_progress
from toolkit.reports import empty_findings


def run_check(files: list[Path], as_json: bool = False, annotate: Path | None = None,
              previous: Path | None = None, details: bool = False, store: Path | str | None = None) -> int:
    """0: no error (warnings allowed); 1: errors found; 2: a file is not a readable intake workbook.

    With `store` (the city's history), each file's previous period comes from it and its figures are
    compared with the unit's earlier periods (bất thường: warnings only)."""
    files = _workbooks(files)
    if annotate and len(files) != 1:
        raise BaocaoError("--ra chỉ dùng với một phiếu")
    if previous and store:
        raise BaocaoError("--ky-truoc và --kho không dùng cùng nhau: kho đã có phiếu kỳ trước")
    if store and not store_exists(store):
        raise BaocaoError("kho dữ liệu không tồn tại", path=shown(store))
    form = load_form()
    prev = read_submission(previous, form) if previous else None
    reports = []
    db = Store(store, form, readonly=True) if store else None
    try:
        with file_progress(len(files), "Kiểm tra phiếu", quiet=as_json) as step:
            for path in files:
                report = check_file(path, form, prev if db is None else _previous(db))
                if report.submission is not None:  # the sections the reports chosen in sheet Báo cáo leave empty
                    report.findings += empty_findings(report.submission, form)
                if db is not None and report.submission is not None:
                    report.findings += history_findings(form, db, report.submission)
                reports.append(report)
                if step:
                    step(1)
    finally:
        if db is not None:
            db.close()
    if annotate and reports[0].refusal:
        annotate = None  # nothing was read, so there is nothing to annotate
    elif annotate:
        write_annotated(files[0], reports[0].findings, annotate)
    _print(reports, as_json, annotate, details)
    return max(r.exit_code for r in reports)


def _workbooks(paths: list[Path]) -> list[Path]:
    """The files to check: each file named, and every workbook of each folder named (as `tong-hop` reads one).
    A name that is neither is refused before anything is checked: it is a typing mistake, not a bad workbook."""
    files = []
    for path in paths:
        if path.is_dir():
            found = list_workbooks(path)
            if not found:
                raise BaocaoError("thư mục không có phiếu .xlsx/.xlsm nào", path=str(path))
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise BaocaoError("không có tệp hay thư mục này (kiểm tra lại tên và đường dẫn)", path=str(path))
    return files


def _previous(db: Store):
    def lookup(sub):
        if not (sub.unit_code and sub.period and sub.year) or not db.history(sub.unit_code):
            return None  # history() also refuses, in Vietnamese, a file that is not a store
        return db.previous(sub.unit_code, sub.period, sub.year)
    return lookup


def _print(reports: list[Report], as_json: bool, annotate: Path | None, details: bool) -> None:
    if as_json:
        print(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
        return
    console = Console(soft_wrap=True, highlight=False)  # messages quote the user's text
    refused = [r for r in reports if r.refusal]
    findings = [f for r in reports for f in r.findings]
    for r in refused:
        print(f"Lỗi: {r.refusal}", file=sys.stderr)
        if details and r.detail:
            print(f"Chi tiết kỹ thuật: {r.detail}", file=sys.stderr)
    if findings and not console.is_terminal:  # piped or logged: one finding per line, nothing cut
        for f in findings:
            print(f"{SEVERITY_VI[f.severity]}\t{Path(f.file).name}\t{f.where}\t{f.code}\t{f.message}")
    elif findings:
        table = Table("Mức độ", "Tệp", "Ô", "Mã", "Thông báo", show_lines=False)
        for f in findings:
            style = "red" if f.severity == ERROR else "yellow"
            table.add_row(f"[{style}]{SEVERITY_VI[f.severity]}[/{style}]", escape(Path(f.file).name), escape(f.where),
                          f.code, escape(f.message))
        console.print(table)
    errors = sum(f.severity == ERROR for f in findings)
    console.print(f"{errors} lỗi, {len(findings) - errors} cảnh báo" +
                  (f", {len(refused)} tệp không đọc được" if refused else "") + ".", highlight=False)
    if annotate:
        console.print(f"Bản sao có ghi chú: {annotate}", highlight=False)
