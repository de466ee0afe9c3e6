"""Benchmark: the sheet scan (toolkit/intake/xlsx_scan.py) against calamine's read, and linear in the sheet's size.

Run: python benchmarks/bench_scan.py [--files N]. First the form's own workbook (the sample of Nghi Dương,
as `baocao tao-mau` writes it) read N times: the scan as the reader does it (every sheet it reads measured,
the formulas of its two sheets of values, the shared strings counted) against a bare python-calamine read
of the same sheets, in CPU seconds; the anchor `scan_ratio_vs_inputs:` is scan / read (goal <= 0.10).
Then sheets of growing size are scanned from memory: plain rows (the fast path), the same rows without
"r" and with a comment between them (the tokenizer), and a comment holding <f> that is as long as the scan
allows. That table shows seconds per megabyte; the last line is "ratio: X", the worst per-megabyte time
at the largest size over the one at the smallest (1 is linear, the quadratic parse of issue 20 gave about
16 for 4 times the size). The machine's load is printed first.
"""
from __future__ import annotations

import argparse
import io
import tempfile
import time
import zipfile
from pathlib import Path

import python_calamine as pc
from machine import print_load

from toolkit.definition import layout as L
from toolkit.definition import load_form
from toolkit.demo import sample_files
from toolkit.excel import build
from toolkit.intake import load_data
from toolkit.intake.xlsx_scan import MAX_TOKEN, Scanner, _fast_scan, scan_sheet

HEAD = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = b"</sheetData></worksheet>"


def plain(rows: int) -> bytes:
    return HEAD + b"".join(b'<row r="%d"><c r="C%d"><v>1</v></c></row>' % (r, r) for r in range(1, rows + 1)) + TAIL


def odd(rows: int) -> bytes:
    return HEAD + b"<row><c><v>1</v></c><!-- x --></row>" * rows + TAIL


def comment(megabytes: float) -> bytes:
    return HEAD + b"<!-- " + b"<f>1</f>" * int(megabytes * (1 << 20) / 8) + b" -->" + TAIL


def timed(scan, data: bytes) -> float:
    start = time.perf_counter()
    result = scan(io.BytesIO(data))
    assert result is not None
    return time.perf_counter() - start


def against_read(files: int) -> float:
    """CPU seconds of the reader's scan over those of calamine's read of the same sheets, `files` times."""
    form = load_form()
    sheets = (L.SHEET_LISTS, L.SHEET_META, L.SHEET_DATA, *(lst.sheet for lst in form.lists))
    with tempfile.TemporaryDirectory() as tmp:
        data = next(f for f in sample_files() if f.stem.startswith("nghi_duong"))
        path = build(form, Path(tmp) / "mau.xlsx", load_data(data, form))
        start = time.process_time()
        for _ in range(files):
            with zipfile.ZipFile(path) as zf:
                scanner = Scanner(zf)
                scanner.shared_strings_ok()
                for sheet in sheets:
                    scanner.scan(sheet)
                scanner.formulas(L.SHEET_META), scanner.formulas(L.SHEET_DATA)
        scan = time.process_time() - start
        start = time.process_time()
        for _ in range(files):
            book = pc.CalamineWorkbook.from_path(str(path))
            for sheet in sheets:
                book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            book.close()
        read = time.process_time() - start
    print(f"| the form's workbook × {files} | scan {scan:.2f} CPU s | calamine read of the same sheets {read:.2f} "
          f"CPU s |\n")
    return scan / read


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=200, help="times the form's workbook is scanned and read")
    args = ap.parse_args()
    print_load()
    against = against_read(args.files)
    print("| sheet | MB | s | s/MB |\n|---|---|---|---|")
    worst = 0.0
    for name, make, scan, sizes in (("plain rows (fast path)", plain, _fast_scan, (125_000, 250_000, 500_000)),
                                    ("rows without r, comments (tokenizer)", odd, scan_sheet,
                                     (40_000, 80_000, 160_000)),
                                    ("one comment holding <f>", comment, scan_sheet,
                                     (MAX_TOKEN / 4 / (1 << 20), MAX_TOKEN / (1 << 20) * 0.9))):
        per_mb, times = [], []
        for size in sizes:
            data = make(size)
            seconds = min(timed(scan, data) for _ in range(3))
            mb = len(data) / (1 << 20)
            per_mb.append(seconds / mb)
            times.append(seconds)
            print(f"| {name}: {size:g} | {mb:.1f} | {seconds:.3f} | {seconds / mb:.3f} |")
        if times[0] > 0.05:  # shorter runs are timer noise
            worst = max(worst, per_mb[-1] / per_mb[0])
    print(f"scan_ratio_vs_inputs: {against:.2f}")
    print(f"ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
