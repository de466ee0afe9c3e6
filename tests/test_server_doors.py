"""The server's doors, from outside (`baocao server chay` on 127.0.0.1, real sockets): a key never travels in an
address nor reaches a log, wrong keys are limited per address, a request h11 cannot parse is answered in
Vietnamese, and every start-up failure is one Vietnamese line and exit 2."""
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("fastapi")

from conftest import free_port, run_cli  # noqa: E402

from toolkit.server.keys import read_csv  # noqa: E402

WRONG = "11713-" + "x" * 32  # a key's shape, not a key the city issued


@pytest.fixture(scope="module")
def door(tmp_path_factory):
    """A server with the default limits (20 requests a minute), its log kept: (address, keys, log file)."""
    root = tmp_path_factory.mktemp("cua")
    done = run_cli("server", "cap-khoa", "--kho", str(root / "kho.sqlite"), "--ra", str(root / "khoa.csv"))
    assert done.returncode == 0, done.stderr
    keys = dict(read_csv(root / "khoa.csv"))
    port, log = free_port(), root / "may_chu.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "server", "chay", "--kho", str(root / "kho.sqlite"),
                                 "--thu-muc", str(root / "may_chu"), "--ky", "6T", "--nam", "2026", "--cong", str(port)],
                                stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/ping", timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
    try:
        yield {"url": url, "keys": keys, "log": log, "port": port, "root": root}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def upload(url: str, key: str, forwarded: str | None = None, query: str = "") -> tuple[int, str]:
    """POST /nop-tep as the page's form does, with a file that is not a workbook; (HTTP status, text)."""
    boundary = "----baocao-kiem-thu"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"khoa\"\r\n\r\n{key}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"tep\"; filename=\"phieu.xlsx\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\nkhong phai excel\r\n"
            f"--{boundary}--\r\n").encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "text/plain"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded  # as the HTTPS proxy on 127.0.0.1 says who sent the request
    req = urllib.request.Request(url + "/nop-tep" + query, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_key_in_an_address_is_refused_and_no_address_query_is_logged(door):
    key = next(iter(door["keys"].values()))
    for path in (f"/nop-tep?khoa={key}", f"/?KHOA={key}", f"/ping?x={key}"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(door["url"] + path, timeout=30)
        text = err.value.read().decode()
        assert err.value.code == 400 and "Khóa không được ghi trong địa chỉ" in text, (path, text)
    code, text = upload(door["url"], key, query=f"?khoa={key}")
    assert code == 400 and "Khóa không được ghi trong địa chỉ" in text, text
    urllib.request.urlopen(door["url"] + "/ping?lan=hai", timeout=30).close()
    time.sleep(0.5)
    logged = door["log"].read_text()
    assert "GET /ping HTTP/1.1" in logged and "lan=hai" not in logged, logged  # the log keeps no query at all
    assert key not in logged and key.split("-")[1] not in logged


def test_wrong_keys_are_limited_per_address(door):
    """After 20 wrong keys in a minute from one address, that address is refused even its right key (guessing
    teaches nothing); another address is served."""
    guesser, other = "203.0.113.5", "198.51.100.7"
    key = door["keys"]["11713"]
    answers = [upload(door["url"], WRONG, guesser) for _ in range(21)]
    assert all(c == 403 and "khóa không đúng" in t for c, t in answers[:20]), answers[:20]
    assert answers[20][0] == 429 and "quá 20 khóa sai trong một phút" in answers[20][1], answers[20]
    code, text = upload(door["url"], key, guesser)
    assert code == 429 and "khóa sai" in text, text
    code, text = upload(door["url"], key, other)
    assert code == 200 and "không phải tệp Excel" in text, text


def test_a_request_line_that_is_not_http_is_answered_in_vietnamese(door):
    with socket.create_connection(("127.0.0.1", door["port"]), timeout=10) as s:
        s.sendall(b"\x16\x03\x01 khong phai http\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    text = answer.decode("utf-8")
    assert text.startswith("HTTP/1.1 400") and "không đúng chuẩn HTTP" in text, text
    assert "Invalid HTTP request" not in text


def test_start_up_failures_are_one_vietnamese_line_and_exit_2(door, tmp_path):
    base = ["server", "chay", "--ky", "6T", "--nam", "2026"]
    (tmp_path / "tep").write_text("một tệp, không phải thư mục")
    cases = {
        "cổng đang dùng": [*base, "--kho", str(tmp_path / "kho.sqlite"), "--thu-muc", str(tmp_path / "mc"),
                           "--cong", str(door["port"])],
        "cổng đang dùng, 2 tiến trình": [*base, "--kho", str(tmp_path / "kho.sqlite"), "--thu-muc",
                                         str(tmp_path / "mc"), "--cong", str(door["port"]), "--tien-trinh", "2"],
        "thư mục của kho không tạo được": [*base, "--kho", str(tmp_path / "tep" / "kho.sqlite"), "--thu-muc",
                                           str(tmp_path / "mc"), "--cong", str(free_port())],
        "thư mục máy chủ không tạo được": [*base, "--kho", str(tmp_path / "kho.sqlite"), "--thu-muc",
                                           str(tmp_path / "tep" / "mc"), "--cong", str(free_port())],
        "thư mục máy chủ là một tệp": [*base, "--kho", str(tmp_path / "kho.sqlite"), "--thu-muc",
                                       str(tmp_path / "tep"), "--cong", str(free_port())],
        "địa chỉ không có": [*base, "--kho", str(tmp_path / "kho.sqlite"), "--thu-muc", str(tmp_path / "mc"),
                             "--dia-chi", "không.có.thật.invalid", "--cong", str(free_port())],
    }
    for case, argv in cases.items():
        done = run_cli(*argv)
        lines = done.stderr.strip().splitlines()
        print(f"{case}: exit {done.returncode}: {done.stderr.strip()}")
        assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("Lỗi: "), (case, done.stderr)
        assert "Errno" not in done.stderr and "address" not in done.stderr, (case, done.stderr)
    assert "cổng" in run_cli(*cases["cổng đang dùng"]).stderr
    said = run_cli(*cases["thư mục máy chủ là một tệp"]).stderr
    assert "không tạo được thư mục của máy chủ: đã có một tệp cùng tên (không phải thư mục)" in said, said
