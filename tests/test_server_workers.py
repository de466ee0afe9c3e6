"""`baocao server chay --tien-trinh N`: N worker processes behind one port, real processes and sockets.

Which worker answered a connection is read from the operating system (the process holding the server's end of
the socket, /proc), so the server need not say anything about itself."""
import os
import signal
import socket
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import remote_client as rc  # noqa: E402
from conftest import start  # noqa: E402
from test_server_attacks import cut_by_server, ping  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads sockets' owners from Linux /proc")


def children(pid: int) -> set[int]:
    """Every process below `pid` (the workers and multiprocessing's helper)."""
    parent_of = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent_of[int(entry)] = int(fh.read().rpartition(")")[2].split()[1])
        except (ValueError, OSError):
            continue
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parent_of.items() if pp == p}
        found |= kids
        todo += kids
    return found


def owner(conn: socket.socket, server_port: int, pids: set[int]) -> int | None:
    """The process holding the server's end of `conn`: its inode in /proc/net/tcp, then whose fd it is."""
    mine = conn.getsockname()[1]
    inode = None
    with open("/proc/net/tcp") as fh:
        for line in fh.readlines()[1:]:
            f = line.split()
            if int(f[1].split(":")[1], 16) == server_port and int(f[2].split(":")[1], 16) == mine:
                inode = f[9]
    for pid in pids:
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in os.listdir(f"/proc/{pid}/fd")):
                return pid
        except OSError:
            continue
    return None


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def answered_by(url: str, pids: set[int], n: int = 24) -> dict[int | None, int]:
    """Open `n` keep-alive connections at once, ask /ping on each: worker pid -> connections it answered."""
    port = int(url.rsplit(":", 1)[1])
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    try:
        for c in conns:
            c.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        count: dict[int | None, int] = {}
        for c in conns:
            c.settimeout(10)
            assert c.recv(1024).startswith(b"HTTP/1.1 200")
            who = owner(c, port, pids)
            count[who] = count.get(who, 0) + 1
        return count
    finally:
        for c in conns:
            c.close()


def both_answer(proc, url: str) -> dict[int | None, int]:
    """Connections until both workers have answered (the second may still be starting when the first does)."""
    deadline = time.monotonic() + 60
    while True:
        workers = {p for p in children(proc.pid) if os.path.exists(f"/proc/{p}/fd")}
        count = answered_by(url, workers)
        if len([p for p in count if p is not None]) >= 2 or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def stops_with_everything_below(proc, how: int) -> None:
    """`how` sent to the server: it ends (exit code 0, or killed) and so does every process below it."""
    below = children(proc.pid)
    assert below
    proc.send_signal(how)
    assert proc.wait(timeout=30) == (-signal.SIGKILL if how == signal.SIGKILL else 0)
    deadline = time.monotonic() + 30
    while [p for p in below if alive(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in below if alive(p)], "worker processes left running"


def test_two_workers_answer_keep_the_front_door_and_stop_on_sigterm(tmp_path, form):
    """With --tien-trinh 2: connections are answered by two worker processes; a client that never finishes its
    request head is cut after --cho-tieu-de; 30 connections from 127.0.0.2 against --so-ket-noi-moi-may 5 keep
    at most 5 per worker open; a unit's Kiểm tra is answered with its status (the workers' app has the
    server's settings); SIGTERM stops the server and every process below it, exit code 0."""
    from conftest import run_cli
    from test_server import NGHI_DUONG, clean

    from toolkit.excel.xlsm import build_intake
    from toolkit.intake.datafile import load_data
    from toolkit.server.keys import read_csv

    done = run_cli("server", "cap-khoa", "--kho", str(tmp_path / "kho.sqlite"), "--ra", str(tmp_path / "khoa.csv"))
    assert done.returncode == 0, done.stderr
    keys = dict(read_csv(tmp_path / "khoa.csv"))
    proc, url = start(tmp_path, "--tien-trinh", "2", "--cho-tieu-de", "1", "--so-ket-noi-moi-may", "5")
    port = int(url.rsplit(":", 1)[1])
    conns = []
    try:
        count = both_answer(proc, url)
        assert None not in count and len(count) == 2, count

        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST /xlwings/nop HTTP/1.1\r\nHost: x\r\n")
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n")  # a head never finished: held until cut
            conns.append(s)
        time.sleep(0.5)
        held = [not cut_by_server(s) for s in conns].count(True)
        assert 5 <= held <= 10, held
        time.sleep(1.5)
        assert cut_by_server(slow)
        assert ping(url) == 200

        data = load_data(NGHI_DUONG, form)
        unit = data["thong_tin"]["MA_DVHC"]
        book = build_intake(form, tmp_path / "phieu.xlsm", clean(data), server=(url, keys[unit]))
        code, out = rc.post(f"{url}/xlwings/kiem-tra", rc.payload(book), keys[unit])
        assert code == 200, out
        texts = [v for a in out["actions"] if a["func"] == "setValues" for row in a["values"] for v in row
                 if isinstance(v, str)]
        assert any(t.startswith("Kiểm tra xong lúc") for t in texts), texts
        for s in conns:
            s.close()
        stops_with_everything_below(proc, signal.SIGTERM)
    finally:
        for s in conns:
            s.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_two_workers_stop_with_the_server(tmp_path, how):
    """SIGINT (Ctrl+C) stops the server and its workers, exit code 0; killed outright (SIGKILL), its workers
    stop too (else they would keep the port and the service could not start again)."""
    proc, url = start(tmp_path, "--tien-trinh", "2")
    try:
        assert len(both_answer(proc, url)) == 2
        stops_with_everything_below(proc, how)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
