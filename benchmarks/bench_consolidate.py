"""Benchmark: check + consolidate N synthetic unit workbooks, against a bare read and a naive pandas loop.

    python benchmarks/bench_consolidate.py --n 114            # Hải Phòng, city workbook included
    python benchmarks/bench_consolidate.py --n 3321 --dir /tmp/bench_quoc_gia   # every unit of the 34 provinces

--n 114 is Hải Phòng's 114 units; --n 3321 is the 3,321 distinct units of the 34 provinces
(the vietnam-provinces package), one "6 tháng đầu năm 2026" workbook each, checked and
consolidated nationally and then per province (`regional`, no second read). The files are
generated once into --dir and reused by later runs (generation is not timed).

Four variants, each in its own process so its peak RSS is its own (workers included: the
main process plus each worker's peak, an upper bound as workers peak at different times):
- baocao: read + check + consolidate (+ the city workbook at 114), one worker process per core
  (`consolidate`'s default, as `baocao tong-hop`);
- read: a bare python-calamine read of every sheet of the same files, as many processes;
- inputs: a bare python-calamine read of only the sheets the checker uses, as many processes;
- naive: pandas.read_excel of every sheet and the TTHC identities in pandas, one process; with
  --naive-limit below N it runs on that many files and its time is extrapolated (the table says so).
Prints the machine's load first, then the table (wall seconds and CPU seconds of the variant and its
workers), then the anchors of this same run: `cpu_ratio_vs_read:` (baocao / bare read in CPU seconds; goal
<= 1.3, .ci/run fails above 2), `cpu_ratio_vs_inputs:` (baocao / read of the checker's sheets in CPU
seconds; goal <= 1.5), `ratio_vs_read:` (the same in wall time) and `ratio:` (naive / baocao wall time,
higher is better). On a shared machine the wall times follow the load; the CPU ratios do not.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from machine import print_load

from toolkit.city.consolidation import cores

WORKERS = cores()  # as consolidate's default
PERIOD, YEAR = "6T", 2026
VARIANTS = ("baocao", "read", "inputs", "naive")
_INPUTS: tuple[str, ...] = ()  # the sheets the reader reads (set in the child, inherited by its workers)


def _forms(n: int):
    """[(province form, its units)] covering the first n units (Hải Phòng alone for 114)."""
    from toolkit.definition.form import load_form

    form = load_form()
    if n == len(form.units):
        return [(form, list(form.units))]
    out, left = [], n
    for name, _ in _provinces():
        if left <= 0:
            break
        pform = form.for_province(name)
        out.append((pform, list(pform.units[:left])))
        left -= len(out[-1][1])
    return out


def _provinces():
    from toolkit.definition.units import all_provinces

    return all_provinces()


def generate(folder: Path, n: int) -> list[Path]:
    """One workbook per unit, each province's files in its own sub-folder; reused while the template they were
    made from is today's (files of an older template would measure the old one)."""
    from toolkit.synthetic import Patcher, file_name, unit_data

    marker = folder / f".generated_{n}"
    forms = _forms(n)
    first = Patcher(forms[0][0], PERIOD, YEAR, folder)
    made_from = hashlib.sha256(b"".join(data for info, data in first.members
                                        if info.filename != "docProps/core.xml")).hexdigest()
    if marker.exists() and marker.read_text().split()[-1:] == [made_from]:
        return sorted(folder.rglob("*.xlsx"))
    for old in folder.rglob("*.xlsx"):
        old.unlink()
    paths = []
    for pform, units in forms:
        sub = folder / pform.province.replace(" ", "_")
        patcher = first if pform is forms[0][0] else Patcher(pform, PERIOD, YEAR, folder)
        for unit in units:
            paths.append(patcher.write(sub / file_name(unit, PERIOD, YEAR), unit_data(pform, unit, PERIOD, YEAR)))
    marker.write_text(f"{len(paths)} {made_from}")
    return paths


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + WORKERS * workers) / 1024 if workers else own / 1024


