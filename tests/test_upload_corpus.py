"""Hostile and careless uploads (tests/upload_corpus.py) posted to `POST /nop-tep` of `baocao server chay` on
127.0.0.1, one after another, the server's resident memory sampled while each is answered: every one is answered
in Vietnamese within 15 s, naming the user's own file, the server stays up and its peak stays under 600 MB; a
file whose only fault is in a sheet the form does not read is received, and kept without that sheet."""
import re
import time
import urllib.request
import zipfile

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")

import upload_corpus as uc  # noqa: E402
from upload_corpus import Peak, answer, post_form  # noqa: E402
from test_server import NGHI_DUONG, OUTPUT, clean  # noqa: E402

from toolkit.city.store import Store  # noqa: E402
from toolkit.excel.workbook import build  # noqa: E402
from toolkit.intake.datafile import load_data  # noqa: E402

SECONDS, PEAK_MB = 15, 600


SERVER_OPTIONS = ("--so-lan-bam", "1000")


@pytest.fixture(scope="module")
def server(keyed_server, form):
    data = load_data(NGHI_DUONG, form)
    unit = data["thong_tin"]["MA_DVHC"]
    return {**keyed_server, "key": keyed_server["keys"][unit], "unit": unit,
            "base": build(form, keyed_server["root"] / "phieu.xlsx", clean(data))}


def test_hostile_uploads_are_answered_in_vietnamese_within_limits(server):
    rows, failures = [], []
    received = post_form(server["url"], server["key"], server["base"].read_bytes(), "phieu.xlsx")
    assert received[0] == 200 and "mã tiếp nhận" in answer(received[1]), answer(received[1])
    for case, name, data, expected in uc.cases(server["base"]):
        with Peak(server["proc"].pid) as peak:
            began = time.perf_counter()
            status, page = post_form(server["url"], server["key"], data, name)
            seconds = time.perf_counter() - began
        said = answer(page)
        assert said, page[:2000]
        rows.append((case, status, said, seconds, peak.mb))
        with urllib.request.urlopen(server["url"] + "/ping", timeout=5) as r:
            alive = r.status == 200
        got = uc.RECEIVED if "mã tiếp nhận" in said else uc.REFUSED
        why = [w for w, bad in (
            ("server down", not alive or server["proc"].poll() is not None),
            (f"{seconds:.1f} s", seconds > SECONDS), (f"{peak.mb:.0f} MB", peak.mb > PEAK_MB),
            ("English", "Internal Server Error" in page or "Traceback" in page),
            ("server's file name", re.search(r"[0-9a-f]{32}", said) is not None),
            ("the user's file not named", got == uc.REFUSED and name not in said),
            (f"{got}, expected {expected}", got != expected),
        ) if bad]
        if why:
            failures.append(f"{case}: {', '.join(why)}: {said[:300]}")
    table = "\n".join(["case | HTTP | answer | seconds | server peak MB", "--- | --- | --- | --- | ---"]
                      + [f"{c} | {s} | {a[:160]} | {t:.2f} | {m:.0f}" for c, s, a, t, m in rows])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "upload_corpus.md").write_text(table + "\n", encoding="utf-8")
    print("\n" + table)
    assert not failures, "\n".join(failures)
    # One version only (what the form does not read is not kept), kept with the form's sheets only.
    with Store(server["root"] / "kho.sqlite") as db:
        [stored] = db.versions(server["unit"], "6T", 2026)
    kept = server["root"] / "may_chu" / "phieu" / stored.file
    with zipfile.ZipFile(kept) as zf:
        sheets = re.findall(r'<sheet name="([^"]+)"', zf.read("xl/workbook.xml").decode())
        assert sum(i.file_size for i in zf.infolist()) < 2 * 1024 * 1024
    assert "Hướng dẫn" not in sheets and "Số liệu" in sheets and "Kiểm tra" not in sheets
