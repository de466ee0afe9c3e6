"""Benchmark: the sheet scan (toolkit/intake/xlsx_scan.py) is linear in the sheet's size, on both of its paths.

Run: python benchmarks/bench_scan.py. Sheets of growing size are scanned from memory: plain rows (the
fast path), the same rows without "r" and with a comment between them (the tokenizer), and a comment
holding <f> that is as long as the scan allows. The table shows seconds per megabyte; the last line is
"ratio: X", the worst per-megabyte time at the largest size over the one at the smallest (1 is linear,
the quadratic parse of issue 20 gave about 16 for 4 times the size).
"""
from __future__ import annotations

import io
import time

from toolkit.intake.xlsx_scan import MAX_TOKEN, _fast_scan, scan_sheet

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


def main() -> None:
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
    print(f"ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
