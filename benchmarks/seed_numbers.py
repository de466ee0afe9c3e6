"""Share of each seed report's numbers that the generated report states (`python benchmarks/seed_numbers.py`).

Method. A seed is a real report typed into a sample data file (toolkit/samples/); the
toolkit writes that report back from the sample's workbook. Every number of the seed's
text from its "BÁO CÁO" line on (counts, percentages, dates, document numbers, list
numbers) is a token; a token is found when the generated report's text (paragraphs and
table cells, without a draft's appendix of findings) holds it as often as the seed does
(multiset). Tokens are compared after dropping leading zeros in each part and reading
"." and "," alike ("05" = "5", "14/6/2026" = "14/06/2026", the seed's "92.48%" = "92,48%") and a "."
before three digits as thousands ("5892" = "5.892").
The other way round, a figure of the generated report that the seed does not state (as often) is "beyond the
seed": a count of 10 or more, or a number with a decimal part (a percentage); dates, document numbers and small
counts are left out, their repeats being the outline's. Prints one row per seed, a line `beyond: <total>` and a
last line `ratio: <lowest share>`.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from machine import print_load  # noqa: E402
from test_reports import document_text  # noqa: E402

from toolkit.definition.form import load_form  # noqa: E402
from toolkit.excel.workbook import build  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402
from toolkit.intake.reader import read_submission  # noqa: E402
from toolkit.reports.render import render_report  # noqa: E402

SEEDS = Path("/work/shared/seeds")
CASES = (("000", "nghi_duong_6t_2026", "cchc-cds"), ("001", "nguyen_luong_bang_q1_2026", "cchc-quy"),
         ("002", "nghi_duong_6t_2026", "so-ket-2-cap"), ("004", "nghi_duong_6t_2026", "chinh-quyen-than-thien"))
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
APPENDIX = "PHỤ LỤC: LỖI, CẢNH BÁO CỦA PHIẾU SỐ LIỆU"


def tokens(text: str) -> Counter:
    def norm(m: str) -> str:
        m = re.sub(r"\.(?=\d{3}(?!\d))", "", m)  # thousands: "5.892" = "5892"
        return "|".join(re.sub(r"^0+(?=\d)", "", part) for part in re.split(r"[.,/]", m))
    return Counter(norm(m) for m in _NUMBER.findall(text))


def seed_body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[text.index("BÁO CÁO"):]


def compare(seeds: Path = SEEDS) -> list[tuple]:
    """(seed, report type, seed's numbers, found, share %, missing, beyond) per seed."""
    form = load_form()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed, sample, loai in CASES:
            seed_file = next(seeds.glob(f"{seed}_*.txt"))
            workbook = build(form, Path(tmp) / f"{sample}.xlsx",
                             load_data(ROOT / "toolkit" / "samples" / f"{sample}.yaml", form))
            doc = render_report(read_submission(workbook, form), loai, Path(tmp) / f"{seed}.docx", draft=True)[0]
            want, have = tokens(seed_body(seed_file)), tokens(document_text(doc).split(APPENDIX)[0])
            found = sum(min(n, have[t]) for t, n in want.items())
            missing = sorted((want - have).elements())
            beyond = sorted(t for t in (have - want).elements() if figure(t))
            rows.append((seed, loai, sum(want.values()), found, 100 * found / sum(want.values()), missing, beyond))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, default=SEEDS, help=f"the folder of seed reports (default {SEEDS})")
    seeds = ap.parse_args().seeds
    if not seeds.is_dir():
        print(f"no seed reports in {seeds}: give their folder with --seeds", file=sys.stderr)
        return 2
    print_load()
    rows = compare(seeds)
    print(f"{'seed':<6}{'loại báo cáo':<26}{'số trong seed':>14}{'tìm thấy':>10}{'tỷ lệ':>9}  thiếu  |  thừa")
    for seed, loai, total, found, share, missing, beyond in rows:
        print(f"{seed:<6}{loai:<26}{total:>14}{found:>10}{share:>8.1f}%  {' '.join(missing)}  |  {' '.join(beyond)}")
    print(f"beyond: {sum(len(r[6]) for r in rows)}")
    print(f"ratio: {min(r[4] for r in rows) / 100:.3f}")
    return 0


def figure(token: str) -> bool:
    """A count of 10 or more, or a number with one decimal part ("99|10" is 99,10): see the module's doc."""
    parts = token.split("|")
    return (len(parts) == 1 and int(parts[0]) >= 10 and not 1900 < int(parts[0]) < 2100) or len(parts) == 2


if __name__ == "__main__":
    sys.exit(main())
