"""Every broken input gives the right finding or a Vietnamese refusal, never a traceback."""
import hashlib
import subprocess
import sys
import time

import pytest

from bad_inputs import build_cases
from toolkit.checker import check_submission
from toolkit.errors import BaocaoError
from toolkit.reader import read_submission


@pytest.fixture(scope="module")
def cases(built, tmp_path_factory):
    return build_cases(built["nghi_duong_6t_2026"][0], tmp_path_factory.mktemp("bad"))


def test_the_folder_holds_at_least_25_broken_inputs(cases):
    assert len(cases) >= 25


CASES = ["not-a-zip", "truncated-zip", "xls", "ods", "csv-renamed", "password", "empty", "lock-file",
         "docx-renamed", "other-form", "other-version", "missing-sheet", "renamed-sheet", "missing-list-sheet",
         "rows-inserted", "merged-inputs", "text-in-number", "vn-numbers-ambiguous", "negative-count",
         "formula-in-input", "ref-error", "div0-error", "dates-as-text", "zip-bomb", "xml-external-entity",
         "million-rows", "vietnamese-file-name", "nfd-text", "unknown-code", "choice-not-in-list",
         "window-outside-period"]


@pytest.mark.parametrize("name", CASES)
def test_broken_input(cases, name):
    path, kind, expected = cases[name]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        sub = read_submission(path)
    except BaocaoError as exc:
        assert kind in ("refuse", "ok-or-refuse"), f"{name} refused: {exc}"
        assert expected in str(exc) and path.name in str(exc)
        return
    finally:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # never modified
    assert kind != "refuse", f"{name} was read, expected a refusal"
    codes = [f.code for f in check_submission(sub)]
    if kind == "finding":
        assert expected in codes, (name, codes)
    else:
        assert sub.get("HS_TIEP_NHAN") == 5892 and sub.unit_name == "Xã Nghi Dương", name


@pytest.mark.parametrize("name", ["zip-bomb", "million-rows", "xml-external-entity", "truncated-zip"])
def test_hostile_files_end_fast_in_bounded_memory_without_traceback(cases, name):
    path = cases[name][0]
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30)); "
              "from toolkit.cli import main; sys.exit(main(['kiem-tra', sys.argv[1]]))")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                            timeout=120)
    elapsed = time.perf_counter() - start
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1, 2), result.stderr
    assert elapsed < 60, f"{name} took {elapsed:.1f}s"
