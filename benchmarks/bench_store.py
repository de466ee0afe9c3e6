"""Benchmark: the city store's writes and reads, on SQLite and (with --pg) on PostgreSQL, against a bare write.

    python benchmarks/bench_store.py                                   # SQLite only
    python benchmarks/bench_store.py --pg postgresql://user@127.0.0.1:5432/postgres   # both backends

114 synthetic unit workbooks of Quý I are read and checked once (not timed); then, per backend, in a new store:
- save: `save_consolidation` of the 114 (one transaction each, as `tong-hop --kho`);
- receive: 114 × 3 `Store.receive` in one process (as the server's Nộp, without the workbook);
- read: `consolidate_store` of the period (the page's and the city workbook's source);
- bare: the same 114 submissions' values written with one sqlite3 executemany into one table, no versions, no
  checks of the same content: the floor a store can approach.
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


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run(location, res, form) -> dict[str, float]:
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


def bare(path: Path, res) -> float:
    rows = [(f["unit"], code, str(v), cell) for f in res.files for code, (v, cell) in f["values"].items()]

    def write():
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE v (unit TEXT, code TEXT, value, cell TEXT)")
        db.executemany("INSERT INTO v VALUES (?,?,?,?)", rows)
        db.commit()
        db.close()

    return _timed(write)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="a PostgreSQL server's address (a database is made on it for the run)")
    args = ap.parse_args()
    from toolkit import synthetic as S
    from toolkit.city.consolidation import consolidate
    from toolkit.definition import load_form

    form = load_form()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        S.generate(tmp / "in", "Q1", 2026, form.units, form=form)
        res = consolidate(tmp / "in", "Q1", 2026)
        results = {"SQLite": run(tmp / "kho.sqlite", res, form)}
        floor = bare(tmp / "bare.sqlite", res)
        if args.pg:
            import psycopg

            base = args.pg.rsplit("/", 1)[0]
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS bench_store")
                conn.execute("CREATE DATABASE bench_store")
            results["PostgreSQL"] = run(f"{base}/bench_store", res, form)
            from toolkit.city import backend

            backend._close_pools()  # before the database is dropped
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute("DROP DATABASE bench_store")
    print(f"{'backend':<12}{'save 114 (s)':>14}{'receive 342 (s)':>17}{'ms/receive':>12}{'read (s)':>10}")
    for name, r in results.items():
        print(f"{name:<12}{r['save']:>14.3f}{r['receive']:>17.3f}{1000 * r['receive'] / 342:>12.2f}"
              f"{r['read']:>10.3f}")
    print(f"{'bare write':<12}{floor:>14.3f}")
    print(f"save_vs_bare: {results['SQLite']['save'] / floor:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
