"""PDFs from the warm office with the real LibreOffice: what it converts, how it fails over to a cold soffice
when killed or hung, and that no LibreOffice outlives whoever started it (exit, SIGTERM, SIGKILL). The
server's Tạo báo cáo with its PDF link is in test_server.py."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import office_processes, run_cli, warm_office_here

from toolkit.errors import BaocaoError
from toolkit.reports.office import Office, to_pdf
from toolkit.reports.render import render_path

pytestmark = pytest.mark.skipif(not warm_office_here() or shutil.which("pdftotext") is None,
                                reason="cần LibreOffice, python3-uno, unoserver và poppler-utils")


def text(pdf: Path) -> str:
    assert pdf.read_bytes()[:5] == b"%PDF-", pdf
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def docs(built, tmp_path_factory) -> list[Path]:
    """Four copies of Nghi Dương's report (a draft: the sample keeps the seed's mistakes)."""
    folder = tmp_path_factory.mktemp("docx")
    [doc] = render_path(built["nghi_duong_6t_2026"][0], "cchc-cds", folder / "r0.docx", draft=True)
    return [doc] + [Path(shutil.copy(doc, folder / f"r{i}.docx")) for i in range(1, 4)]


@contextmanager
def started(folder: Path):
    """An office whose folder is in `folder` (so only its own processes are looked for); none left after."""
    kept, tempfile.tempdir = tempfile.tempdir, str(folder)
    office = Office()
    try:
        ok = office.start()
    finally:
        tempfile.tempdir = kept
    try:
        assert ok, office.failure
        yield office
    finally:
        office.close()
    assert office_processes(folder) == [] and not list(folder.glob("baocao-van-phong-*"))


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """One office for the tests that leave it running."""
    with started(tmp_path_factory.mktemp("office")) as office:
        yield office


@pytest.fixture
def doomed(tmp_path):
    """An office of its own for a test that kills or stops it."""
    with started(tmp_path) as office:
        yield office


def soffice_bin(office: Office) -> int:
    """The pid of the office's LibreOffice (its command line names the office's profile)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_text(errors="ignore")
        except OSError:
            continue
        if "soffice.bin" in cmd and str(office.folder) in cmd:
            return int(proc.name)
    raise AssertionError("no LibreOffice process")


def test_warm_pdfs_hold_the_reports_text_and_threads_share_the_office(office, docs, tmp_path):
    out = tmp_path / "pdf"
    results: dict[int, list[Path]] = {}
    threads = [threading.Thread(target=lambda i=i: results.update({i: to_pdf([docs[i]], out, office=office)}))
               for i in range(4)]  # the server's threads press Tạo báo cáo together
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(p.name for r in results.values() for p in r) == [f"r{i}.pdf" for i in range(4)]
    words = text(out / "r0.pdf")
    assert "XÃ NGHI DƯƠNG" in words and "BÁO CÁO" in words and "DỰ THẢO" in words, words[:400]
    log = (office.folder / "office.log").read_text()
    assert all(f"converted {d}" in log for d in docs[:4]), log  # converted warm, not by a cold fallback
    assert office.alive


def test_the_cli_converts_in_an_office_running_here(office, built, tmp_path):
    out = tmp_path / "cli" / "bao_cao.docx"
    done = run_cli("bao-cao", str(built["nghi_duong_6t_2026"][0]), "--loai", "cchc-cds", "--du-thao", "--pdf",
                   "--out", str(out), env={**os.environ, "TMPDIR": str(office.folder.parent)})
    assert done.returncode == 0, done.stderr
    assert "XÃ NGHI DƯƠNG" in text(out.with_suffix(".pdf"))
    assert f"converted {out}" in (office.folder / "office.log").read_text()


def test_an_office_killed_mid_run_falls_back_to_cold_and_starts_again(doomed, docs, tmp_path):
    office = doomed
    out = tmp_path / "pdf"
    done: list[Path] = []
    run = threading.Thread(target=lambda: done.extend(to_pdf(docs, out, office=office)))
    run.start()
    while not (out / "r0.pdf").exists():
        time.sleep(0.02)
    os.kill(soffice_bin(office), signal.SIGKILL)
    run.join(120)
    assert [p.name for p in done] == [f"r{i}.pdf" for i in range(4)]
    assert all("XÃ NGHI DƯƠNG" in text(p) for p in done)
    assert not office.alive and office_processes(tmp_path) == []  # the office's process ended with LibreOffice
    assert office.ready(60)  # started again
    assert "XÃ NGHI DƯƠNG" in text(to_pdf([docs[0]], tmp_path / "again", office=office)[0])


def test_a_hung_conversion_is_cut_and_converted_cold(doomed, docs, tmp_path):
    office = doomed
    os.kill(soffice_bin(office), signal.SIGSTOP)  # LibreOffice stops answering mid-way, as a hung office does
    began = time.monotonic()
    [pdf] = to_pdf([docs[0]], tmp_path / "pdf", office=office, timeout=2)
    assert "XÃ NGHI DƯƠNG" in text(pdf)
    assert time.monotonic() - began < 60 and not office.alive
    assert office_processes(tmp_path) == []  # the stopped LibreOffice killed, not left behind


def test_no_office_outlives_the_process_that_started_it(tmp_path):
    """Killed without a chance to clean up; a SIGTERM to the server: test_server.py's `city` fixture."""
    code = ("import sys, time\nfrom toolkit.reports.office import warm_office\n"
            "office = warm_office()\nassert office.start(), office.failure\nprint(office.folder, flush=True)\n"
            "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    folder = Path(proc.stdout.readline().strip())
    assert folder.parent == tmp_path and office_processes(tmp_path, wait=0)  # LibreOffice runs
    proc.kill()
    proc.wait(30)
    assert office_processes(tmp_path) == []
    assert not folder.exists()  # its profile removed too


def test_a_cli_run_stopped_by_sigterm_leaves_no_libreoffice(built, tmp_path):
    """No office runs here: `--pdf` converts in a LibreOffice of its own, killed with the run."""
    temp = tmp_path / "tmp"  # where the LibreOffice's profile goes, so its command line names it
    temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "bao-cao", str(built["nghi_duong_6t_2026"][0]),
                             "--loai", "cchc-cds", "--du-thao", "--pdf", "--out", str(tmp_path / "r.docx")],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temp)})
    end = time.monotonic() + 60
    while not office_processes(temp, wait=0) and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.05)
    assert proc.poll() is None, "LibreOffice was not seen running"
    proc.terminate()
    assert proc.wait(30) == 130 and "Đã dừng theo yêu cầu." in proc.stderr.read()
    assert office_processes(temp) == [] and not (tmp_path / "r.pdf").exists()


def test_without_libreoffice_the_failure_is_vietnamese(docs, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice to be found
    with pytest.raises(BaocaoError, match="chưa cài LibreOffice nên không xuất được PDF"):
        to_pdf([docs[0]], tmp_path)
