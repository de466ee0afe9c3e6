"""PDFs from LibreOffice: a warm office kept open (unoserver's converter) when one can run, else a cold
`soffice --convert-to pdf` started for the batch.

A cold start costs LibreOffice's start-up (1.3 to 3 s on a 2-core machine, 6 s under a load of 7) before the
first page; the warm office pays it once per process: ten reports one at a time, 14.7 s cold against 2.7 s warm
on a quiet machine, 62.6 s against 4.3 s on a loaded one (benchmarks/bench_pdf.py). A run converting a batch
gains nothing by starting an office of its own (one cold soffice converts the whole batch after one start-up, as
fast as the warm office: measured there), so `to_pdf` uses a warm office only when one already runs: the
server's, or one another process of this user keeps here.

The warm office is `office_uno.py` run by the Python that has LibreOffice's UNO bridge (Debian: /usr/bin/python3
with python3-uno; another with BAOCAO_UNO_PYTHON) with the installed `unoserver` package on its path (extra
`baocao[pdf]`). Without them, or when the office dies or hangs, conversions go cold and nothing is lost: a PDF
is made or the failure is said in Vietnamese. Each office has its own profile folder (a LibreOffice the user has
open is neither blocked nor touched) and its own process group; it dies with the process that started it,
whatever ends it (office_uno.py).
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import xmlrpc.client
from http.client import HTTPConnection
from pathlib import Path

from toolkit.atomic import atomic_path
from toolkit.errors import BaocaoError, log_failure

SCRIPT = Path(__file__).with_name("office_uno.py")
PREFIX = "baocao-van-phong-"  # an office's folder in the temp dir: its profile, its path to unoserver, its address
START_WAIT = 60.0  # seconds for LibreOffice to start answering (a loaded machine takes long)
RETRY = 60.0  # seconds after a failed start before `ready` tries again


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _no_office() -> BaocaoError:
    return BaocaoError("chưa cài LibreOffice nên không xuất được PDF; cài LibreOffice (lệnh soffice) "
                       "hoặc mở tệp .docx bằng Word rồi Lưu thành PDF")


class OfficeDown(Exception):
    """The warm office cannot convert now (not started, dead, hung, busy beyond the timeout): go cold."""


class _Transport(xmlrpc.client.Transport):
    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        return HTTPConnection(host, timeout=self.timeout)


def uno_python() -> str | None:
    """The Python with LibreOffice's UNO bridge, when it and unoserver are both here (on a POSIX system: the
    office's process groups and its watch on a pipe are POSIX; elsewhere PDFs are made cold)."""
    if os.name != "posix" or importlib.util.find_spec("unoserver") is None or soffice() is None:
        return None
    exe = os.environ.get("BAOCAO_UNO_PYTHON") or "/usr/bin/python3"
    return exe if shutil.which(exe) else None


