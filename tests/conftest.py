import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from toolkit.definition.form import load_form
from toolkit.demo import sample_files
from toolkit.excel.workbook import build
from toolkit.intake.datafile import load_data

ROOT = Path(__file__).resolve().parents[1]
# What a city officer writes in sheet «Nội dung» of tong_hop.xlsm: (heading as listed, paragraph)
CITY_PARAGRAPHS = (
    ("Đánh giá chung: kết quả nổi bật", "Các xã, phường, đặc khu triển khai đồng bộ các nhiệm vụ cải cách hành "
                                        "chính; tỷ lệ hồ sơ tiếp nhận trực tuyến tiếp tục tăng."),
    ("Đánh giá chung: tồn tại, hạn chế", "Một số đơn vị còn hồ sơ giải quyết quá hạn."),
    ("Đánh giá chung: nguyên nhân", "Đội ngũ công chức phụ trách chuyển đổi số ở cấp xã còn thiếu."),
    ("Nhiệm vụ trọng tâm kỳ tới", "Đôn đốc các đơn vị giải quyết dứt điểm hồ sơ quá hạn."),
    ("Nhiệm vụ trọng tâm kỳ tới", "Hướng dẫn các đơn vị hoàn thiện hồ sơ “Chính quyền thân thiện” năm 2026."),
    ("Kiến nghị, đề xuất", "Đề nghị Ủy ban nhân dân thành phố bố trí kinh phí nâng cấp hạ tầng số cho cấp xã."),
)


@pytest.fixture(scope="session")
def form():
    return load_form()


def city_book_file(folder: Path, paragraphs=CITY_PARAGRAPHS, accepted=()) -> Path:
    """tong_hop.xlsm as `baocao tao-xlsm` builds it, with the officer's paragraphs and accepted anomalies
    ((unit, code, value, why)) typed in, saved by openpyxl as Excel would (its macros kept)."""
    import openpyxl

    from toolkit.excel.xlsm import build_city

    out = build_city(load_form(), folder / "tong_hop.xlsm")
    wb = openpyxl.load_workbook(out, keep_vba=True)
    for i, row in enumerate(paragraphs):
        for c, v in enumerate(row, start=1):
            wb["Nội dung"].cell(5 + i, c, v)
    for i, row in enumerate(accepted):
        for c, v in enumerate(row, start=1):
            wb["Bất thường đã chấp nhận"].cell(5 + i, c, v)
    wb.save(out)
    return out


@pytest.fixture(scope="session")
def city_book(tmp_path_factory):
    """The city officer's book (paragraphs written, nothing accepted) read as `bao-cao --loai tong-hop` reads it."""
    from toolkit.city import read_city_book

    path = city_book_file(tmp_path_factory.mktemp("tong_hop"))
    return {"path": path, "book": read_city_book(path, load_form())}


@pytest.fixture(scope="session")
def built(tmp_path_factory, form):
    """Each bundled sample written to a workbook: {stem: (path, data)}."""
    folder = tmp_path_factory.mktemp("samples")
    out = {}
    for f in sample_files():
        data = load_data(f, form)
        out[f.stem] = (build(form, folder / f"{f.stem}.xlsx", data), data)
    return out


@pytest.fixture(scope="session")
def blank(tmp_path_factory, form):
    return build(form, tmp_path_factory.mktemp("blank") / "mau.xlsx")


RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def soffice(*sources: Path, target: str, outdir: Path) -> None:
    """Convert with LibreOffice headless, an independent reader of what Excel would open.

    The private profile makes LibreOffice recalculate every formula on load, as Excel does.
    """
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice chưa được cài (apt-get install libreoffice-calc libreoffice-writer)")
    profile = outdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target,
                    "--outdir", str(outdir), *map(str, sources)], check=True, capture_output=True, timeout=300)


def soffice_convert(src: Path, target: str, outdir: Path) -> Path:
    assert src.exists(), src
    soffice(src, target=target, outdir=outdir)
    ext = target.split(":")[0]
    written = sorted(outdir.glob(f"{src.stem}*.{ext}"))  # a single-sheet CSV is named stem-Sheet.csv
    assert written, f"LibreOffice wrote no .{ext} for {src.name}"
    return written[0]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def warm_office_here() -> bool:
    """Whether a warm office can run here: unoserver installed, LibreOffice and its Python bridge (python3-uno;
    .ci/run installs them, so CI always tests it)."""
    from toolkit.reports.office import uno_python

    python = uno_python()
    return python is not None and subprocess.run([python, "-c", "import uno"], capture_output=True).returncode == 0