def run_baocao(folder: Path, n: int) -> dict:
    from toolkit.city.consolidation import consolidate, regional
    from toolkit.city.workbook import write_city_workbook
    from toolkit.definition.form import load_form

    t = time.perf_counter()
    forms = _forms(n)
    if len(forms) == 1:  # one province: its city workbook is part of the run
        res = consolidate(folder, PERIOD, YEAR, form=forms[0][0])
        write_city_workbook(res, folder.parent / "tong_hop_bench.xlsx")
        parts = [res]
    else:  # the nation, then each province cut out of it
        res = consolidate(folder, PERIOD, YEAR, form=load_form().national())
        parts = [regional(res, pform) for pform, _ in forms]
    return {"seconds": time.perf_counter() - t, "files": len(res.files), "received": res.received,
            "provinces": len(parts), "total": res.totals.get("HS_TIEP_NHAN"),
            "province_total": sum(p.totals.get("HS_TIEP_NHAN") or 0 for p in parts)}


def _bare_read(path: str) -> int:
    import python_calamine as pc

    book = pc.CalamineWorkbook.from_path(path)
    cells = sum(len(row) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python())
    book.close()
    return cells


def _input_sheets() -> tuple[str, ...]:
    """The sheets the reader reads: the stamp, the two sheets of values and the list sheets."""
    from toolkit.definition import layout as L
    from toolkit.definition.form import load_form

    return (L.SHEET_LISTS, L.SHEET_META, L.SHEET_DATA, *(lst.sheet for lst in load_form().lists))


def _inputs_read(path: str) -> int:
    import python_calamine as pc

    book = pc.CalamineWorkbook.from_path(path)
    cells = sum(len(row) for name in _INPUTS if name in book.sheet_names
                for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False))
    book.close()
    return cells


