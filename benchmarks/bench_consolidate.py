"""Benchmark: check + consolidate N synthetic unit workbooks, baocao against a naive pandas loop.

    python benchmarks/bench_consolidate.py --n 3321 [--naive-limit 300]

N files = the 114 units of the form over successive periods and years (the form
only accepts Hải Phòng's 114 unit codes, so 3,321 files are 114 units x several
periods, not 3,321 communes); every file is read and checked, the 114 of
"6 tháng đầu năm 2026" are consolidated into a city workbook. Each variant runs in
its own process so its peak RSS is its own (workers included: RSS of the main
process plus each worker's peak, an upper bound as workers peak at different
times). The naive loop reads every sheet with pandas.read_excel and does the TTHC
identity checks in pandas; with --naive-limit below N it runs on that many files
and its time is extrapolated linearly, and the table says so.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PERIODS = ("6T", "Q1", "Q2", "Q3", "Q4", "9T", "NAM")


def generate(folder: Path, n: int) -> list[Path]:
    from toolkit.form import load_form
    from toolkit.synthetic import Patcher, file_name, unit_data

    form = load_form()
    paths: list[Path] = []
    year = 2026
    while len(paths) < n:
        for period in PERIODS:
            patcher = Patcher(form, period, year, folder)
            for unit in form.units:
                if len(paths) == n:
                    return paths
                out = folder / str(year) / period / file_name(unit, period, year)
                paths.append(patcher.write(out, unit_data(form, unit, period, year)))
        year += 1
    return paths


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + 2 * workers) / 1024 if workers else own / 1024


def run_baocao(folder: Path) -> dict:
    from toolkit.city_workbook import write_city_workbook
    from toolkit.consolidate import consolidate

    t = time.perf_counter()
    res = consolidate(folder, "6T", 2026)
    write_city_workbook(res, folder.parent / "tong_hop_bench.xlsx")
    return {"seconds": time.perf_counter() - t, "files": len(res.files), "received": res.received,
            "total": res.totals.get("HS_TIEP_NHAN")}


IDENTITIES = (("HS_TIEP_NHAN", ("HS_TRONG_KY", "HS_KY_TRUOC")),
              ("HS_TRONG_KY", ("HS_TRUC_TUYEN", "HS_TRUC_TIEP", "HS_BUU_CHINH")),
              ("HS_DA_GQ", ("HS_TRUOC_HAN", "HS_DUNG_HAN", "HS_QUA_HAN", "HS_TU_CHOI", "HS_RUT")),
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
        if meta["KY_BAO_CAO"] == "6 tháng đầu năm" and int(meta["NAM_BAO_CAO"]) == 2026:
            frames.append(values.rename(str(meta["MA_DVHC"])))
    table = pd.concat(frames, axis=1).T if frames else pd.DataFrame()
    total = float(table["HS_TIEP_NHAN"].sum()) if len(table) else None
    return {"seconds": time.perf_counter() - t, "files": len(paths), "received": len(frames),
            "total": total, "findings": findings}


def child(variant: str, folder: Path, limit: int) -> None:
    if variant == "baocao":
        out = run_baocao(folder)
    else:
        paths = sorted(folder.rglob("*.xlsx"))
        six = [p for p in paths if p.parent.name == "6T"]  # the consolidated period first
        out = run_naive((six + [p for p in paths if p.parent.name != "6T"])[:limit])
    out["rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=114, help="number of workbooks (114 or 3321)")
    ap.add_argument("--naive-limit", type=int, help="run the naive loop on this many files and extrapolate")
    ap.add_argument("--child", choices=("baocao", "naive"), help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.dir, args.naive_limit or 10**9)
        return 0
    limit = min(args.naive_limit or args.n, args.n)
    with tempfile.TemporaryDirectory(prefix="bench_baocao_") as tmp:
        folder = Path(tmp) / "phieu"
        t = time.perf_counter()
        generate(folder, args.n)
        print(f"generated {args.n} workbooks in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        rows = []
        for variant in ("baocao", "naive"):
            done = subprocess.run([sys.executable, __file__, "--child", variant, "--dir", str(folder),
                                   "--naive-limit", str(limit)], capture_output=True, text=True, check=True)
            rows.append((variant, json.loads(done.stdout.strip().splitlines()[-1])))
    (_, b), (_, nv) = rows
    naive_s = nv["seconds"] * args.n / nv["files"]
    print(f"{'variant':<34}{'files':>7}{'seconds':>10}{'files/s':>10}{'peak RSS MB':>13}")
    print(f"{'baocao (2 processes)':<34}{b['files']:>7}{b['seconds']:>10.2f}{b['files'] / b['seconds']:>10.1f}"
          f"{b['rss_mb']:>13.0f}")
    print(f"{'naive pandas (measured)':<34}{nv['files']:>7}{nv['seconds']:>10.2f}"
          f"{nv['files'] / nv['seconds']:>10.1f}{nv['rss_mb']:>13.0f}")
    if nv["files"] < args.n:
        print(f"{'naive pandas (EXTRAPOLATED)':<34}{args.n:>7}{naive_s:>10.2f}{args.n / naive_s:>10.1f}"
              f"{'':>13}")
        print(f"note: naive measured on {nv['files']} of {args.n} files, time extrapolated linearly")
    if nv["files"] == args.n and nv["total"] != b["total"]:
        print(f"note: totals differ: baocao {b['total']} naive {nv['total']}")
    print(f"ratio: {naive_s / b['seconds']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
