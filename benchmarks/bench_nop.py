"""The server's CPU for one Nộp of the button, in this process: the posted workbook opened, read and checked,
stored as a new version and its kept .xlsx copy written, the receipt written back.

    python benchmarks/bench_nop.py [--lan 60]

Each press posts the same unit's workbook with another "người lập", so every Nộp is a new version and writes
its kept copy. Prints the load, a table of CPU milliseconds per Nộp (all of it, and the kept copy's part, timed
around toolkit.server.nop.write_grid) and `ratio: <kept copy / Nộp CPU>`."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import remote_client as rc  # noqa: E402

from toolkit.definition import load_form  # noqa: E402
from toolkit.excel import build_intake  # noqa: E402
from toolkit.excel import buttons as xl  # noqa: E402
from toolkit.server import nop  # noqa: E402
from toolkit.synthetic import unit_data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lan", type=int, default=60, help="Nộp pressed (after 5 to warm up)")
    args = parser.parse_args()
    form = load_form()
    unit = form.units[3]
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (CPU ms do not "
          "follow the load as wall times do)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book_path = build_intake(form, folder / "phieu.xlsm", unit_data(form, unit, "6T", 2026),
                                 server=("http://127.0.0.1", "k"))
        payload = rc.payload(book_path)
        where = next(n for n in payload["names"] if n["name"] == "NGUOI_LAP")["address"]
        kept, write = [], nop.write_grid

        def timed_write(grid, out):
            began = time.process_time()
            try:
                return write(grid, out)
            finally:
                kept.append(time.process_time() - began)

        nop.write_grid = timed_write
        totals = []
        for i in range(args.lan + 5):
            body = rc.edit(payload, {("Thông tin chung", where): f"Cán bộ {i}"})
            began = time.process_time()
            book = xl.open_posted(body)
            try:
                receipt = nop.submit(book, unit.code, folder / "kho.sqlite", folder / "phieu", form)
                book.json()
            finally:
                xl.close_posted(book)
            totals.append(time.process_time() - began)
            assert receipt and receipt.version == i + 1, receipt
        totals, kept = totals[5:], kept[5:]
        size = statistics.median(p.stat().st_size for p in (folder / "phieu").rglob("*.xlsx"))
    total, copy = statistics.median(totals) * 1000, statistics.median(kept) * 1000
    print(f"{'':24} {'median ms':>10} {'p90 ms':>8}")
    print(f"{'Nộp (CPU)':24} {total:10.1f} {sorted(totals)[int(len(totals) * .9)] * 1000:8.1f}")
    print(f"{'  of which kept copy':24} {copy:10.1f} {sorted(kept)[int(len(kept) * .9)] * 1000:8.1f}")
    print(f"kept copy: {size / 1024:.0f} KB median")
    print(f"ratio: {copy / total:.2f}")


if __name__ == "__main__":
    main()