def office_processes(folder: Path, wait: float = 5.0) -> list[str]:
    """Command lines of the live processes naming `folder` (a LibreOffice whose profile is in it), once they
    are gone or after `wait` seconds: a group killed a moment ago may still be dying."""
    end = time.monotonic() + wait
    while True:
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                dead = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
            except OSError:
                continue
            if str(folder) in cmd and not dead:
                found.append(cmd)
        if not found or time.monotonic() > end:
            return found
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(root, *options: str, store=None) -> tuple[subprocess.Popen, str]:
    """`baocao server chay` with `options` (on root/kho.sqlite unless `store` is given), once /ping answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho",
                             str(store or root / "kho.sqlite"), "--thu-muc", str(root / "may_chu"), "--ky", "6T",
                             "--nam", "2026", "--cong", str(port), *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/ping", timeout=1):
                return proc, url
        except OSError:
            assert proc.poll() is None, "the server stopped"
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def seed_history(store: Path, unit: str, workbook: Path) -> None:
    """Three earlier half-years of `unit` in `store`, the workbook's figures with a tenth of its files
    (HS_TIEP_NHAN 610, 600, 595): today's figure stands out against the unit's own history."""
    from datetime import datetime

    from toolkit.city.store import Store
    from toolkit.intake.reader import read_submission

    now = read_submission(workbook)
    values = {c: (v.value, str(v.loc)) for c, v in {**now.meta, **now.values}.items()}
    with Store(store) as db:
        for year, before in ((2023, 610), (2024, 600), (2025, 595)):
            values["HS_TIEP_NHAN"] = (before, values["HS_TIEP_NHAN"][1])
            db.add(unit, "x", "6 tháng đầu năm", year, values, f"{year}.xlsx", f"lich-su-{year}",
                   datetime(year, 6, 20))


@pytest.fixture(scope="module")
def keyed_server(request, tmp_path_factory):
    """For a module: every unit's key issued by `baocao server cap-khoa`, then `baocao server chay` on that store
    with the module's SERVER_OPTIONS; {"root", "url", "proc", "keys" (unit -> key)}, the server stopped after."""
    from toolkit.server.keys import read_csv

    root = tmp_path_factory.mktemp(request.module.__name__.removeprefix("test_"))
    done = run_cli("server", "cap-khoa", "--kho", str(root / "kho.sqlite"), "--ra", str(root / "khoa.csv"))
    assert done.returncode == 0, done.stderr
    proc, url = start(root, *getattr(request.module, "SERVER_OPTIONS", ()))
    try:
        yield {"root": root, "url": url, "proc": proc, "keys": dict(read_csv(root / "khoa.csv"))}
    finally:
        stop(proc)


@contextmanager
def hurried_server(root: Path, unit: str, per_minute: int = 2, timeout: float = 0.001):
    """The city server in this process, allowed two requests a minute per key and one millisecond per request
    (every check outlasts it, and its key is not even checked in time): yields (its address, the unit's key)."""
    import uvicorn

    from toolkit.server.app import Settings, create_app
    from toolkit.server.keys import Keys

    with Keys(root / "kho.sqlite") as keys:
        key = keys.issue([unit])[unit]
    port = free_port()
    app = create_app(Settings(root / "kho.sqlite", root / "srv", "6T", 2026, per_minute=per_minute, timeout=timeout))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", key
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# PostgreSQL: a real server for the session, started from the system's binaries (never mocked, never skipped:
# .ci/run installs postgresql) ----------------------------------------------------------------------------------
def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)),
                                       None)
    if found is None:
        pytest.fail(f"PostgreSQL chưa được cài (không thấy {name}): apt-get install postgresql")
    return str(found)


@dataclass
class PostgreSQL:
    """A PostgreSQL server of its own (its socket and data in a temporary folder): stop() and start() it at will."""

    home: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://baocao@127.0.0.1:{self.port}"

    def start(self) -> None:
        # fsync off: the server dies with the session; the tests test the store's logic, not the disk
        subprocess.run([*self.as_user, _pg_bin("pg_ctl"), "-D", str(self.home / "data"), "-l", str(self.home / "log"),
                        "-w", "-o", f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=200", "start"], check=True, capture_output=True, timeout=120)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self.as_user, _pg_bin("pg_ctl"), "-D", str(self.home / "data"), "-m", mode, "stop"],
                       capture_output=True, timeout=60)


@contextmanager
def own_postgresql():
    """A new PostgreSQL server from initdb, started; stopped and removed at the end (run as the postgres user
    when the tests run as root, which postgres refuses to be)."""
    import os
    import pwd
    import tempfile

    as_user: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="baocao-pg-"))
    if os.geteuid() == 0:
        user = "postgres" if _has_user("postgres") else "nobody"
        os.chown(home, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        as_user = ["runuser", "-u", user, "--"]
    subprocess.run([*as_user, _pg_bin("initdb"), "-D", str(home / "data"), "-U", "baocao", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, timeout=120)
    pg = PostgreSQL(home, free_port(), as_user)
    pg.start()
    try:
        yield pg
    finally:
        pg.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server of this session on a free port: yields its base address."""
    with own_postgresql() as pg:
        yield pg.url


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_server):
    """A new, empty database on the session's server: its address."""
    import psycopg

    name = f"kho_{next(_databases)}"
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{pg_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request, tmp_path):
    """The city store on each backend: a SQLite file's path, or a new PostgreSQL database's address."""
    return tmp_path / "kho.sqlite" if request.param == "sqlite" else request.getfixturevalue("pg_url")
