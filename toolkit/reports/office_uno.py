"""The warm office's own process: one LibreOffice kept open and an XML-RPC `convert` on 127.0.0.1.

Run by the Python that has LibreOffice's UNO bridge (Debian's /usr/bin/python3 with python3-uno), never by the
toolkit's Python, so it imports only the standard library, `uno` and unoserver's converter (found through
PYTHONPATH); toolkit.reports.office starts it and is its only client. Compared with `python -m unoserver.server`
it waits for the office by polling its socket instead of sleeping 7 s, takes a timeout per conversion, and dies
with its parent:

- stdin is a pipe whose other end only the parent holds; when the parent goes (exit, SIGTERM, SIGKILL) the read
  returns, LibreOffice's processes (this process's group) are killed and the office's folder removed, so no
  soffice and no profile outlive it;
- LibreOffice exiting on its own (killed, crashed) ends this process too, and the parent sees it dead;
- a conversion over its timeout means a hung office: the group is killed (the parent converts cold and
  starts a new office).

Protocol: one line on stdout once ready, "READY <port>" (the port also in <folder>/address); XML-RPC
`convert(inpath, indata, outpath, convert_to, timeout)`, the first four as unoserver's; `ping()` is "baocao".
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.server

FOLDER = None  # the office's folder (the profile's parent), removed when it ends


def _others() -> list:
    """The live processes of this group but this one: LibreOffice's (the parent made the group for us)."""
    found = []
    for stat in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{stat}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == os.getpgid(0) and int(stat) != os.getpid() and fields[0] not in "ZX":
            found.append(int(stat))
    return found


def _die(code: int) -> None:
    """Kill LibreOffice, remove the office's folder, exit."""
    try:
        end = time.monotonic() + 5
        while time.monotonic() < end:
            pids = _others()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)
        if FOLDER:
            shutil.rmtree(FOLDER, ignore_errors=True)
    finally:
        os._exit(code)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", required=True, help="a folder of its own for the LibreOffice user profile")
    parser.add_argument("--soffice", default=shutil.which("soffice") or "soffice")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for LibreOffice to answer")
    parser.add_argument("--folder", help="removed when the office ends")
    args = parser.parse_args()
    global FOLDER
    FOLDER = args.folder
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), _die(0)), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: _die(0))

    from unoserver.converter import UnoConverter  # needs `uno`: fails here, not in the parent, when absent

    port = _free_port()
    office = subprocess.Popen([args.soffice, "--headless", "--invisible", "--nocrashreport", "--nodefault",
                               "--nologo", "--nofirststartwizard", "--norestore",
                               f"-env:UserInstallation=file://{os.path.abspath(args.profile)}",
                               f"--accept=socket,host=127.0.0.1,port={port},tcpNoDelay=1;urp;"
                               "StarOffice.ComponentContext"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    threading.Thread(target=lambda: (office.wait(), _die(3)), daemon=True).start()
    deadline = time.monotonic() + args.wait
    while True:
        try:
            converter = UnoConverter(interface="127.0.0.1", port=str(port))
            break
        except Exception:  # the office is still starting: its socket refuses (a UNO NoConnectException)
            if time.monotonic() > deadline:
                print("LibreOffice did not answer", file=sys.stderr)
                _die(4)
            time.sleep(0.1)

    def convert(inpath, indata, outpath, convert_to, timeout=60.0):
        # one document at a time in the office: the XML-RPC server answers one request after the other
        done, failure = threading.Event(), []

        def work():
            try:
                # indexes not refreshed: the same pages as `soffice --convert-to pdf` prints
                converter.convert(inpath=inpath, outpath=outpath, convert_to=convert_to, update_index=False)
            except BaseException as exc:  # told to the client as a Fault
                failure.append(exc)
            done.set()

        threading.Thread(target=work, daemon=True).start()
        if not done.wait(timeout):
            print(f"conversion of {inpath} over {timeout} s: office killed", file=sys.stderr)
            _die(5)
        if failure:
            raise failure[0]
        print(f"converted {inpath}", file=sys.stderr, flush=True)  # office.log: what was converted here
        return True

    # the server's threads may all ask at once: they wait in the listen queue, not refused
    xmlrpc.server.SimpleXMLRPCServer.request_queue_size = 128
    with xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), allow_none=True, logRequests=False) as rpc:
        rpc.register_function(convert, "convert")
        rpc.register_function(lambda: "baocao", "ping")
        if FOLDER:  # where another process of this user finds the office (toolkit.reports.office.running_office)
            with open(os.path.join(FOLDER, "address"), "w") as fh:
                fh.write(str(rpc.server_address[1]))
        print(f"READY {rpc.server_address[1]}", flush=True)
        rpc.serve_forever()


if __name__ == "__main__":
    main()
