"""Seeded fuzzing in the suite: 400 mutated workbooks, none may crash (exit 3), leak a library's exception,
trip a safety net that hides a program error, or take more than 10 s."""
import time
from collections import Counter

from fuzz import COMMANDS, failure, mutants, run
from test_bad_input import ENGLISH

MUTANTS, SEED = 400, 2026


def test_fuzzed_workbooks_end_in_a_finding_or_a_vietnamese_refusal(built, tmp_path):
    base = built["nghi_duong_6t_2026"][0]
    start, codes, defects = time.perf_counter(), Counter(), []
    for i, mutant in enumerate(mutants(base, tmp_path, MUTANTS, SEED)):
        outcome = run(mutant, COMMANDS[i % len(COMMANDS)])
        codes[outcome.exit_code] += 1
        why = failure(outcome, ENGLISH)
        if why:
            defects.append(f"{mutant.name}: {why}\n{outcome.output[-400:]}")
        mutant.path.unlink()
    assert sum(codes.values()) == MUTANTS >= 300
    assert not defects, "\n".join(defects)
    assert codes[1] and codes[2]  # the mutants reach both the checker and the refusals
    print(f"fuzz: {MUTANTS} mutants in {time.perf_counter() - start:.1f} s, exit codes {dict(codes)}")
