"""Every broken input gives the right finding or a Vietnamese refusal, never a traceback."""
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bad_inputs import build_cases, build_folder_cases
from conftest import run_cli

from toolkit.check.checker import check_submission
from toolkit.errors import BaocaoError
from toolkit.intake.reader import read_submission


@pytest.fixture(scope="module")
def cases(built, tmp_path_factory):
    return build_cases(built["nghi_duong_6t_2026"][0], tmp_path_factory.mktemp("bad"))


def test_the_folder_holds_at_least_45_broken_inputs(cases):
    assert len(cases) >= 45 and set(cases) == set(CASES)


CASES = ["not-a-zip", "truncated-zip", "xls", "ods", "csv-renamed", "password", "empty", "lock-file",
         "docx-renamed", "other-form", "other-version", "missing-sheet", "renamed-sheet", "missing-list-sheet",
         "rows-inserted", "merged-inputs", "text-in-number", "vn-numbers-ambiguous", "negative-count",
         "formula-in-input", "ref-error", "div0-error", "dates-as-text", "zip-bomb", "xml-external-entity",
         "million-rows", "vietnamese-file-name", "nfd-text", "unknown-code", "choice-not-in-list",
         "window-outside-period", "count-2-pow-63", "number-1e27", "number-1e300-in-percent", "infinity", "nan",
         "time-in-number", "duration-in-number", "bool-in-number", "date-in-number", "iso-date-cell-in-number",
         "time-in-date", "year-9999", "error-in-date", "control-characters", "deleted-indicator-row", "bad-boolean-cell",
         "bad-shared-string",
         "dtd-in-sheet", "broken-sheet-xml", "missing-sheet-part", "missing-workbook-rels",
         "far-cell-xfd-so-lieu", "far-cell-cv-danh-muc", "far-cell-ad-noi-dung", "cell-beside-the-form",
         "far-cell-second-r", "far-cell-prefixed-sheetdata", "dimension-claims-whole-sheet", "comment-40mb-after-sheetdata", "comment-40mb-in-sheetdata",
         "sheet-200mb-unpacked", "shared-strings-16-9m",
         "control-char-in-noi-dung", "control-char-in-signer", "shadow-sheet-trailing-space", "shadow-sheet-nfd",
         "zero-point-in-money", "zero-point-in-count"]


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


@pytest.mark.parametrize("name", ["zip-bomb", "million-rows", "xml-external-entity", "truncated-zip",
                                  "far-cell-xfd-so-lieu", "far-cell-cv-danh-muc", "far-cell-ad-noi-dung",
                                  "far-cell-second-r", "far-cell-prefixed-sheetdata", "sheet-200mb-unpacked", "shared-strings-16-9m"])
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


def _exception_names() -> set[str]:
    """Every exception class name a library could leak: builtins, calamine, defusedxml, decimal, zip, SQLite."""
    import builtins
    import decimal
    import sqlite3
    import zipfile

    import defusedxml.common
    import python_calamine

    names = set()
    for module in (builtins, python_calamine, defusedxml.common, decimal, zipfile, sqlite3):
        names |= {n for n in dir(module) if n[0].isupper() and isinstance(getattr(module, n), type)
                  and issubclass(getattr(module, n), BaseException)}
    return names | {"Traceback", "usage:", "error:"}


ENGLISH = _exception_names()


@pytest.mark.parametrize("command", [["kiem-tra"], ["kiem-tra", "--json"], ["doc"]])
def test_no_output_of_the_corpus_names_an_english_exception(cases, capsys, command):
    from toolkit.cli import main

    for name, (path, _, _) in cases.items():
        code = main([*command, str(path)])
        out = capsys.readouterr()
        text = out.out + out.err
        assert code in (0, 1, 2), (name, text)
        leaked = sorted(n for n in ENGLISH if n in text)
        assert not leaked, (name, leaked, text[-500:])


@pytest.fixture(scope="module")
def folders(built, tmp_path_factory):
    return build_folder_cases(built["nghi_duong_6t_2026"][0], tmp_path_factory.mktemp("folders"))


FOLDERS = ["empty-folder", "wrong-period-hint", "unknown-unit-code", "other-period-left-out", "period-inferred",
           "killed-run-leftover", "store-huge-number", "far-cell-left-out"]


@pytest.mark.parametrize("name", FOLDERS)
def test_tong_hop_tells_the_truth(folders, name):
    argv, code, expected = folders[name]
    result = run_cli(*argv)
    text = result.stdout + result.stderr
    assert result.returncode == code, (name, text)
    assert expected in text, (name, text)
    assert not any(n in text for n in ENGLISH), text
    out = Path(argv[argv.index("--out") + 1])
    assert out.exists() == (code != 2)  # nothing usable: no 0/114 workbook
    assert not list(out.parent.glob(".~*"))  # a killed run's temporary is gone, ours too


def test_the_corpus_holds_at_least_45_cases_with_the_folders(cases, folders):
    assert len(cases) + len(folders) >= 45 and set(folders) == set(FOLDERS)


def test_technical_detail_only_with_chi_tiet(cases):
    path = cases["bad-shared-string"][0]
    plain, detailed = run_cli("kiem-tra", str(path)), run_cli("kiem-tra", str(path), "--chi-tiet")
    assert plain.returncode == detailed.returncode == 2
    assert "tệp hỏng" in plain.stderr and "CalamineError" not in plain.stderr + plain.stdout
    assert "Chi tiết kỹ thuật: CalamineError: Cell string index not found" in detailed.stderr


def test_a_huge_number_is_a_finding_of_the_report_and_its_draft(cases, tmp_path):
    args = ("bao-cao", str(cases["number-1e27"][0]), "--loai", "cchc-6-thang-nam",
            "--out", str(tmp_path / "bao_cao.docx"))
    refused = run_cli(*args)
    assert refused.returncode == 1 and "lớn bất thường" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "bao_cao.docx").exists()
    result = run_cli(*args, "--du-thao")
    assert result.returncode == 0 and (tmp_path / "bao_cao.docx").exists(), result.stderr