def run_read(paths: list[Path], read=_bare_read) -> dict:
    t = time.perf_counter()
    jobs = [str(p) for p in paths]
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        cells = sum(pool.map(read, jobs, chunksize=max(1, min(64, len(jobs) // (WORKERS * 4)))))
    return {"seconds": time.perf_counter() - t, "files": len(paths), "cells": cells}


IDENTITIES = (("HS_TIEP_NHAN", ("HS_TRONG_KY", "HS_KY_TRUOC")),
              ("HS_TRONG_KY", ("HS_TRUC_TUYEN", "HS_TRUC_TIEP", "HS_BUU_CHINH")),
              ("HS_DA_GQ", ("HS_TRUOC_DUNG_HAN", "HS_QUA_HAN", "HS_TU_CHOI", "HS_RUT")),
              ("HS_DANG_GQ", ("HS_DANG_TRONG_HAN", "HS_DANG_QUA_HAN", "HS_CHO_BO_SUNG")),
              ("HS_TIEP_NHAN", ("HS_DA_GQ", "HS_DANG_GQ")))


def run_naive(paths: list[Path]) -> dict:
    import pandas as pd

    t = time.perf_counter()
    frames, findings = [], 0
    for path in paths:
        sheets = pd.read_excel(path, sheet_name=None, header=None)
        meta = sheets["Thông tin chung"].iloc[4:, [0, 2]].dropna(subset=[0]).set_index(0)[2]
        data = sheets["Số liệu"].iloc[4:, [0, 4]].dropna(subset=[0]).set_index(0)[4]
        values = pd.to_numeric(data, errors="coerce")
        findings += int(values.isna().sum() - data.isna().sum())
        for total, parts in IDENTITIES:
            findings += int(values[total] != values[list(parts)].sum())
        pct = (100 * values["HS_TRUOC_DUNG_HAN"] / values["HS_DA_GQ"]).round(2)
        findings += int(abs(pct - values["TL_HS_DUNG_HAN"]) > 0.005)
        if meta["KY_BAO_CAO"] == "6 tháng đầu năm" and int(meta["NAM_BAO_CAO"]) == YEAR:
            frames.append(values.rename(str(meta["MA_DVHC"])))
    table = pd.concat(frames, axis=1).T if frames else pd.DataFrame()
    total = float(table["HS_TIEP_NHAN"].sum()) if len(table) else None
    return {"seconds": time.perf_counter() - t, "files": len(paths), "received": len(frames),
            "total": total, "findings": findings}


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers: unlike wall time, other load on the machine
    does not inflate it."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child(variant: str, folder: Path, n: int, limit: int) -> None:
    global _INPUTS
    paths = sorted(folder.rglob("*.xlsx"))
    _INPUTS = _input_sheets()  # known before the clock starts, as a reader of this form knows them
    start = cpu_seconds()
    out = {"baocao": lambda: run_baocao(folder, n), "read": lambda: run_read(paths),
           "inputs": lambda: run_read(paths, _inputs_read), "naive": lambda: run_naive(paths[:limit])}[variant]()
    out["cpu"] = cpu_seconds() - start
    out["rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=114, help="number of units (114: Hải Phòng; 3321: all 34 provinces)")
    ap.add_argument("--dir", type=Path, help="where the workbooks are generated once and reused "
                                             "(default /tmp/bench_baocao_N)")
    ap.add_argument("--naive-limit", type=int, default=300, help="run the naive loop on at most this many files")
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = args.dir or Path(f"/tmp/bench_baocao_{args.n}")
    folder = root / "phieu"
    if args.child:
        child(args.child, folder, args.n, args.naive_limit)
        return 0
    t = time.perf_counter()
    generate(folder, args.n)
    print(f"workbooks ready in {folder} ({time.perf_counter() - t:.1f} s, not timed below)", file=sys.stderr)
    print_load()
    rows = {}
    for variant in VARIANTS:
        done = subprocess.run([sys.executable, __file__, "--child", variant, "--n", str(args.n), "--dir", str(root),
                               "--naive-limit", str(args.naive_limit)], capture_output=True, text=True, check=True)
        rows[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    b, rd, inp, nv = rows["baocao"], rows["read"], rows["inputs"], rows["naive"]
    naive_s = nv["seconds"] * b["files"] / nv["files"]
    scope = "city workbook included" if b["provinces"] == 1 else f"national + {b['provinces']} provinces"
    print(f"{'variant':<64}{'files':>7}{'seconds':>10}{'CPU s':>9}{'files/s':>10}{'peak RSS MB':>13}")
    for name, r in ((f"baocao check+consolidate ({scope}, {WORKERS} processes)", b),
                    (f"bare calamine read ({WORKERS} processes)", rd),
                    (f"calamine read of the checker's sheets ({WORKERS} proc.)", inp),
                    ("naive pandas loop (measured)", nv)):
        print(f"{name:<64}{r['files']:>7}{r['seconds']:>10.2f}{r['cpu']:>9.2f}{r['files'] / r['seconds']:>10.1f}"
              f"{r['rss_mb']:>13.0f}")
    if nv["files"] < b["files"]:
        print(f"{'naive pandas loop (EXTRAPOLATED)':<64}{b['files']:>7}{naive_s:>10.2f}{'':>9}"
              f"{b['files'] / naive_s:>10.1f}")
        print(f"note: naive measured on {nv['files']} of {b['files']} files, time extrapolated linearly")
    if b["provinces"] > 1 and b["province_total"] != b["total"]:
        print(f"note: provinces sum to {b['province_total']}, the nation to {b['total']}")
    print(f"received {b['received']}/{b['files']} units; HS_TIEP_NHAN total {b['total']}")
    print(f"cpu_ratio_vs_read: {b['cpu'] / rd['cpu']:.2f}")
    print(f"cpu_ratio_vs_inputs: {b['cpu'] / inp['cpu']:.2f}")
    print(f"ratio_vs_read: {b['seconds'] / rd['seconds']:.2f}")
    print(f"ratio: {naive_s / b['seconds']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
