"""Deadline day on the city server: every unit presses Kiểm tra, then Nộp, within one minute.

    python benchmarks/bench_server.py [--kho KHO.sqlite | postgresql://…] [--tien-trinh 1 2] [--don-vi 114]
                                      [--giay 60] [--chi-nop] [--phieu PAYLOADS.json]

A real `baocao server chay` (a subprocess on 127.0.0.1) per worker count, on one store whose keys are issued
with `baocao server cap-khoa`. Each unit has its own filled workbook (toolkit.synthetic, built with the remote
buttons) and posts it as xlwings' VBA client does (tests/remote_client.py). Each unit starts at a random moment
of the window (`--giay`; 0: all at once), presses Kiểm tra, and as soon as it is answered, Nộp (`--chi-nop`: only
Nộp, so that with `--giay 0` all 114 Nộp arrive together instead of behind the checks). Each worker count
sends each unit's workbook with a different "người lập" so that every Nộp is a new version.

A request fails when it is not answered 200 with the button's own status (Kiểm tra: "Kiểm tra xong", Nộp: a
receipt). Every receipt is then looked up in the store: the stored version of that number must have the
receipt's content hash and time. Prints a table per backend, worker count and action (the server's CPU
seconds are for both actions together, all its processes), then
`p95: <best configuration's Nộp p95, seconds>` and `lost: <Nộp answered without a receipt, or with a receipt
that matches no stored version>`."""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import remote_client as rc  # noqa: E402
from machine import print_load  # noqa: E402

from toolkit.city import Store  # noqa: E402
from toolkit.definition import load_form  # noqa: E402
from toolkit.excel import build_intake  # noqa: E402
from toolkit.synthetic import unit_data  # noqa: E402
from toolkit.vnformat import city_wall  # noqa: E402

PERIOD, YEAR = "6T", 2026
RECEIPT = re.compile(r"Mã tiếp nhận (\S+); phiên bản (\d+); nhận lúc (\d\d:\d\d:\d\d \d\d/\d\d/\d{4}); "
                     r"(?:đúng hạn|muộn \d+ ngày) \(hạn [\d/]+\)")


def cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "toolkit.cli", *args], **kw)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workbook_payload(job: tuple[str, str, str, Path]) -> tuple[str, dict]:
    """(unit code, the payload its remote Nộp button posts), the unit's workbook filled with synthetic data."""
    code, key, url, folder = job
    form = load_form()
    unit = form.unit_by_code(code)
    path = build_intake(form, folder / f"phieu_{code}.xlsm", unit_data(form, unit, PERIOD, YEAR), server=(url, key))
    return code, rc.payload(path)


