"""Slow clients against `baocao server chay` with its default limits: N connections each sending one header line
every INTERVAL seconds (the request head never completes), while /ping is asked twice a second.

    python benchmarks/bench_slow_clients.py [--n 250] [--interval 20] [--seconds 90]

Prints when /ping first answered, how many of its answers were 200 or 503 and how many slow connections the
server cut; the last line is the share of /ping answered during the attack (`ratio: 1.00` = always)."""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from machine import print_load


def ping(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/ping", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=250)
    ap.add_argument("--interval", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=90.0)
    args = ap.parse_args()
    print_load()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho",
                                 str(Path(tmp) / "kho.sqlite"), "--thu-muc", str(Path(tmp) / "srv"), "--ky", "6T",
                                 "--nam", "2026", "--cong", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while ping(url) != 200:
                time.sleep(0.2)
            slow = []
            for _ in range(args.n):
                c = socket.create_connection(("127.0.0.1", port))
                c.sendall(b"POST /xlwings/nop HTTP/1.1\r\nHost: x\r\n")
                slow.append(c)
            start = time.monotonic()
            next_line, answers, first_ok, cut = start + args.interval, [], None, set()
            while time.monotonic() - start < args.seconds:
                if time.monotonic() >= next_line:
                    next_line += args.interval
                    for i, c in enumerate(slow):
                        try:
                            c.sendall(b"X-Slow: 1\r\n")
                        except OSError:
                            cut.add(i)
                code = ping(url)
                answers.append(code)
                if code == 200 and first_ok is None:
                    first_ok = time.monotonic() - start
                time.sleep(0.5)
            for i, c in enumerate(slow):
                c.settimeout(0.01)
                try:
                    if c.recv(1) == b"":
                        cut.add(i)
                except TimeoutError:
                    pass
                except OSError:
                    cut.add(i)
                c.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ok = answers.count(200)
    print(f"{'slow connections':<18}{'line every s':>13}{'attack s':>10}{'first /ping 200 s':>19}"
          f"{'/ping 200':>11}{'/ping 503':>11}{'cut':>6}")
    print(f"{args.n:<18}{args.interval:>13g}{args.seconds:>10g}"
          f"{'never' if first_ok is None else f'{first_ok:.1f}':>19}{ok:>11}{answers.count(503):>11}{len(cut):>6}")
    print(f"ratio: {ok / len(answers):.2f}")


if __name__ == "__main__":
    main()
