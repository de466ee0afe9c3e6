"""Benchmark: 114 unit reports, compiled-once batch against a naive DocxTemplate-per-report loop.

Run: python benchmarks/bench_reports.py [loai]. One sample workbook is built and read once;
114 Submissions are made from it by changing the unit name and code (the units of
don_vi.csv), so both variants render the same contexts in the same run. The last line
is "ratio: X" (naive seconds / batch seconds).
"""
from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate
from machine import print_load

from toolkit.definition.form import load_form
from toolkit.demo import sample_files
from toolkit.excel.workbook import build
from toolkit.intake.datafile import load_data
from toolkit.intake.reader import read_submission
from toolkit.intake.submission import Value
from toolkit.reports.render import _filters, context_for, render_batch, template_path


def units(loai: str, work: Path) -> list:
    form = load_form()
    data_file = next(f for f in sample_files() if f.stem.startswith("nghi_duong"))
    base = read_submission(build(form, work / "mau.xlsx", load_data(data_file, form)))
    subs = []
    for unit in form.units[:114]:
        s = copy.copy(base)
        s.meta = dict(base.meta)
        s.meta["TEN_DON_VI"] = Value("TEN_DON_VI", unit.name, base.meta["TEN_DON_VI"].loc)
        s.meta["MA_DVHC"] = Value("MA_DVHC", unit.code, base.meta["MA_DVHC"].loc)
        s.meta["DIA_DANH"] = Value("DIA_DANH", unit.name.split(" ", 1)[1], base.meta["DIA_DANH"].loc)
        s.path = work / f"{unit.code}.xlsx"
        subs.append(s)
    return subs


def naive(subs: list, loai: str, out: Path) -> None:
    """What a first version does: a new DocxTemplate (re-read, re-clean, re-compile) per report."""
    kind = load_form().reports[loai]
    for s in subs:
        env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
        env.filters.update(_filters())
        tpl = DocxTemplate(template_path(kind.template))
        tpl.render(context_for(s, kind), env, autoescape=True)
        tpl.save(out / f"{s.unit_code}.docx")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("loai", nargs="?", default="cchc-cds", choices=sorted(load_form().reports),
                    help="the report type (default cchc-cds)")
    loai = ap.parse_args().loai
    print_load()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subs = units(loai, work)
        (work / "batch").mkdir()
        (work / "naive").mkdir()
        t0 = time.perf_counter()
        render_batch([], loai, work / "batch", subs=subs, draft=True)
        batch = time.perf_counter() - t0
        t0 = time.perf_counter()
        naive(subs, loai, work / "naive")
        slow = time.perf_counter() - t0
    n = len(subs)
    print(f"báo cáo: {loai}")
    print(f"{'cách chạy':<34}{'số báo cáo':>11}{'giây':>9}{'báo cáo/giây':>14}")
    for name, sec in (("lô, biên dịch mẫu một lần", batch), ("vòng lặp DocxTemplate mỗi báo cáo", slow)):
        print(f"{name:<34}{n:>11}{sec:>9.2f}{n / sec:>14.1f}")
    print(f"ratio: {slow / batch:.2f}")


if __name__ == "__main__":
    main()