def workbooks(units: list[str], keys: dict[str, str], url: str, folder: Path, kept: Path | None) -> dict[str, dict]:
    """Each unit's payload. With `kept` (a JSON file) the payloads built by an earlier run are reused, their
    server address and key cells (the only cells that differ) set to this run's: building 114 workbooks takes
    minutes."""
    old = json.loads(kept.read_text("utf-8")) if kept and kept.exists() else {}
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        old.update({c: {"url": url, "key": keys[c], "payload": p} for c, p in
                    pool.map(workbook_payload, [(c, keys[c], url, folder) for c in units if c not in old])})
    print(f"workbooks built and read as the buttons post them in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    if kept:
        kept.write_text(json.dumps(old, ensure_ascii=False), "utf-8")
    out = {}
    for c in units:
        new = {old[c]["url"]: url, old[c]["key"]: keys[c]}
        p = old[c]["payload"]
        for sheet in p["sheets"]:
            sheet["values"] = [[new.get(v, v) if isinstance(v, str) else v for v in row] for row in sheet["values"]]
        out[c] = p
    return out


def strings(answer: dict) -> list[str]:
    return [v for a in answer.get("actions", []) if a.get("func") == "setValues" for row in a["values"]
            for v in row if isinstance(v, str)]


def post(url: str, body: bytes, key: str) -> tuple[float, dict | None]:
    """One button press: (seconds until the whole answer was read, the answer or None when not a 200)."""
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json", "Authorization": key})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            answer = json.loads(resp.read())
    except (OSError, ValueError):
        answer = None
    return time.perf_counter() - start, answer


def start_server(kho: str, folder: Path, port: int, workers: int) -> tuple[subprocess.Popen, Path]:
    """`baocao server chay`, once each worker has said it started (its log line)."""
    log = folder / f"may_chu_{workers}.log"
    with log.open("w") as fh:
        proc = cli("server", "chay", "--kho", kho, "--thu-muc", str(folder / f"may_chu_{workers}"), "--ky", PERIOD,
                   "--nam", str(YEAR), "--cong", str(port), *(["--tien-trinh", str(workers)] if workers > 1 else []),
                   stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while log.read_text().count("Application startup complete") < workers:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return proc, log


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process `pid` and every process below it (Linux /proc): what the
    server spent, whatever else the machine was running."""
    tick, parent_of, used = os.sysconf("SC_CLK_TCK"), {}, {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rpartition(")")[2].split()
        except (OSError, ValueError):
            continue
        if entry.isdigit():
            parent_of[int(entry)], used[int(entry)] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
    tree, todo = {pid}, [pid]
    while todo:
        above = todo.pop()
        kids = [c for c, p in parent_of.items() if p == above]
        tree.update(kids)
        todo += kids
    return sum(used.get(p, 0.0) for p in tree)


def deadline_day(url: str, bodies: dict[str, bytes], keys: dict[str, str], window: float, seed: int,
                 actions: tuple[str, ...] = ("kiem-tra", "nop")) -> tuple[dict[str, list[float]], dict[str, int], list[tuple[str, tuple[str, int, str] | None]],
                            Counter[str]]:
    """Every unit: Kiểm tra at a random moment of the window, then Nộp (`actions`: only Nộp). (latencies,
    failures, Nộp receipts, what the failed requests were told)."""
    rnd = random.Random(seed)
    offsets = {code: rnd.uniform(0, window) for code in bodies}
    times: dict[str, list[float]] = {"kiem-tra": [], "nop": []}
    failed = {"kiem-tra": 0, "nop": 0}
    receipts: list[tuple[str, tuple[str, int, str] | None]] = []
    said: Counter[str] = Counter()  # the status texts of failed requests
    lock = threading.Lock()
    t0 = time.perf_counter() + 0.5

    def unit(code: str) -> None:
        time.sleep(max(0.0, t0 + offsets[code] - time.perf_counter()))
        for action in actions:
            took, answer = post(f"{url}/xlwings/{action}", bodies[code], keys[code])
            texts = strings(answer) if answer else []
            got = next(((m.group(1), int(m.group(2)), m.group(3)) for t in texts if (m := RECEIPT.fullmatch(t))),
                       None)
            ok = got is not None if action == "nop" else any(t.startswith("Kiểm tra xong") for t in texts)
            with lock:
                times[action].append(took)
                failed[action] += not ok
                if not ok:
                    said[next((t for t in said_status(answer)), "no answer")[:100]] += 1
                if action == "nop":
                    receipts.append((code, got))

    threads = [threading.Thread(target=unit, args=(code,)) for code in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, failed, receipts, said


def said_status(answer: dict | None) -> list[str]:
    """The answer's sentences that are a button's status (they begin with the action's name)."""
    return [t for t in strings(answer or {}) if t.startswith(("Kiểm tra", "Nộp", "Đã nộp", "Chưa nộp"))]


def lost(kho: str, receipts: list[tuple[str, tuple[str, int, str] | None]], form) -> int:
    """Nộp without a receipt, or whose receipt is not a stored version (same number, content hash and time)."""
    missing = 0
    with Store(kho if "://" in kho else Path(kho), form) as db:
        for code, got in receipts:
            if got is None:
                missing += 1
                continue
            receipt, version, at = got
            stored = {s.version: s for s in db.versions(code, PERIOD, YEAR)}.get(version)
            missing += (stored is None
                        or receipt != f"{code}-{PERIOD}{YEAR}-V{version}-{stored.file_hash[:8].upper()}"
                        or city_wall(stored.received_at) != datetime.strptime(at, "%H:%M:%S %d/%m/%Y"))
    return missing


def quantile(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[round(q * 100) - 1] if len(xs) > 1 else xs[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kho", help="the store: a SQLite file (default: a new one in a temporary folder) or a "
                                  "postgresql:// URL, passed to the server as given")
    ap.add_argument("--tien-trinh", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    ap.add_argument("--don-vi", type=int, default=114, help="number of units (the first N of the unit list)")
    ap.add_argument("--giay", type=float, default=60.0, help="window in which units start (0: all at once)")
    ap.add_argument("--chi-nop", action="store_true", help="units press only Nộp, no Kiểm tra first (the hardest "
                    "burst: with --giay 0 every Nộp arrives in the same second)")
    ap.add_argument("--phieu", type=Path, help="a JSON file keeping the built workbooks' payloads between runs")
    args = ap.parse_args()
    print_load()
    form = load_form()
    units = [u.code for u in form.units[:args.don_vi]]
    actions = ("nop",) if args.chi_nop else ("kiem-tra", "nop")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kho = args.kho or str(folder / "kho.sqlite")
        backend = "postgresql" if kho.startswith(("postgresql://", "postgres://")) else "sqlite"
        done = subprocess.run([sys.executable, "-m", "toolkit.cli", "server", "cap-khoa", "--kho", kho,
                               "--don-vi", *units, "--ra", str(folder / "khoa.csv")], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr)
        keys = dict(line.split(",")[0::2] for line in (folder / "khoa.csv").read_text("utf-8").splitlines()[1:])
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        payloads = workbooks(units, keys, url, folder, args.phieu)
        rows, best, lost_total = [], None, 0
        for round_, workers in enumerate(args.tien_trinh):
            bodies = {c: json.dumps(rc.edit(p, {("Thông tin chung", _cell(p, "NGUOI_LAP")):
                                                f"Cán bộ mô phỏng, lượt {round_ + 1}"}),
                                    ensure_ascii=False).encode("utf-8") for c, p in payloads.items()}
            proc, log = start_server(kho, folder, port, workers)
            try:
                idle = cpu_seconds(proc.pid)
                times, failed, receipts, said = deadline_day(url, bodies, keys, args.giay, seed=round_,
                                                              actions=actions)
                cpu = cpu_seconds(proc.pid) - idle
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            if any(failed.values()):  # what the failures were told, and the server's last words, to see why
                print(f"{workers} worker(s): failures told {said.most_common(3)}; server log ends:\n"
                      + "\n".join(log.read_text().splitlines()[-15:]), file=sys.stderr)
            lost_total += lost(kho, receipts, form)
            for action, label in (("kiem-tra", "Kiểm tra"), ("nop", "Nộp"))[-len(actions):]:
                xs = times[action]
                rows.append((backend, workers, label, len(xs), failed[action], quantile(xs, 0.5),
                             quantile(xs, 0.95), max(xs), cpu))
            p95 = rows[-1][6]
            best = p95 if best is None else min(best, p95)
    print(f"{'backend':<11}{'workers':>8}  {'action':<10}{'requests':>9}{'failures':>9}{'p50 s':>8}{'p95 s':>8}"
          f"{'max s':>8}{'server CPU s':>14}")
    for backend, workers, label, n, bad, p50, p95, top, cpu in rows:
        print(f"{backend:<11}{workers:>8}  {label:<10}{n:>9}{bad:>9}{p50:>8.2f}{p95:>8.2f}{top:>8.2f}{cpu:>14.1f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (other work on the machine slows every figure "
          "but the server's CPU)")
    print(f"p95: {best:.2f}")
    print(f"lost: {lost_total}")


def _cell(payload: dict, name: str) -> str:
    """The A1 address of a defined name in the payload (its sheet checked: Thông tin chung)."""
    n = next(n for n in payload["names"] if n["name"] == name)
    assert payload["sheets"][n["sheet_index"]]["name"] == "Thông tin chung", n
    return n["address"]


if __name__ == "__main__":
    main()
