"""Hostile and careless uploads for `POST /nop-tep` (tests/test_upload_corpus.py), each made from a unit's clean
workbook by rewriting its parts: far cells in a sheet the form reads and only in an extra sheet, a small file
holding a huge XML comment, an extra sheet of 850,000 rows, files that are no workbook at all under an .xlsx name.
Also how a test posts a file as the page's form does, reads the page's answer and samples the server's memory.
"""
from __future__ import annotations

import html
import io
import re
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

USED = "xl/worksheets/sheet3.xml"  # «Số liệu», read by the form
EXTRA = "xl/worksheets/sheet1.xml"  # «Hướng dẫn», read by no rule
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> "
       b"endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def _rezip(base: Path, change: dict[str, bytes]) -> bytes:
    """`base` with some parts replaced, as Excel zips it (deflate)."""
    out = io.BytesIO()
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change.get(info.filename, zin.read(info.filename)))
    return out.getvalue()


def _part(base: Path, name: str) -> bytes:
    with zipfile.ZipFile(base) as zf:
        return zf.read(name)


def far_cell(base: Path, part: str, ref: str) -> bytes:
    """One cell at `ref`, the last of `part`'s sheet data."""
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    xml = _part(base, part).replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'
                                    "</sheetData>".encode(), 1)
    return _rezip(base, {part: xml})


def huge_comment(base: Path, part: str, megabytes: int = 250, where: bytes = b"<sheetData") -> bytes:
    """An XML comment of `megabytes` in `part`, before `where`: text of low entropy (mostly "a", a "b" here and
    there), which deflate packs some 80 to 1 — a file of a few MB, under every zip-bomb ratio."""
    block = np.random.default_rng(7).random(1 << 20)  # one megabyte, repeated beyond deflate's 32 KB window
    body = np.where(block < 0.006, ord("b"), ord("a")).astype(np.uint8).tobytes() * megabytes
    xml = _part(base, part).replace(where, b"<!--" + body + b"-->" + where, 1)
    return _rezip(base, {part: xml})


def many_rows(base: Path, part: str, rows: int = 850_000) -> bytes:
    """`part`'s sheet data replaced by `rows` rows of one cell."""
    xml = _part(base, part)
    start, end = xml.index(b"<sheetData"), xml.index(b"</sheetData>")
    data = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(1, rows + 1)).encode()
    return _rezip(base, {part: xml[:start] + b"<sheetData>" + data + xml[end:]})


RECEIVED, REFUSED = "nhận", "từ chối"


def cases(base: Path) -> list[tuple[str, str, bytes, str]]:
    """(case, the name the browser sends, the bytes, RECEIVED or REFUSED). A fault in a part the form never
    reads (an extra sheet, a comment after a sheet's data, where calamine stops too) leaves the form's figures
    as they were: received, and kept without it."""
    comment = "chú thích XML 250 MB"
    return [
        ("ô XFD1048576 trong sheet «Số liệu»", "phieu.xlsx", far_cell(base, USED, "XFD1048576"), REFUSED),
        ("ô CV1048576 trong sheet «Số liệu»", "phieu.xlsx", far_cell(base, USED, "CV1048576"), REFUSED),
        ("ô XFD1048576 chỉ trong sheet thừa", "phieu.xlsx", far_cell(base, EXTRA, "XFD1048576"), RECEIVED),
        ("ô CV1048576 chỉ trong sheet thừa", "phieu.xlsx", far_cell(base, EXTRA, "CV1048576"), RECEIVED),
        (f"{comment} trong «Số liệu»", "phieu.xlsx", huge_comment(base, USED), REFUSED),
        (f"{comment} trong sheet thừa", "phieu.xlsx", huge_comment(base, EXTRA), RECEIVED),
        (f"{comment} sau dữ liệu «Số liệu»", "phieu.xlsx", huge_comment(base, USED, where=b"</worksheet>"),
         RECEIVED),
        (f"{comment} trong styles.xml", "phieu.xlsx", huge_comment(base, "xl/styles.xml", where=b"<numFmts"),
         REFUSED),
        (f"{comment} trong sharedStrings.xml", "phieu.xlsx",
         huge_comment(base, "xl/sharedStrings.xml", where=b"<si>"), REFUSED),
        (f"{comment} trong workbook.xml", "phieu.xlsx", huge_comment(base, "xl/workbook.xml", where=b"<sheets>"),
         REFUSED),
        ("sheet thừa 850.000 dòng", "phieu.xlsx", many_rows(base, EXTRA), RECEIVED),
        ("văn bản đặt tên .xlsx", "so_lieu.xlsx", "mã,giá trị\n1,2\n".encode(), REFUSED),
        ("PDF đặt tên bao_cao.xlsx", "bao_cao.xlsx", PDF, REFUSED),
    ]


def post_form(url: str, key: str, data: bytes, name: str = "phieu.xlsx") -> tuple[int, str]:
    """POST /nop-tep as the page's form does (multipart: khoa, tep); (HTTP status, page text)."""
    boundary = "----baocao-kiem-thu"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"khoa\"\r\n\r\n{key}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"tep\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url + "/nop-tep", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def answer(page: str) -> str:
    """What the upload page says of the file: the refusal, the receipt or the errors ("" when none of them)."""
    m = re.search(r'<p class="loi" id="(?:tu-choi|chua-nop)">(.*?)</p>|<p id="bien-nhan">(.*?)</p>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", m.group(1) or m.group(2))).split()) if m else ""


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


class Peak:
    """The highest resident memory (MB) of process `pid` while the block runs, sampled every 5 ms."""

    def __init__(self, pid: int):
        self.pid, self.mb, self._stop = pid, 0.0, threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.mb = max(self.mb, rss_mb(self.pid))
            time.sleep(0.005)

    def __enter__(self) -> "Peak":
        self.mb = rss_mb(self.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
