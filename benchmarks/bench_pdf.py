"""Benchmark: ten unit reports to PDF, in a cold LibreOffice per report against a warm office.

Run: python benchmarks/bench_pdf.py. Ten reports (cchc-cds, ten units; the sample workbook of
bench_reports.py) are rendered once; the same .docx files are then converted
- cold, one document at a time: what the server's Tạo báo cáo would pay per press without a warm office;
- cold, the ten in one soffice: what `bao-cao THU_MUC --pdf` pays without one;
- warm: one office started (timed apart) then the ten documents through it, one at a time.
Every PDF is checked (%PDF, the unit's name in pdftotext's text). The last line is
"pdf_speedup: X" (cold per document / warm, start excluded: a warm office is started once per server process).
"""
from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench_reports import units
from machine import print_load

from toolkit.reports.office import Office, cold_pdf, to_pdf
from toolkit.reports.render import render_batch


def checked(pdfs: list[Path], names: list[str]) -> None:
    for pdf, name in zip(pdfs, names):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert pdf.read_bytes()[:4] == b"%PDF" and name.upper() in text.upper(), (pdf, name)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    print_load()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subs = units("cchc-cds", work)[:10]
        docs = render_batch([], "cchc-cds", work / "docx", subs=subs, draft=True)
        names = [s.meta["TEN_DON_VI"].value for s in subs]
        outs = {k: work / k for k in ("cold1", "coldn", "warm")}
        for d in outs.values():
            d.mkdir()
        cold_each, pdfs = timed(lambda: [p for d in docs for p in cold_pdf([d], outs["cold1"])])
        checked(pdfs, names)
        cold_batch, pdfs = timed(lambda: cold_pdf(docs, outs["coldn"]))
        checked(pdfs, names)
        office = Office()
        try:
            start, ok = timed(office.start)
            assert ok, office.failure
            warm, pdfs = timed(lambda: [p for d in docs for p in to_pdf([d], outs["warm"], office=office)])
            checked(pdfs, names)
        finally:
            office.close()
    n = len(docs)
    rows = [("cold, one soffice per report", cold_each, n), ("cold, one soffice for the ten", cold_batch, n),
            ("warm office: start", start, 1), ("warm office: ten reports", warm, n),
            ("warm office: start + ten reports", start + warm, n)]
    print(f"{'ten reports to PDF':34} {'seconds':>8} {'per report':>11}")
    for label, secs, count in rows:
        each = f"{secs / count:.2f}" if count > 1 else ""
        print(f"{label:34} {secs:8.2f} {each:>11}")
    print(f"pdf_speedup: {cold_each / warm:.1f}")


if __name__ == "__main__":
    main()
