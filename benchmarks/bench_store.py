"""Benchmark: the city store's writes and reads, on SQLite and (with --pg) on PostgreSQL, against a bare write.

    python benchmarks/bench_store.py                                   # SQLite only
    python benchmarks/bench_store.py --pg postgresql://user@127.0.0.1:5432/postgres   # both backends

114 synthetic unit workbooks of Quý I are read and checked once (not timed); then, per backend, in a new store:
- save: `save_consolidation` of the 114 (one transaction each, as `tong-hop --kho`);
- receive: 114 × 3 `Store.receive` in one process (as the server's Nộp, without the workbook);
- read: `consolidate_store` of the period (the page's and the city workbook's source);
- bare: the same 114 submissions' values written with one sqlite3 executemany into one table, no versions, no
  checks of the same content: the floor a store can approach.
Each is the best of --repeat runs, each in a new store (the machine is shared: the best is the least disturbed).
With --pg a new database is made on that server for the run (and dropped after). Prints the table and last
`save_vs_bare:` (SQLite save / bare, lower is better); run it on the code before and after a change
(PYTHONPATH=…) to see that SQLite did not slow down.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from machine import print_load


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run(new_location, res, form, repeat: int) -> dict[str, float]:
    """The best time of each step over `repeat` new stores (`new_location(i)`)."""
    runs = [_run(new_location(i), res, form) for i in range(repeat)]
    return {step: min(r[step] for r in runs) for step in runs[0]}


def _run(location, res, form) -> dict[str, float]:
    from toolkit.city.consolidation import consolidate_store
    from toolkit.city.store import Store, save_consolidation

    out = {"save": _timed(lambda: save_consolidation(location, res))}

    def receive():
        with Store(location, form) as db:
            for f in res.files:
                for i in range(3):
                    db.receive(f["unit"], f["unit_name"] or "", f["period"], f["year"], f["values"], f["name"],
                               f"{f['hash']}-{i}", f["findings"], f["version"])

    out["receive"] = _timed(receive)
    out["read"] = _timed(lambda: consolidate_store(location, "Q1", 2026, form=form))
    return out


def bare(path: Path, res, repeat: int) -> float:
    rows = [(f["unit"], code, str(v), cell) for f in res.files for code, (v, cell) in f["values"].items()]

    def write(i):
        db = sqlite3.connect(path.with_suffix(f".{i}.sqlite"))
        db.execute("CREATE TABLE v (unit TEXT, code TEXT, value, cell TEXT)")
        db.executemany("INSERT INTO v VALUES (?,?,?,?)", rows)
        db.commit()
        db.close()

    return min(_timed(lambda: write(i)) for i in range(repeat))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="a PostgreSQL server's address (databases are made on it for the run)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each step, the best is shown (default 3)")
    args = ap.parse_args()
    print_load()
    from toolkit import synthetic as S
    from toolkit.city.consolidation import consolidate
    from toolkit.definition import load_form

    form = load_form()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        S.generate(tmp / "in", "Q1", 2026, form.units, form=form)
        res = consolidate(tmp / "in", "Q1", 2026)
        results = {"SQLite": run(lambda i: tmp / f"kho{i}.sqlite", res, form, args.repeat)}
        floor = bare(tmp / "bare.sqlite", res, args.repeat)
        if args.pg:
            import psycopg

            base, names = args.pg.rsplit("/", 1)[0], [f"bench_store_{i}" for i in range(args.repeat)]
            with psycopg.connect(args.pg, autocommit=True) as conn:
                for name in names:
                    conn.execute(f"DROP DATABASE IF EXISTS {name}")
                    conn.execute(f"CREATE DATABASE {name}")
            results["PostgreSQL"] = run(lambda i: f"{base}/{names[i]}", res, form, args.repeat)
            from toolkit.city import backend

            backend._close_pools()  # before the databases are dropped
            with psycopg.connect(args.pg, autocommit=True) as conn:
                for name in names:
                    conn.execute(f"DROP DATABASE {name}")
    print(f"{'backend':<12}{'save 114 (s)':>14}{'receive 342 (s)':>17}{'ms/receive':>12}{'read (s)':>10}")
    for name, r in results.items():
        print(f"{name:<12}{r['save']:>14.3f}{r['receive']:>17.3f}{1000 * r['receive'] / 342:>12.2f}"
              f"{r['read']:>10.3f}")
    print(f"{'bare write':<12}{floor:>14.3f}")
    print(f"save_vs_bare: {results['SQLite']['save'] / floor:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