class Office:
    """One warm LibreOffice: `start()`, `convert()` from any thread, `close()`. A dead office is started again
    by the next `start()`; `convert` never starts one (the caller decides whether starting pays)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.folder: Path | None = None
        self.port = 0
        self.lock = threading.Lock()
        self.failure = ""  # why the last start failed (also in the administrator's log)
        self.failed_at = -RETRY
        self.starting: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> bool:
        """Start the office unless it runs; whether it runs now."""
        with self.lock:
            if self.alive:
                return True
            self._stop()
            python = uno_python()
            if python is None:
                return self._failed("unoserver, LibreOffice or a Python with LibreOffice's uno is missing")
            self.folder = Path(tempfile.mkdtemp(prefix=PREFIX))
            path = self.folder / "py"
            path.mkdir()
            spec = importlib.util.find_spec("unoserver")
            (path / "unoserver").symlink_to(Path(spec.origin).parent)  # unoserver alone, not our site-packages
            env = {**os.environ, "PYTHONPATH": str(path)}
            env.pop("PYTHONHOME", None)
            # kept open: the office removes its folder, log included, when it fails to start
            with (self.folder / "office.log").open("a+b") as log:
                self.proc = subprocess.Popen(
                    [python, str(SCRIPT), "--profile", str(self.folder / "profile"), "--soffice", soffice(),
                     "--wait", str(START_WAIT), "--folder", str(self.folder)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, start_new_session=True)
                line = _read_line(self.proc.stdout, START_WAIT + 5)
                if not line.startswith("READY "):
                    log.seek(0)
                    self._stop()
                    return self._failed(log.read().decode(errors="replace")[-2000:] or "no answer")
            self.port = int(line.split()[1])
            return True

    def _failed(self, why: str) -> bool:
        self.failure, self.failed_at = why, time.monotonic()
        log_failure(RuntimeError(why), "LibreOffice chạy sẵn (toolkit.reports.office) không khởi động được")
        return False

    def ready(self, wait: float) -> bool:
        """Whether the office runs, after starting it in the background (unless it is starting already) and
        waiting for it at most `wait` seconds: a request keeps its time limit, a later one finds it warm."""
        if self.alive:
            return True
        if time.monotonic() - self.failed_at < RETRY:
            return False  # a start failed a moment ago: not again for every press
        with self.lock:
            if self.starting is None or not self.starting.is_alive():
                self.starting = threading.Thread(target=self.start, daemon=True, name="baocao-office")
                self.starting.start()
            starting = self.starting
        starting.join(wait)
        return self.alive

    def convert(self, doc: Path, pdf: Path, timeout: float = 60.0, wait: float | None = None) -> Path:
        """`doc` to `pdf` (written atomically) in the warm office, or OfficeDown. `timeout`: seconds the office
        may take on it before it counts as hung (and is killed); `wait`: seconds to wait for the answer, other
        threads' documents first included."""
        if not self.alive:
            raise OfficeDown("not running")
        return _convert(self.port, doc, pdf, timeout, wait)

    def close(self) -> None:
        with self.lock:
            self._stop()

    def _stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.stdin.close()  # its watch thread kills the office and itself (office_uno.py)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
            except ProcessLookupError:
                pass
            proc.wait()
            proc.stdout.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _read_line(stream, timeout: float) -> str:
    """One line from the office's stdout, waiting at most `timeout` seconds ("" when none comes)."""
    end, buf = time.monotonic() + timeout, b""
    fd = stream.fileno()
    while not buf.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return ""
        chunk = os.read(fd, 1)
        if not chunk:
            return ""
        buf += chunk
    return buf.decode("ascii", "replace").strip()


def _convert(port: int, doc: Path, pdf: Path, timeout: float, wait: float | None = None) -> Path:
    # by default the office may convert another thread's document first: allow for it on the socket
    proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}", allow_none=True,
                                      transport=_Transport(wait or timeout * 2 + 5))
    # the office writes beside the PDF under a temporary's name (atomic_path's pattern: a killed run's is
    # removed by the next), put in place only when whole
    scratch = pdf.with_name(f".~{pdf.stem}.{os.getpid()}.{secrets.token_hex(4)}{pdf.suffix}")
    failure = ""
    try:
        pdf.parent.mkdir(parents=True, exist_ok=True)
        proxy.convert(str(Path(doc).resolve()), None, str(scratch.resolve()), "pdf", timeout)
        with atomic_path(pdf) as tmp:
            os.replace(scratch, tmp)
    except (OSError, xmlrpc.client.Error) as exc:  # refused, reset, timed out, or a Fault from the office
        failure = str(exc) or type(exc).__name__
    finally:
        proxy("close")()
        scratch.unlink(missing_ok=True)
    if failure:
        raise OfficeDown(failure)
    return pdf


def running_office() -> int | None:
    """The port of an office another process of this user keeps warm here (a city server), when it answers."""
    for address in Path(tempfile.gettempdir()).glob(f"{PREFIX}*/address"):
        try:
            if address.stat().st_uid != os.getuid():
                continue
            port = int(address.read_text())
            proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}", transport=_Transport(2))
            if proxy.ping() == "baocao":
                return port
        except (OSError, ValueError, xmlrpc.client.Error):
            continue
    return None


