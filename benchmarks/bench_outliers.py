"""Benchmark: how many planted anomalies the bất thường checks find, and how many plausible units they flag.

    python benchmarks/bench_outliers.py                 # the national set: 3,321 units
    python benchmarks/bench_outliers.py --n 600 --planted 40

Every unit of the 34 provinces gets the demo's synthetic figures (toolkit.synthetic: each unit its own
size and levels, steady across periods) for "6 tháng đầu năm" 2023, 2024 and 2025 (its history, three
earlier periods) and 2026 (the period checked). Then `--planted` units, drawn at random, get one
anomaly each, in equal shares of four kinds:

    gấp 10          one figure of rules.yaml's plausibility list typed with a 0 too many
    chia 10         one such figure with a digit missing
    tổ hợp vô lý    figures every sum accepts but the form's logic does not (cut 80% of the posts,
                    revenue 8 times its plan, disbursement 2.5 times its plan)
    quý vào 6 tháng one flow of the half-year (40 or more: below, a quarter and a half-year can be
                    alike) replaced by its Quý II figure

The detectors are the toolkit's own, fed with values (no workbook is written: the figures are what
they read): the plausibility rules of rules.yaml (`evaluate`), the unit's history
(`toolkit.city.anomalies.history`) and its peers of the same kind nationally (`peers`).
A planted anomaly is found when an anomaly names its unit and the figure planted (a rule: one of
the figures it reads). A plausible unit is a false positive when anything at all is said about it.
Prints a table per kind, then `recall:` (goal >= 0.95) and `false_positive_rate:` (goal <= 0.01).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import print_load  # noqa: E402

from toolkit import synthetic as S
from toolkit.city.anomalies import history, peers
from toolkit.city.consolidation import UnitRow
from toolkit.city.store import Stored
from toolkit.definition import Ref, evaluate, load_form, load_rules

YEARS = (2023, 2024, 2025)
NOW = 2026
KINDS = ("gấp 10", "chia 10", "tổ hợp vô lý", "quý vào 6 tháng")


def _stored(unit, year: int, values: dict) -> Stored:
    return Stored(0, unit.code, unit.name, "6 tháng đầu năm", year, 1, "", "", datetime(year, 6, 20), 0, 0, [],
                  {k: (v, "Số liệu!E7") for k, v in values.items()})


def _plant(kind: str, values: dict, unit, form, rnd: random.Random, watched: list[str], flows: list[str]) -> set[str]:
    """Plant one anomaly of `kind` in `values`; the codes whose mention counts as finding it."""
    if kind in ("gấp 10", "chia 10"):
        code = rnd.choice([c for c in watched if isinstance(values.get(c), (int, float)) and values[c] >= 20])
        values[code] = values[code] * 10 if kind == "gấp 10" else values[code] / 10
        return {code}
    if kind == "tổ hợp vô lý":
        which = rnd.choice(("tinh-gian", "thu", "giai-ngan"))
        if which == "tinh-gian":
            values["CV_TINH_GIAN"] = int(0.8 * (values["CC_BIEN_CHE"] + values["VC_BIEN_CHE"]))
            return {"CV_TINH_GIAN"}
        if which == "thu":
            values["NS_THU_TH"] = round(8 * values["NS_THU_KH"], 1)
            return {"NS_THU_TH"}
        values["DTC_GN_TH"] = round(2.5 * values["DTC_GN_KH"], 1)
        return {"DTC_GN_TH"}
    code = rnd.choice([c for c in flows if isinstance(values.get(c), (int, float)) and values[c] >= 40])
    values[code] = S.unit_values(form, unit.code, "Q2", NOW)[code]
    return {code}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3321, help="units (the national set has 3,321)")
    ap.add_argument("--planted", type=int, default=200, help="units given one anomaly each")
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args()
    print_load()
    t0 = time.perf_counter()
    form = load_form().national()
    units = list(form.units[:args.n])
    s = form.plausibility
    watched = list(s["indicators"])
    flows = [c for c in watched if form.indicator(c).periods == "sum"]
    rules = [r for r in load_rules(form) if r.plausibility]
    now = {u.code: S.unit_values(form, u.code, "6T", NOW) for u in units}
    past = {u.code: [_stored(u, y, S.unit_values(form, u.code, "6T", y)) for y in YEARS] for u in units}
    t_data = time.perf_counter() - t0

    rnd = random.Random(args.seed)
    chosen = rnd.sample(units, args.planted)
    planted: dict[str, tuple[str, set[str]]] = {}
    for i, unit in enumerate(chosen):
        kind = KINDS[i % len(KINDS)]
        planted[unit.code] = (kind, _plant(kind, now[unit.code], unit, form, rnd, watched, flows))

    t1 = time.perf_counter()
    said: dict[str, set[str]] = {u.code: set() for u in units}
    for unit in units:
        values = now[unit.code]
        for rule in rules:
            lookup = values.get  # the rules read indicator codes only
            if evaluate(rule, lambda node, get=lookup: get(node.code) if isinstance(node, Ref) else None
                        ).verdict == "fail":
                said[unit.code] |= {leaf.code for leaf in rule.leaves if isinstance(leaf, Ref)}
        cells = {k: (v, "Số liệu!E7") for k, v in values.items()}
        for a in history(form, unit.code, unit.name, "6T", NOW, cells, past[unit.code]):
            said[unit.code].add(a.code)
    rows = [UnitRow(u, values={k: (v, "Số liệu!E7") for k, v in now[u.code].items()}) for u in units]
    for a in peers(form, rows):
        said[a.unit].add(a.code)
    t_detect = time.perf_counter() - t1

    print(f"{len(units)} đơn vị, mỗi đơn vị 3 kỳ trước ({', '.join(f'6T {y}' for y in YEARS)}) và 6T {NOW}; "
          f"{len(planted)} bất thường gài vào; dữ liệu {t_data:.1f} s, phát hiện {t_detect:.1f} s")
    print()
    print("| loại | gài | phát hiện | tỷ lệ |")
    print("|---|---:|---:|---:|")
    found_total = 0
    for kind in KINDS:
        mine = [(code, codes) for code, (k, codes) in planted.items() if k == kind]
        found = sum(bool(said[code] & codes) for code, codes in mine)
        found_total += found
        print(f"| {kind} | {len(mine)} | {found} | {found / len(mine):.3f} |" if mine else f"| {kind} | 0 | 0 | - |")
    plausible = [u.code for u in units if u.code not in planted]
    flagged = [c for c in plausible if said[c]]
    print(f"| đơn vị hợp lý bị nêu | {len(plausible)} | {len(flagged)} | {len(flagged) / len(plausible):.4f} |")
    print()
    print(f"recall: {found_total / len(planted):.3f}")
    print(f"false_positive_rate: {len(flagged) / len(plausible):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
