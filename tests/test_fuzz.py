"""Seeded fuzzing in the suite: 400 mutated workbooks, none may crash (exit 3), leak a library's exception,
trip a safety net that hides a program error, or take more than 10 s; 300 more posted to the upload page of
`baocao server chay` on 127.0.0.1, none answered 500 or without a Vietnamese sentence, none over 15 s, the
server never down nor over 600 MB."""
import time
import urllib.request
from collections import Counter

import pytest
from fuzz import COMMANDS, failure, mutants, run, upload_failure
from test_bad_input import ENGLISH

MUTANTS, SEED = 400, 2026
UPLOADS, UPLOAD_SEED = 300, 2029


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


def test_fuzzed_uploads_end_in_a_finding_a_receipt_or_a_vietnamese_refusal(form, tmp_path):
    """Mutants of a workbook without errors: those whose faults the form does not read are stored, so the kept
    copy is written from mutated cells too."""
    pytest.importorskip("fastapi")
    pytest.importorskip("python_multipart")
    from conftest import run_cli
    from test_server import NGHI_DUONG, clean
    from conftest import start, stop
    from upload_corpus import Peak, answer, post_form

    from toolkit.excel.workbook import build
    from toolkit.intake.datafile import load_data
    from toolkit.server.keys import read_csv

    done = run_cli("server", "cap-khoa", "--kho", str(tmp_path / "kho.sqlite"), "--ra", str(tmp_path / "khoa.csv"))
    assert done.returncode == 0, done.stderr
    keys = dict(read_csv(tmp_path / "khoa.csv"))
    base = build(form, tmp_path / "phieu_sach.xlsx", clean(load_data(NGHI_DUONG, form)))
    proc, url = start(tmp_path, "--so-lan-bam", "100000")
    statuses, answers, defects, slowest, peak_mb = Counter(), Counter(), [], 0.0, 0.0
    try:
        for mutant in mutants(base, tmp_path / "dot_bien", UPLOADS, UPLOAD_SEED):
            with Peak(proc.pid) as peak:
                began = time.perf_counter()
                status, page = post_form(url, keys["11713"], mutant.path.read_bytes(), "phiếu của xã.xlsx")
                seconds = time.perf_counter() - began
            said = answer(page)
            statuses[status] += 1
            answers["nhận" if "mã tiếp nhận" in said else "lỗi" if "phiếu còn" in said else "từ chối"] += 1
            slowest, peak_mb = max(slowest, seconds), max(peak_mb, peak.mb)
            why = upload_failure(status, said, page, seconds, peak.mb, ENGLISH)
            if proc.poll() is not None:
                why = f"máy chủ dừng (mã {proc.returncode})"
            if why:
                defects.append(f"{mutant.name}: {why}\n{said[:300]}")
            if proc.poll() is not None:
                break
            mutant.path.unlink()
        with urllib.request.urlopen(url + "/ping", timeout=5) as r:
            assert r.status == 200
    finally:
        stop(proc)
    assert not defects, "\n".join(defects)
    assert sum(statuses.values()) == UPLOADS and answers["từ chối"] and answers["lỗi"] and answers["nhận"]
    print(f"fuzz qua trang nộp tệp: {UPLOADS} tệp, HTTP {dict(statuses)}, {dict(answers)}, chậm nhất {slowest:.1f} s, "
          f"máy chủ tối đa {peak_mb:.0f} MB")