# ---------------------------------------------------------------- the process's office and to_pdf

_shared: Office | None = None
_shared_lock = threading.Lock()


def warm_office() -> Office:
    """This process's office (created, not started, on first use); closed when the process exits."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Office()
            atexit.register(_shared.close)
        return _shared


def pdf_within(doc: Path, seconds: float) -> tuple[Path | None, str]:
    """The PDF beside `doc` for a request with `seconds` left (the server's Tạo báo cáo): from this process's
    warm office, which is started (in the background) or started again when it is not running; cold when the
    office fails on it and time is left for a cold start. (None, why in Vietnamese) when there is no PDF."""
    end = time.monotonic() + seconds
    office = warm_office()
    pdf = doc.with_suffix(".pdf")
    if not office.ready(min(8.0, max(0.0, seconds / 3))):
        if office.starting is not None and office.starting.is_alive():
            return None, "LibreOffice của máy chủ đang khởi động; bấm lại sau ít phút để có thêm bản PDF"
        return None, "máy chủ chưa chạy được LibreOffice để xuất PDF; hãy báo Sở Nội vụ"
    try:
        half = max(1.0, (end - time.monotonic()) / 2)  # the other half for a cold try
        return office.convert(doc, pdf, timeout=half, wait=half + 1), ""
    except OfficeDown:
        left = end - time.monotonic()
        if left >= COLD_MIN:
            try:
                return cold_pdf([doc], doc.parent, timeout=left)[0], ""
            except BaocaoError:
                pass
        return None, "LibreOffice của máy chủ không chuyển được sang PDF lần này; bấm lại sau ít phút"


COLD_MIN = 8.0  # seconds a cold LibreOffice needs, start included, to be worth trying for one report


def cold_pdf(docs: list[Path], out_dir: Path, timeout: float | None = None) -> list[Path]:
    """Convert with a LibreOffice started for these documents only, one process for the whole list."""
    exe = soffice()
    if exe is None:
        raise _no_office()
    if not docs:
        return []
    timeout = timeout or 120 + 20 * len(docs)
    with tempfile.TemporaryDirectory(prefix="baocao-lo-") as profile:
        # a private profile: a LibreOffice the user has open does not block or share state with us
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out_dir), *map(str, docs)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)  # its own group: a timeout kills all of LibreOffice
        try:
            _, err = proc.communicate(timeout=timeout)
        except BaseException as exc:  # over time, Ctrl-C, SIGTERM (the CLI raises it): no LibreOffice left behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            if not isinstance(exc, subprocess.TimeoutExpired):
                raise
            raise BaocaoError(f"LibreOffice không chuyển xong sang PDF trong {timeout:.0f} giây (LibreOffice bị "
                              "treo); hãy thử lại hoặc mở tệp .docx bằng Word rồi Lưu thành PDF") from None
    pdfs = [out_dir / f"{d.stem}.pdf" for d in docs]
    failed = [p.name for p in pdfs if not p.exists()]
    if proc.returncode or failed:
        raise BaocaoError(f"LibreOffice không chuyển được sang PDF: {', '.join(failed) or 'lỗi của LibreOffice'}",
                          detail=err.strip())
    return pdfs


def to_pdf(docs: list[Path], out_dir: Path | None = None, office: Office | None = None,
           timeout: float = 60.0) -> list[Path]:
    """Convert .docx files to PDF beside them (or into `out_dir`): in `office` when it is warm, else in an
    office another process keeps warm here, else cold. A document the warm office fails (it died, hung or
    refused the file) and every one after it are converted cold."""
    if not docs:
        return []
    if soffice() is None:
        raise _no_office()
    out_dir = Path(out_dir or docs[0].parent)
    port = office.port if office is not None and office.alive else running_office()
    done: list[Path] = []
    if port:
        for doc in docs:
            try:
                done.append(_convert(port, doc, out_dir / f"{doc.stem}.pdf", timeout))
            except OfficeDown:
                break
    return done + cold_pdf(docs[len(done):], out_dir)
